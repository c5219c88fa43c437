"""The ReservationRepo port and its Transaction: the source of truth, held to one contract.

Every implementation must commit a unit of work whole or not at all (its events included),
lock seats in label order, keep a seat from being sold twice, count availability exactly as
``Seat.status_at`` does, page by keyset, and relay its outbox in order.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from cinema_core import (
    BackendUnavailable,
    BoxOffice,
    Event,
    ManualClock,
    Money,
    Reservation,
    ReservationStatus,
    Room,
    Sale,
    SeatLabel,
    SeatStatus,
    SeatsUnavailable,
    Session,
    SessionFilter,
)
from cinema_core.kernel.pagination import Cursor
from cinema_core.ports import OutboxBacklog, Transaction
from cinema_core.selling.reservations import hold_seats, priced_lines
from tests.concurrency import run_together

HOLD = timedelta(seconds=30)


class Boom(Exception):
    """What a unit of work raises to be rolled back."""


class NoSeatLock:
    """A seat lock that grants everything: leaves the store alone to judge every race."""

    def acquire(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: str,
        ttl: float,
        *,
        unless_waiting: bool = False,
    ) -> None:
        return None

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        return None

    def locked(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        return set()


def labels(*texts: str) -> tuple[SeatLabel, ...]:
    return tuple(sorted(SeatLabel.parse(text) for text in texts))


def rectangle(rows: int = 4, seats_per_row: int = 4, name: str = "Sala 1") -> Room:
    """A private room of the first API shape (never busy)."""
    return Room.rectangle(id=uuid4(), name=name, rows=rows, seats_per_row=seats_per_row)


def a_session(
    clock: ManualClock,
    *,
    room: Room | None = None,
    starts_in: timedelta = timedelta(days=1),
    rows: int = 4,
    **options: Any,
) -> Session:
    """A session (not stored) of ``room``, or of a private 4-seat-wide room of ``rows`` rows."""
    return Session.create(
        id=uuid4(),
        movie=options.pop("movie", "Filme X"),
        room=room or rectangle(rows),
        starts_at=clock.now() + starts_in,
        prices=options.pop("prices", Money(2500)),
        now=clock.now(),
        **options,
    )


def new_session(
    repo: Any,
    clock: ManualClock,
    *,
    room: Room | None = None,
    starts_in: timedelta = timedelta(days=1),
    rows: int = 4,
    **options: Any,
) -> Session:
    """A session stored through the port."""
    session = a_session(clock, room=room, starts_in=starts_in, rows=rows, **options)
    repo.atomic(lambda tx: tx.add_session(session))
    return session


def hold(
    repo: Any,
    session: Session,
    clock: ManualClock,
    *texts: str,
    user: str = "u1",
    until: datetime | None = None,
    tickets: dict[str, int] | None = None,
) -> Reservation:
    """A pending reservation holding the seats, stored the way the box office stores it."""
    wanted = labels(*texts)
    now = clock.now()
    reservation = Reservation(
        id=uuid4(),
        session_id=session.id,
        user_id=user,
        lines=priced_lines(session, wanted, tickets or {}),
        created_at=now,
        expires_at=until or now + HOLD,
    )

    def work(tx: Transaction) -> None:
        seats = tx.lock_seats(session.id, wanted)
        hold_seats(reservation.id, seats, reservation.lines, reservation.expires_at, now)
        tx.save_seats(session.id, seats)
        tx.add_reservation(reservation)

    repo.atomic(work)
    return reservation


def sell(repo: Any, reservation: Reservation, clock: ManualClock) -> Sale:
    """Pay the reservation now, the way the box office does."""
    now = clock.now()
    sale = Sale(
        id=uuid4(),
        reservation_id=reservation.id,
        session_id=reservation.session_id,
        user_id=reservation.user_id,
        lines=reservation.lines,
        paid_at=now,
    )

    def work(tx: Transaction) -> None:
        stored = tx.lock_reservation(reservation.id)
        assert stored is not None
        seats = tx.lock_seats(reservation.session_id, reservation.seats)
        stored.confirm(sale.id, seats, now)
        tx.save_seats(reservation.session_id, seats)
        tx.save_reservation(stored)
        tx.add_sale(sale)

    repo.atomic(work)
    return sale


def an_event(
    session: Session | None = None, type: str = "reservation.created", at: datetime | None = None
) -> Event:
    data = {"session_id": str(session.id) if session else str(uuid4()), "seats": ["A1"]}
    return Event(uuid4(), type, at or datetime.fromisoformat("2026-11-01T12:00:00+00:00"), data)


def all_events(repo: Any) -> list[Event]:
    """Every recorded event, oldest first."""
    return [
        e for _, e in reversed(repo.events(type=None, session_id=None, before=None, limit=1000))
    ]


def statuses(repo: Any, session: Session, now: datetime) -> dict[str, SeatStatus]:
    return {str(seat.label): seat.status_at(now) for seat in repo.seats(session.id)}


# -- units of work ---------------------------------------------------------------------------


def test_a_unit_of_work_commits_and_returns_its_result(repo: Any, clock: ManualClock) -> None:
    """What work wrote is there afterwards, and atomic returns what work returned."""
    session = a_session(clock, starts_in=timedelta(0), movie="M", prices=Money(1))
    assert repo.atomic(lambda tx: (tx.add_session(session), "done")[1]) == "done"
    assert repo.get_session(session.id) == session


def test_a_failed_unit_of_work_leaves_nothing_behind(repo: Any, clock: ManualClock) -> None:
    """If work raises, nothing it wrote stays (events included) and the error goes through."""
    session = a_session(clock, starts_in=timedelta(0), movie="M", prices=Money(1))

    def work(tx: Transaction) -> None:
        tx.add_session(session)
        tx.emit(an_event(session))
        raise Boom

    with pytest.raises(Boom):
        repo.atomic(work)
    assert repo.get_session(session.id) is None
    assert repo.seats(session.id) == []
    assert all_events(repo) == []
    assert repo.relay_outbox(lambda events: None, 100) == 0


def test_a_failed_unit_of_work_keeps_seats_and_reservations_as_they_were(
    repo: Any, clock: ManualClock
) -> None:
    """A hold, a status change and a sale made in a rolled-back unit are all undone."""
    session = new_session(repo, clock)
    reservation = hold(repo, session, clock, "A1")

    def work(tx: Transaction) -> None:
        stored = tx.lock_reservation(reservation.id)
        assert stored is not None
        seats = tx.lock_seats(session.id, labels("A1", "A2"))
        for seat in seats:
            seat.hold(reservation.id, clock.now() + HOLD, "full")
        tx.save_seats(session.id, seats)
        stored.status = ReservationStatus.CANCELLED
        tx.save_reservation(stored)
        tx.emit(an_event(session))
        raise Boom

    with pytest.raises(Boom):
        repo.atomic(work)
    assert statuses(repo, session, clock.now())["A2"] is SeatStatus.AVAILABLE
    stored = repo.get_reservation(reservation.id)
    assert stored is not None
    assert stored.status is ReservationStatus.PENDING
    assert all_events(repo) == []


def test_events_commit_with_the_unit_of_work(repo: Any, clock: ManualClock) -> None:
    """Emitted events are recorded when, and only when, their transaction commits."""
    session = new_session(repo, clock)
    first, second = an_event(session), an_event(session, "seat.released")
    repo.atomic(lambda tx: (tx.emit(first), tx.emit(second)))
    assert all_events(repo) == [first, second]


# -- sessions and seats ----------------------------------------------------------------------


def test_a_new_session_has_every_seat_available_in_label_order(
    repo: Any, clock: ManualClock
) -> None:
    """seats() lists each seat once, in label order, all free."""
    session = new_session(repo, clock, rows=5)
    seats = repo.seats(session.id)
    assert [str(s.label) for s in seats] == [f"{r}{n}" for r in "ABCDE" for n in range(1, 5)]
    assert all(s.status_at(clock.now()) is SeatStatus.AVAILABLE for s in seats)
    assert repo.get_session(session.id) == session


def test_unknown_ids_read_as_nothing(repo: Any) -> None:
    """Unknown sessions, reservations and sales are None; an unknown session has no seats."""
    assert repo.get_session(uuid4()) is None
    assert repo.seats(uuid4()) == []
    assert repo.get_reservation(uuid4()) is None
    assert repo.get_sale(uuid4()) is None
    assert repo.atomic(lambda tx: tx.lock_reservation(uuid4())) is None


def test_lock_seats_returns_existing_seats_in_label_order(repo: Any, clock: ManualClock) -> None:
    """Whatever the request's order, seats come back sorted; unknown labels are left out."""
    session = new_session(repo, clock)
    found = repo.atomic(lambda tx: tx.lock_seats(session.id, labels("B1", "Z9", "A2", "A1", "E1")))
    assert [str(seat.label) for seat in found] == ["A1", "A2", "B1"]
    assert repo.atomic(lambda tx: tx.lock_seats(uuid4(), labels("A1"))) == []


def test_a_unit_of_work_reads_its_own_writes(repo: Any, clock: ManualClock) -> None:
    """A seat saved earlier in the transaction reads back changed within it."""
    session = new_session(repo, clock)
    owner = uuid4()

    def work(tx: Transaction) -> list[Any]:
        seats = tx.lock_seats(session.id, labels("A1"))
        seats[0].hold(owner, clock.now() + HOLD, "full")
        tx.save_seats(session.id, seats)
        return tx.lock_seats(session.id, labels("A1"))

    (again,) = repo.atomic(work)
    assert again.held_by == owner


def test_seat_holds_and_sales_are_stored_exactly(repo: Any, clock: ManualClock) -> None:
    """Holder, hold end (to the microsecond) and sale id survive the round trip."""
    session = new_session(repo, clock)
    reservation = hold(
        repo, session, clock, "A1", "B3", until=clock.now() + timedelta(seconds=1.234567)
    )
    seats = {str(s.label): s for s in repo.seats(session.id)}
    assert seats["A1"].held_by == seats["B3"].held_by == reservation.id
    assert seats["A1"].hold_expires_at == reservation.expires_at
    assert seats["A2"].held_by is None
    sale = sell(repo, reservation, clock)
    seats = {str(s.label): s for s in repo.seats(session.id)}
    assert seats["A1"].sale_id == seats["B3"].sale_id == sale.id


def test_reservations_are_stored_exactly(repo: Any, clock: ManualClock) -> None:
    """A reservation reads back equal, and its status and sale id changes are saved."""
    session = new_session(repo, clock)
    reservation = hold(repo, session, clock, "C2", "A4", user="user-ü")
    assert repo.get_reservation(reservation.id) == reservation
    assert repo.atomic(lambda tx: tx.lock_reservation(reservation.id)) == reservation
    sale = sell(repo, reservation, clock)
    stored = repo.get_reservation(reservation.id)
    assert stored is not None
    assert (stored.status, stored.sale_id) == (ReservationStatus.CONFIRMED, sale.id)
    assert repo.get_sale(sale.id) == sale
    assert repo.atomic(lambda tx: tx.get_sale(sale.id)) == sale


def test_a_seat_is_never_sold_twice(repo: Any, clock: ManualClock) -> None:
    """A second sale naming a sold seat is refused by the store itself, and rolled back."""
    session = new_session(repo, clock)
    first = hold(repo, session, clock, "A1")
    sell(repo, first, clock)
    second = hold(repo, session, clock, "A2", user="u2")
    intruder = Sale(
        id=uuid4(),
        reservation_id=second.id,
        session_id=session.id,
        user_id="u2",
        lines=priced_lines(session, labels("A1", "A2"), {}),
        paid_at=clock.now(),
    )

    def work(tx: Transaction) -> None:
        tx.emit(an_event(session))
        tx.add_sale(intruder)

    with pytest.raises(SeatsUnavailable):
        repo.atomic(work)
    assert repo.get_sale(intruder.id) is None
    assert len(all_events(repo)) == 0
    assert repo.purchases("u2", None, 10) == []


# -- what is due and what is free -------------------------------------------------------------


def test_lapsed_pending_reservations_are_listed_for_expiry(repo: Any, clock: ManualClock) -> None:
    """Pending reservations at or past expires_at are due; running, paid and ended ones are not."""
    session = new_session(repo, clock)
    now = clock.now()
    lapsed = hold(repo, session, clock, "A1", until=now - timedelta(seconds=5))
    exactly = hold(repo, session, clock, "A2", until=now)
    hold(repo, session, clock, "A3", until=now + timedelta(microseconds=1))
    paid = hold(repo, session, clock, "A4", until=now + timedelta(seconds=1))
    sell(repo, paid, clock)

    def cancel(tx: Transaction) -> None:
        stored = tx.lock_reservation(cancelled.id)
        assert stored is not None
        stored.status = ReservationStatus.CANCELLED
        tx.save_reservation(stored)

    cancelled = hold(repo, session, clock, "B1", until=now + timedelta(seconds=1))
    repo.atomic(cancel)
    clock.advance(1)  # paid and cancelled have lapsed by now too
    due = repo.atomic(lambda tx: tx.lock_lapsed(clock.now() - timedelta(seconds=1), 10))
    assert {r.id for r in due} == {lapsed.id, exactly.id}
    assert len(repo.atomic(lambda tx: tx.lock_lapsed(clock.now() - timedelta(seconds=1), 1))) == 1


def test_available_counts_agree_with_seat_status(repo: Any, clock: ManualClock) -> None:
    """Free and lapsed count as available; held (until, not at, expiry) and sold do not."""
    session = new_session(repo, clock)
    other = new_session(repo, clock)
    now = clock.now()
    hold(repo, session, clock, "A1", until=now + timedelta(seconds=10))
    hold(repo, session, clock, "A2", until=now - timedelta(seconds=10))
    hold(repo, session, clock, "A3", until=now)
    hold(repo, session, clock, "A4", until=now + timedelta(microseconds=1))
    sell(repo, hold(repo, session, clock, "B1", "B2"), clock)
    hold(repo, other, clock, "A1")
    for instant in (now, now + timedelta(microseconds=1), now + timedelta(seconds=11)):
        counts = repo.available_counts([session.id, other.id], instant)
        for s in (session, other):
            expected = sum(
                1 for seat in repo.seats(s.id) if seat.status_at(instant) is SeatStatus.AVAILABLE
            )
            assert counts[s.id] == expected, instant
    assert repo.available_counts([session.id], now) == {session.id: 12}


def test_ticket_counts_agree_with_the_quota_rule(repo: Any, clock: ManualClock) -> None:
    """Per ticket code, seats sold or held until (not at) expiry count; lapsed holds do not;
    the counts are those quota_usage finds under its lock."""
    session = new_session(repo, clock)
    other = new_session(repo, clock)
    now = clock.now()
    hold(repo, session, clock, "A1", "A2", tickets={"half": 2}, until=now + timedelta(seconds=10))
    hold(repo, session, clock, "A3", tickets={"half": 1}, until=now)
    hold(repo, session, clock, "A4", tickets={"senior": 1})
    sell(repo, hold(repo, session, clock, "B1", "B2", tickets={"half": 1}), clock)
    for instant in (now, now + timedelta(seconds=11)):
        counts = repo.ticket_counts([session.id, other.id], instant)
        expected = {
            code: sum(1 for seat in repo.seats(session.id) if seat.counts_for(code, instant))
            for code in ("full", "half", "senior")
        }
        assert counts[session.id] == {c: n for c, n in expected.items() if n}, instant
        assert counts.get(other.id, {}) == {}
        usage = repo.atomic(lambda tx, at=instant: tx.quota_usage(session.id, ["half"], at))
        assert usage.get("half", 0) == counts[session.id].get("half", 0)
    assert repo.ticket_counts([session.id], now)[session.id] == {"full": 1, "half": 3, "senior": 1}
    assert repo.ticket_counts([], now) == {}


# -- listings --------------------------------------------------------------------------------


def test_sessions_are_listed_by_start_then_id_after_the_cursor(
    repo: Any, clock: ManualClock
) -> None:
    """Ordered by (starts_at, id), ties included; a cursor excludes itself and all before it."""
    made = [new_session(repo, clock, starts_in=timedelta(days=1 + i % 3)) for i in range(7)]
    expected = sorted(made, key=lambda s: (s.starts_at, s.id))
    every = SessionFilter()
    assert repo.list_sessions(None, 100, every) == expected
    assert repo.list_sessions(None, 3, every) == expected[:3]
    cursor = Cursor(expected[2].starts_at, expected[2].id)
    assert repo.list_sessions(cursor, 3, every) == expected[3:6]
    assert repo.list_sessions(Cursor(expected[-1].starts_at, expected[-1].id), 3, every) == []


def test_purchases_are_newest_first_before_the_cursor(repo: Any, clock: ManualClock) -> None:
    """A user's sales by (paid_at, id) descending, strictly before the cursor; others' excluded."""
    session = new_session(repo, clock)
    sales = []
    for i, label in enumerate(["A1", "A2", "A3", "A4", "B1"]):
        sales.append(sell(repo, hold(repo, session, clock, label), clock))
        if i % 2:
            clock.advance(1)  # pairs share an instant: the id breaks the tie
    sell(repo, hold(repo, session, clock, "C1", user="u2"), clock)
    expected = sorted(sales, key=lambda s: (s.paid_at, s.id), reverse=True)
    assert repo.purchases("u1", None, 100) == expected
    cursor = Cursor(expected[1].paid_at, expected[1].id)
    assert repo.purchases("u1", cursor, 2) == expected[2:4]
    assert repo.purchases("nobody", None, 10) == []


def test_events_are_listed_newest_first_with_filters(repo: Any, clock: ManualClock) -> None:
    """The audit trail: newest first, by type, by session, before a sequence number, limited."""
    one, two = new_session(repo, clock), new_session(repo, clock)
    made = [
        an_event(one, "reservation.created"),
        an_event(two, "reservation.created"),
        an_event(one, "seat.released"),
        an_event(one, "reservation.created"),
    ]
    for event in made:
        repo.atomic(lambda tx, e=event: tx.emit(e))
    listed = repo.events(type=None, session_id=None, before=None, limit=10)
    assert [e for _, e in listed] == made[::-1]
    seqs = [seq for seq, _ in listed]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == 4
    by_type = repo.events(type="reservation.created", session_id=one.id, before=None, limit=10)
    assert [e for _, e in by_type] == [made[3], made[0]]
    assert [e for _, e in repo.events(type=None, session_id=two.id, before=None, limit=10)] == [
        made[1]
    ]
    older = repo.events(type=None, session_id=None, before=seqs[1], limit=2)
    assert [e for _, e in older] == [made[1], made[0]]
    assert repo.events(type="payment.confirmed", session_id=None, before=None, limit=10) == []


def test_the_audit_trail_is_the_published_events(repo: Any, clock: ManualClock) -> None:
    """``published_only`` lists what the relay has published, with the same filters and
    cursors: the events still waiting in the outbox are not in the audit trail yet."""
    session = new_session(repo, clock)
    repo.relay_outbox(lambda events: None, 500)  # the session's own events
    first = [an_event(session, "reservation.created"), an_event(session, "seat.released")]
    for event in first:
        repo.atomic(lambda tx, e=event: tx.emit(e))
    repo.relay_outbox(lambda events: None, 500)
    waiting = an_event(session, "reservation.created")
    repo.atomic(lambda tx: tx.emit(waiting))

    def trail(**filters: Any) -> list[Any]:
        query = {"type": None, "session_id": session.id, "before": None, "limit": 10} | filters
        return [e for _, e in repo.events(published_only=True, **query)]

    assert trail() == first[::-1]
    assert trail(type="reservation.created") == [first[0]]
    newest = repo.events(type=None, session_id=session.id, before=None, limit=1)
    assert [e for _, e in newest] == [waiting]
    assert trail(before=newest[0][0]) == first[::-1]
    repo.relay_outbox(lambda events: None, 500)
    assert trail() == [waiting, *first[::-1]]


# -- the outbox ------------------------------------------------------------------------------


def test_relay_hands_out_events_in_order_once(repo: Any, clock: ManualClock) -> None:
    """Oldest first, in batches of at most limit, and each event only once."""
    session = new_session(repo, clock)
    made = [an_event(session, at=clock.advance(1)) for _ in range(5)]
    for event in made:
        repo.atomic(lambda tx, e=event: tx.emit(e))
    batches: list[list[Event]] = []
    assert repo.relay_outbox(lambda events: batches.append(list(events)), 3) == 3
    assert repo.relay_outbox(lambda events: batches.append(list(events)), 3) == 2
    assert repo.relay_outbox(lambda events: batches.append(list(events)), 3) == 0
    assert [len(b) for b in batches] == [3, 2]
    assert [e for batch in batches for e in batch] == made


def test_the_outbox_backlog_counts_what_waits_and_dates_the_oldest(
    repo: Any, clock: ManualClock
) -> None:
    """What GET /metrics reports: the unpublished events and when the oldest occurred."""
    session = new_session(repo, clock)
    while repo.relay_outbox(lambda events: None, 100):
        pass
    assert repo.outbox_backlog() == OutboxBacklog(0, None)
    made = [an_event(session, at=clock.advance(1)) for _ in range(3)]
    for event in made:
        repo.atomic(lambda tx, e=event: tx.emit(e))
    assert repo.outbox_backlog() == OutboxBacklog(3, made[0].occurred_at)
    repo.relay_outbox(lambda events: None, 2)
    assert repo.outbox_backlog() == OutboxBacklog(1, made[2].occurred_at)


def test_events_stay_in_the_outbox_when_publishing_fails(repo: Any, clock: ManualClock) -> None:
    """If publish raises, nothing is marked sent; the next relay sends the same events, in order."""
    session = new_session(repo, clock)
    made = [an_event(session), an_event(session, "seat.released")]
    repo.atomic(lambda tx: [tx.emit(e) for e in made])

    def down(events: Sequence[Event]) -> None:
        raise BackendUnavailable("broker down")

    with pytest.raises(BackendUnavailable):
        repo.relay_outbox(down, 10)
    sent: list[Event] = []
    assert repo.relay_outbox(sent.extend, 10) == 2
    assert sent == made


def test_concurrent_relays_never_send_an_event_twice(repo: Any, clock: ManualClock) -> None:
    """Relays running side by side share the outbox: every event goes out exactly once."""
    session = new_session(repo, clock)
    made = [an_event(session) for _ in range(30)]
    repo.atomic(lambda tx: [tx.emit(e) for e in made])
    sent: list[Event] = []
    lock = threading.Lock()

    def publish(events: Sequence[Event]) -> None:
        with lock:
            sent.extend(events)

    def relay(_: int) -> int:
        total = 0
        while moved := repo.relay_outbox(publish, 4):
            total += moved
        return total

    assert sum(run_together(4, relay)) == 30
    assert sorted(e.id for e in sent) == sorted(e.id for e in made)


# -- concurrency -----------------------------------------------------------------------------


def test_concurrent_units_of_work_never_lose_an_update(repo: Any, clock: ManualClock) -> None:
    """Threads each pushing one seat's hold end forward, many times: every push counts."""
    session = new_session(repo, clock)
    start = clock.now()
    owner = uuid4()

    def setup(tx: Transaction) -> None:
        (seat,) = tx.lock_seats(session.id, labels("A1"))
        seat.hold(owner, start, "full")
        tx.save_seats(session.id, [seat])

    repo.atomic(setup)

    def push(tx: Transaction) -> None:
        (seat,) = tx.lock_seats(session.id, labels("A1"))
        assert seat.hold_expires_at is not None
        seat.hold(owner, seat.hold_expires_at + timedelta(seconds=1), "full")
        tx.save_seats(session.id, [seat])

    def worker(_: int) -> None:
        for _ in range(10):
            repo.atomic(push)

    results = run_together(6, worker)
    assert results == [None] * 6
    (seat,) = [s for s in repo.seats(session.id) if str(s.label) == "A1"]
    assert seat.hold_expires_at == start + timedelta(seconds=60)


def test_the_store_alone_lets_one_of_many_buyers_hold_a_seat(repo: Any, clock: ManualClock) -> None:
    """With the seat lock out of the way, concurrent claims on one seat: one winner."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    session = new_session(repo, clock)
    results = run_together(10, lambda i: box.reserve(f"u{i}", session.id, ["B2", "B3"]))
    winners = [r for r in results if isinstance(r, Reservation)]
    assert len(winners) == 1
    assert all(isinstance(r, SeatsUnavailable) for r in results if r not in winners)


def test_crossed_claims_neither_deadlock_nor_both_win(repo: Any, clock: ManualClock) -> None:
    """[A1, A3] against [A3, A1], round after round: one winner, no deadlock error."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    orders = (["A1", "A3"], ["A3", "A1"])
    for round_ in range(10):
        session = new_session(repo, clock)

        def claim(i: int, session: Session = session) -> Any:
            return box.reserve(f"u{i}", session.id, orders[i])

        results = run_together(2, claim, timeout=10)
        assert sum(isinstance(r, Reservation) for r in results) == 1, (round_, results)
        assert sum(isinstance(r, SeatsUnavailable) for r in results) == 1, (round_, results)


def test_payment_and_sweep_racing_end_in_one_outcome(repo: Any, clock: ManualClock) -> None:
    """Paying while sweepers expire lapsed holds of other reservations: nothing is lost."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    session = new_session(repo, clock)
    lapsing = [box.reserve("u1", session.id, [label]) for label in ["A1", "A2", "A3"]]
    clock.advance(20)
    paying = box.reserve("u2", session.id, ["B1"])
    clock.advance(15)  # the first three have lapsed, the last has not

    def act(i: int) -> Any:
        return box.pay(paying.id, "u2") if i == 0 else box.expire_due()

    results = run_together(3, act)
    assert results[0][1] is True
    assert results[1] + results[2] == len(lapsing)
    types = [e.type for e in all_events(repo)]
    assert types.count("reservation.expired") == 3
    assert types.count("payment.confirmed") == 1


def test_concurrent_sweepers_expire_each_reservation_once(repo: Any, clock: ManualClock) -> None:
    """Sweepers side by side skip what another holds: one expiry per lapsed reservation."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    session = new_session(repo, clock)
    for label in ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4"]:
        box.reserve("u1", session.id, [label])
    clock.advance(30)
    assert sum(run_together(4, lambda _: box.expire_due())) == 8
    types = [e.type for e in all_events(repo)]
    assert types.count("reservation.expired") == types.count("seat.released") == 8
