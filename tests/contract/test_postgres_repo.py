"""The PostgreSQL store beyond the shared port suite: one-statement seat work, the availability
rule written in SQL agreeing with Seat.status_at, row locks, retries, the outbox relay."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, rows
from adapters.postgres.sql import reservations
from adapters.postgres.sql import seats as seat_sql
from adapters.postgres.transaction import PostgresTransaction
from cinema_core import (
    BoxOffice,
    CinemaError,
    Event,
    ManualClock,
    Money,
    Reservation,
    ReservationExpired,
    ReservationStatus,
    Room,
    Sale,
    Seat,
    SeatLabel,
    SeatMap,
    SeatStatus,
    SeatsUnavailable,
    Session,
    SessionFilter,
)
from cinema_core.kernel.pagination import Cursor
from cinema_core.memory import InMemorySeatLock
from cinema_core.selling.reservations import priced_lines
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres

A1, A2, A3, A4 = (SeatLabel("A", n) for n in range(1, 5))
B1, B2, B3, B4 = (SeatLabel("B", n) for n in range(1, 5))


@pytest.fixture
def repo(clean_postgres_url: str) -> Iterator[PostgresReservationRepo]:
    repo = PostgresReservationRepo(clean_postgres_url)
    yield repo
    repo.close()


def add_session(
    repo: PostgresReservationRepo,
    clock: ManualClock,
    *,
    rows: int = 4,
    seats_per_row: int = 4,
    starts_in: timedelta = timedelta(days=1),
) -> Session:
    session = Session.create(
        id=uuid4(),
        movie="Filme X",
        room=Room.rectangle(id=uuid4(), name="Sala 1", rows=rows, seats_per_row=seats_per_row),
        starts_at=clock.now() + starts_in,
        prices=Money.parse("25.00"),
        now=clock.now(),
    )
    repo.atomic(lambda tx: tx.add_session(session))
    return session


def reservation(
    session: Session, clock: ManualClock, *labels: SeatLabel, user: str = "u1", ttl: float = 30
) -> Reservation:
    return Reservation(
        id=uuid4(),
        session_id=session.id,
        user_id=user,
        lines=priced_lines(session, tuple(sorted(labels)), {}),
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(seconds=ttl),
    )


def sale_of(held: Reservation, clock: ManualClock) -> Sale:
    return Sale(
        id=uuid4(),
        reservation_id=held.id,
        session_id=held.session_id,
        user_id=held.user_id,
        lines=held.lines,
        paid_at=clock.now(),
    )


def event(session: Session | None, type: str = "reservation.created") -> Event:
    data: dict[str, Any] = {"session_id": str(session.id)} if session else {}
    return Event(uuid4(), type, ManualClock().now(), data)


class StatementCounter:
    """Counts the SQL statements an engine sends while active."""

    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine
        self.statements: list[str] = []

    def __enter__(self) -> StatementCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)


# -- sessions and seats ------------------------------------------------------------------------


def test_a_session_comes_back_as_stored_with_every_seat_available(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """get_session returns the session; its seats exist, in label order, all available."""
    session = add_session(repo, clock, rows=2, seats_per_row=8)
    assert repo.get_session(session.id) == session
    seats = repo.seats(session.id)
    assert [seat.label for seat in seats] == session.labels()
    assert all(seat.status_at(clock.now()) is SeatStatus.AVAILABLE for seat in seats)
    assert repo.available_counts([session.id, uuid4()], clock.now()) == {session.id: 16}
    assert repo.get_session(uuid4()) is None
    assert repo.seats(uuid4()) == []


def test_a_2600_seat_room_is_created_and_read_in_one_statement_each(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """All 2,600 seats are inserted by one statement and read back by one."""
    with StatementCounter(repo.engine) as created:
        session = add_session(repo, clock, rows=26, seats_per_row=100)
    assert len(created.statements) == 3  # its private room, the session, then every seat
    with StatementCounter(repo.engine) as read:
        seats = repo.seats(session.id)
    assert len(read.statements) == 1
    assert len(seats) == 2600
    assert (seats[0].label, seats[-1].label) == (SeatLabel("A", 1), SeatLabel("Z", 100))


def test_sessions_are_listed_by_start_then_id_strictly_after_the_cursor(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Keyset pages over (starts_at, id) visit every session once, ties broken by id."""
    made = [add_session(repo, clock, starts_in=timedelta(days=1 + i // 2)) for i in range(5)]
    expected = sorted(made, key=lambda s: (s.starts_at, s.id))
    seen: list[Session] = []
    after: Cursor | None = None
    while page := repo.list_sessions(after, 2, SessionFilter()):
        seen.extend(page)
        after = Cursor(page[-1].starts_at, page[-1].id)
    assert seen == expected


def test_availability_in_sql_agrees_with_seat_status_at(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """The rule is written twice (SQL count, Python Seat.status_at): they agree on free, held,
    lapsed-held, held-until-exactly-now and sold seats, at instants on either side."""
    session = add_session(repo, clock)
    now = clock.now()
    holder, sale = uuid4(), uuid4()

    def arrange(tx: PostgresTransaction) -> None:
        seats = {seat.label: seat for seat in tx.lock_seats(session.id, session.labels())}
        seats[A2].hold(holder, now + timedelta(seconds=10), "full")  # held
        seats[A3].hold(holder, now - timedelta(seconds=1), "full")  # lapsed, not cleaned up
        seats[A4].hold(holder, now, "full")  # lapses exactly now
        seats[B1].hold(holder, now + timedelta(seconds=10), "full")
        seats[B1].sell(sale)  # sold
        seats[B2].sale_id = sale  # sold with a hold time left behind
        seats[B2].held_by, seats[B2].hold_expires_at = holder, now + timedelta(seconds=20)
        seats[B3].held_by = holder  # a holder without an expiry is no hold
        tx.save_seats(session.id, list(seats.values()))

    repo.atomic(arrange)
    for offset in (-20, -1, 0, 5, 10, 20, 30):
        at = now + timedelta(seconds=offset)
        in_python = sum(
            1 for seat in repo.seats(session.id) if seat.status_at(at) is SeatStatus.AVAILABLE
        )
        assert repo.available_counts([session.id], at) == {session.id: in_python}, offset
    assert repo.available_counts([session.id], now) == {session.id: 16 - 3}


def test_the_quota_rule_in_sql_agrees_with_seat_counts_for(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """The quota rule is written twice (SQL count, Python Seat.counts_for): they agree on held,
    lapsed, lapsing-exactly-now and sold seats of each type, a holder without an expiry and a
    ticket left without a claim, at instants on either side."""
    session = add_session(repo, clock)
    now = clock.now()
    holder, sale = uuid4(), uuid4()

    def arrange(tx: PostgresTransaction) -> None:
        seats = {seat.label: seat for seat in tx.lock_seats(session.id, session.labels())}
        seats[A1].hold(holder, now + timedelta(seconds=10), "half")  # held
        seats[A2].hold(holder, now - timedelta(seconds=1), "half")  # lapsed, not cleaned up
        seats[A3].hold(holder, now, "half")  # lapses exactly now
        seats[A4].hold(holder, now + timedelta(seconds=20), "full")  # another type
        seats[B1].hold(holder, now + timedelta(seconds=10), "half")
        seats[B1].sell(sale)  # sold
        seats[B2].sale_id, seats[B2].ticket = sale, "full"  # sold, another type
        seats[B2].held_by, seats[B2].hold_expires_at = holder, now - timedelta(seconds=5)
        seats[B3].held_by, seats[B3].ticket = holder, "half"  # a holder without an expiry
        seats[B4].ticket = "half"  # a ticket left behind, with no hold and no sale
        tx.save_seats(session.id, list(seats.values()))

    repo.atomic(arrange)
    assert {s.label: s.ticket for s in repo.seats(session.id)}[B4] == "half"
    for offset in (-20, -1, 0, 5, 10, 20, 30):
        instant = now + timedelta(seconds=offset)
        in_python = {
            ticket: sum(1 for seat in repo.seats(session.id) if seat.counts_for(ticket, instant))
            for ticket in ("half", "full", "kid")
        }
        in_sql = repo.atomic(
            lambda tx, at=instant: tx.quota_usage(session.id, ["half", "full", "kid"], at)
        )
        assert in_sql == in_python, offset
    assert repo.atomic(lambda tx: tx.quota_usage(session.id, ["half"], now)) == {"half": 2}


def test_quota_takers_queue_and_each_counts_what_the_one_before_committed(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """quota_usage locks the session's quotas: a second caller waits for the first to commit,
    and its count (a statement of its own, after the lock) includes the first one's hold."""
    session = add_session(repo, clock)
    first_counted = threading.Event()
    owner = uuid4()

    def first(tx: PostgresTransaction) -> dict[str, int]:
        used = tx.quota_usage(session.id, ["half"], clock.now())
        first_counted.set()
        time.sleep(0.3)
        seats = tx.lock_seats(session.id, [A1])
        seats[0].hold(owner, clock.now() + timedelta(seconds=30), "half")
        tx.save_seats(session.id, seats)
        return used

    def second(tx: PostgresTransaction) -> tuple[dict[str, int], float]:
        assert first_counted.wait(5)
        started = time.monotonic()
        used = tx.quota_usage(session.id, ["half"], clock.now())
        return used, time.monotonic() - started

    used_first, (used_second, waited) = run_together(
        2, lambda i: repo.atomic(first if i == 0 else second)
    )
    assert used_first == {"half": 0}
    assert used_second == {"half": 1}
    assert waited >= 0.2


def test_the_quota_lock_lets_reservations_and_sales_of_the_session_through(
    repo: PostgresReservationRepo, clock: ManualClock, clean_postgres_url: str
) -> None:
    """FOR NO KEY UPDATE on the session does not conflict with the FOR KEY SHARE its
    reservations' and sales' foreign keys take: they go on while the quota lock is held (a
    FOR UPDATE lock, shown last, would have queued them)."""
    session = add_session(repo, clock)
    locked, done = threading.Event(), threading.Event()

    def quota_holder(tx: PostgresTransaction) -> bool:
        tx.quota_usage(session.id, ["half"], clock.now())
        locked.set()
        return done.wait(5)

    def buyer(tx: PostgresTransaction) -> None:
        assert locked.wait(5)
        try:
            held = reservation(session, clock, A2)
            tx.add_reservation(held)
            tx.add_sale(sale_of(held, clock))
            tx.flush()
        finally:
            done.set()

    others_went_on, _ = run_together(2, lambda i: repo.atomic(quota_holder if i == 0 else buyer))
    assert others_went_on
    assert len(repo.purchases("u1", None, 10)) == 1

    engine = sa.create_engine(clean_postgres_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as locker, engine.connect() as inserter:
            locker.execute(
                sa.text("SELECT 1 FROM sessions WHERE id = :id FOR UPDATE"), {"id": session.id}
            )
            inserter.execute(sa.text("SET lock_timeout = '100ms'"))
            values = rows.reservation_values(reservation(session, clock, A3))
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                inserter.exec_driver_sql(reservations.ADD_RESERVATION, values)
    finally:
        engine.dispose()


def test_lock_seats_returns_the_existing_seats_in_label_order(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Unknown labels are left out; order is by label whatever order they were asked in."""
    session = add_session(repo, clock)
    found = repo.atomic(lambda tx: tx.lock_seats(session.id, [B2, SeatLabel("Z", 9), A1]))
    assert [seat.label for seat in found] == [A1, B2]


def test_save_seats_writes_holds_and_releases_in_one_statement(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Holds written and then every hold released, each by one UPDATE."""
    session = add_session(repo, clock)
    owner, until = uuid4(), clock.now() + timedelta(seconds=30)

    def hold(tx: PostgresTransaction) -> None:
        seats = tx.lock_seats(session.id, [A1, A2, A3])
        for seat in seats:
            seat.hold(owner, until, "half")
        tx.save_seats(session.id, seats)

    with StatementCounter(repo.engine) as sent:
        repo.atomic(hold)
    assert [sql.split()[0] for sql in sent.statements] == ["SELECT", "UPDATE"]
    stored = {s.label: (s.held_by, s.hold_expires_at, s.ticket) for s in repo.seats(session.id)}
    assert stored[A2] == (owner, until, "half")

    def release(tx: PostgresTransaction) -> None:
        seats = tx.lock_seats(session.id, [A1, A2, A3])
        for seat in seats:
            seat.release(owner)
        tx.save_seats(session.id, seats)

    repo.atomic(release)
    assert all(
        s.held_by is None and s.hold_expires_at is None and s.ticket is None
        for s in repo.seats(session.id)
    )


def test_a_reservation_is_two_statements_and_its_payment_three(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Each statement is a round trip: the session's row and the seats locked, then the hold,
    the reservation and its event in one; the session's row, the reservation and its seats
    locked in one, the sale with the seats and the reservation, then the tickets with the event
    (BEGIN and COMMIT aside)."""
    session = add_session(repo, clock)
    box = BoxOffice(repo=repo, seat_lock=InMemorySeatLock(), clock=clock)
    box.seat_map(session.id)  # the session read once, as every process keeps it
    with StatementCounter(repo.engine) as reserving:
        held = box.reserve("u1", session.id, ["A1", "A2"])
    with StatementCounter(repo.engine) as paying:
        box.pay(held.id, "u1")
    assert len(reserving.statements) == 2
    assert len(paying.statements) == 3
    assert box.seat_map(session.id).count(SeatStatus.SOLD) == 2
    assert len(repo.tickets(box.reservation(held.id, "u1").sale_id)) == 2


def test_a_seat_read_hands_back_the_same_seats_until_another_process_changes_one(
    repo: PostgresReservationRepo, clean_postgres_url: str, clock: ManualClock
) -> None:
    """What lets every process serve its last seat map: the same list while the stored seats
    are unchanged, and a fresh one as soon as any process (another repo here) changes one,
    whether it touches a free seat or changes one already held."""
    session = add_session(repo, clock)
    first = repo.seats(session.id)
    assert repo.seats(session.id) is first
    other = PostgresReservationRepo(clean_postgres_url)
    owner, until = uuid4(), clock.now() + timedelta(seconds=30)

    def change(tx: PostgresTransaction, ticket: str) -> None:
        (seat,) = tx.lock_seats(session.id, [A2])
        seat.hold(owner, until, ticket)
        tx.save_seats(session.id, [seat])

    try:
        other.atomic(lambda tx: change(tx, "full"))
        held = repo.seats(session.id)
        assert held is not first
        assert {s.label: s.ticket for s in held if s.held_by} == {A2: "full"}
        assert repo.seats(session.id) is held

        other.atomic(lambda tx: change(tx, "half"))  # the same seat, still held
        again = repo.seats(session.id)
    finally:
        other.close()
    assert again is not held
    assert {s.label: s.ticket for s in again if s.held_by} == {A2: "half"}


# The control run's rule: only the writers that began after the last read's snapshot, which
# is what a change counter or a "changed since" timestamp gives. It misses a write whose
# transaction began before the read and committed after it.
NEWER_WRITERS_ONLY = seat_sql.CHANGED_SEATS.replace(
    "AND NOT pg_visible_in_snapshot(s.changed_by::text::xid8, %(since)s::pg_snapshot)", ""
).replace("pg_snapshot_xmin", "pg_snapshot_xmax")


@pytest.mark.parametrize("rule", ["visible in the snapshot", "control: newer writers only"])
def test_a_seat_read_sees_a_write_that_began_before_the_last_read_and_committed_after(
    repo: PostgresReservationRepo,
    clean_postgres_url: str,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    rule: str,
) -> None:
    """A delta read finds every write since the last read, whatever order the writers began
    and committed in: a hold written before a read but committed after it (another writer
    having begun and committed in between) is in the next read. The control run, reading
    only the writers newer than the last snapshot, misses it."""
    if rule.startswith("control"):
        monkeypatch.setattr(seat_sql, "CHANGED_SEATS", NEWER_WRITERS_ONLY)
    session = add_session(repo, clock)
    repo.seats(session.id)
    engine = sa.create_engine(clean_postgres_url, poolclass=sa.pool.NullPool)
    until = clock.now() + timedelta(minutes=5)

    def hold(connection: sa.Connection, owner: UUID, label: SeatLabel) -> None:
        connection.execute(
            sa.text(
                "UPDATE seats SET held_by = :owner, hold_expires_at = :until "
                'WHERE session_id = :session AND "row" = :row AND number = :number'
            ),
            {
                "owner": owner,
                "until": until,
                "session": session.id,
                "row": label.row,
                "number": label.number,
            },
        )

    early, late = uuid4(), uuid4()
    try:
        with engine.connect() as slow, engine.connect() as quick:
            hold(slow, early, A1)
            hold(quick, late, B2)
            quick.commit()
            between = {s.label: s.held_by for s in repo.seats(session.id) if s.held_by}
            slow.commit()
    finally:
        engine.dispose()
    after = {s.label: s.held_by for s in repo.seats(session.id) if s.held_by}
    assert between == {B2: late}
    if rule.startswith("control"):
        assert after == {B2: late}
    else:
        assert after == {A1: early, B2: late}


def test_a_changed_read_shares_the_seats_that_did_not_change_and_maps_as_a_fresh_one(
    repo: PostgresReservationRepo, clean_postgres_url: str, clock: ManualClock
) -> None:
    """After a sale, a read hands back every other touched seat as the very object it handed
    before (so the seat map is patched at the sale's seats alone), and the map this process
    patches is always the one another process makes from scratch."""
    session = add_session(repo, clock, rows=6, seats_per_row=8)
    box = BoxOffice(repo=repo, seat_lock=InMemorySeatLock(), clock=clock)
    box.pay(box.reserve("u1", session.id, ["A1", "A2"]).id, "u1")
    before = {seat.label: seat for seat in repo.seats(session.id)}
    box.reserve("u2", session.id, ["C3"])
    after = {seat.label: seat for seat in repo.seats(session.id)}
    assert after[A1] is before[A1]
    assert after[A2] is before[A2]
    assert after[SeatLabel("C", 3)] is not before[SeatLabel("C", 3)]
    chooser = random.Random(5)
    labels = [str(label) for label in before]
    for n in range(40):
        with contextlib.suppress(CinemaError):
            hold = box.reserve(f"b{n}", session.id, chooser.sample(labels, chooser.randint(1, 3)))
            if chooser.random() < 0.5:
                box.pay(hold.id, hold.user_id)
            elif chooser.random() < 0.3:
                box.cancel(hold.id, hold.user_id)
        if chooser.random() < 0.2:
            clock.advance(chooser.choice([30, 700]))
        fresh = PostgresReservationRepo(clean_postgres_url)
        try:
            whole = SeatMap.at(session.id, session.room, fresh.seats(session.id), clock.now())
        finally:
            fresh.close()
        assert box.seat_map(session.id).seats == whole.seats


def test_a_row_lock_makes_the_second_transaction_wait_and_see_the_first_ones_hold(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Under READ COMMITTED, a seat locked FOR UPDATE is read at its newest committed version
    once the first transaction commits: the second sees the hold, not the stale free seat."""
    session = add_session(repo, clock)
    first_locked = threading.Event()
    owner = uuid4()

    def first(tx: PostgresTransaction) -> None:
        seats = tx.lock_seats(session.id, [A1])
        first_locked.set()
        time.sleep(0.3)
        seats[0].hold(owner, clock.now() + timedelta(seconds=30), "full")
        tx.save_seats(session.id, seats)

    def second(tx: PostgresTransaction) -> tuple[UUID | None, float]:
        assert first_locked.wait(5)
        started = time.monotonic()
        seats = tx.lock_seats(session.id, [A1])
        return seats[0].held_by, time.monotonic() - started

    results = run_together(2, lambda i: repo.atomic(first if i == 0 else second))
    held_by, waited = results[1]
    assert held_by == owner
    assert waited >= 0.2


# -- reservations and sales --------------------------------------------------------------------


def test_a_reservation_round_trips_and_save_records_its_new_state(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """add_reservation, lock_reservation and save_reservation store every field."""
    session = add_session(repo, clock)
    held = reservation(session, clock, B1, A3)
    repo.atomic(lambda tx: tx.add_reservation(held))
    assert repo.get_reservation(held.id) == held
    assert repo.atomic(lambda tx: tx.lock_reservation(held.id)) == held

    held.status = ReservationStatus.CANCELLED
    repo.atomic(lambda tx: tx.save_reservation(held))
    assert repo.get_reservation(held.id) == held
    assert repo.atomic(lambda tx: tx.lock_reservation(uuid4())) is None


def test_a_second_sale_of_a_seat_is_refused_by_the_database_itself(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """sale_seats' primary key refuses a sale of a sold seat (SeatsUnavailable naming it), and
    the transaction that tried stays usable, as with the in-memory store."""
    session = add_session(repo, clock)
    first, second = reservation(session, clock, A1, A2), reservation(session, clock, A2, A3)
    repo.atomic(lambda tx: (tx.add_reservation(first), tx.add_reservation(second)))
    repo.atomic(lambda tx: tx.add_sale(sale_of(first, clock)))

    def sell_again(tx: PostgresTransaction) -> list[str]:
        with pytest.raises(SeatsUnavailable) as refused:
            tx.add_sale(sale_of(second, clock))
        tx.emit(event(session))
        return refused.value.seats

    assert repo.atomic(sell_again) == ["A2"]
    assert len(repo.events(type=None, session_id=None, before=None, limit=10)) == 1
    assert [sale.reservation_id for sale in repo.purchases("u1", None, 10)] == [first.id]


def test_a_second_sale_of_a_reservation_is_refused(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """sales.reservation_id is unique: a reservation is sold at most once."""
    session = add_session(repo, clock)
    held = reservation(session, clock, A1)
    repo.atomic(lambda tx: tx.add_reservation(held))
    sale = sale_of(held, clock)
    repo.atomic(lambda tx: tx.add_sale(sale))
    assert repo.get_sale(sale.id) == sale
    assert repo.atomic(lambda tx: tx.get_sale(sale.id)) == sale
    with pytest.raises(ValueError, match="already sold"):
        repo.atomic(lambda tx: tx.add_sale(sale_of(held, clock)))


def test_purchases_are_newest_first_with_ties_broken_by_id(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Keyset pages over (paid_at, id) descending visit every sale of the user once."""
    session = add_session(repo, clock, rows=1, seats_per_row=16)
    sales = []
    for number in range(1, 6):
        held = reservation(session, clock, SeatLabel("A", number))
        sale = sale_of(held, clock)
        repo.atomic(lambda tx, h=held, s=sale: (tx.add_reservation(h), tx.add_sale(s)))
        sales.append(sale)
        clock.advance(seconds=number % 2)  # some sales share an instant
    seen: list[Sale] = []
    before: Cursor | None = None
    while page := repo.purchases("u1", before, 2):
        seen.extend(page)
        before = Cursor(page[-1].paid_at, page[-1].id)
    assert seen == sorted(sales, key=lambda s: (s.paid_at, s.id), reverse=True)
    assert repo.purchases("someone else", None, 10) == []


# -- transactions ------------------------------------------------------------------------------


def test_work_that_raises_leaves_nothing_behind_and_its_error_passes_unchanged(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """A domain error inside atomic rolls back state and events and reaches the caller as is."""
    session = Session.create(
        id=uuid4(),
        movie="X",
        room=Room.rectangle(id=uuid4(), name="1", rows=4, seats_per_row=4),
        starts_at=clock.now() + timedelta(days=1),
        prices=Money.parse("10.00"),
        now=clock.now(),
    )
    error = ReservationExpired()

    def work(tx: PostgresTransaction) -> None:
        tx.add_session(session)
        tx.emit(event(session))
        raise error

    with pytest.raises(ReservationExpired) as raised:
        repo.atomic(work)
    assert raised.value is error
    assert repo.get_session(session.id) is None
    assert repo.events(type=None, session_id=None, before=None, limit=10) == []


def test_a_deadlock_is_retried_and_both_transactions_succeed(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Two transactions that lock two reservations in opposite orders deadlock; PostgreSQL
    aborts one (40P01), atomic re-runs it, and both callers get their result, no error."""
    session = add_session(repo, clock)
    one, two = reservation(session, clock, A1), reservation(session, clock, A2)
    repo.atomic(lambda tx: (tx.add_reservation(one), tx.add_reservation(two)))
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts = [0, 0]

    def crosswise(index: int) -> str:
        first, second = (one, two) if index == 0 else (two, one)

        def work(tx: PostgresTransaction) -> str:
            attempts[index] += 1
            tx.lock_reservation(first.id)
            if attempts[index] == 1:
                both_hold_one.wait()
            tx.lock_reservation(second.id)
            return "done"

        return repo.atomic(work)

    assert run_together(2, crosswise) == ["done", "done"]
    assert sorted(attempts) == [1, 2]


def test_connections_the_server_closed_are_replaced_without_the_caller_seeing_it(
    repo: PostgresReservationRepo, clock: ManualClock, clean_postgres_url: str
) -> None:
    """With no pre-ping, a pooled connection found dead (server restart) makes atomic and the
    reads run once more on a fresh one: every pooled connection killed, nothing fails."""
    session = add_session(repo, clock)
    pooled = [repo.engine.connect() for _ in range(3)]
    pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in pooled]
    for connection in pooled:
        connection.close()
    admin = sa.create_engine(clean_postgres_url, poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        killed = connection.execute(
            sa.text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(:p) pid"),
            {"p": pids},
        ).scalar()
    admin.dispose()
    assert killed == 3
    assert [s.label for s in repo.atomic(lambda tx: tx.lock_seats(session.id, [A1]))] == [A1]
    assert repo.get_session(session.id) == session
    pooled = [repo.engine.connect() for _ in range(3)]
    pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in pooled]
    for connection in pooled:
        connection.close()
    with admin.connect() as connection:
        connection.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM unnest(:p) pid"), {"p": pids}
        )
    admin.dispose()
    assert len(repo.seats(session.id)) == 16


def test_lapsed_reservations_locked_by_one_sweeper_are_skipped_by_another(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """lock_lapsed uses SKIP LOCKED: concurrent sweepers get disjoint reservations, and only
    pending ones lapsed at ``now``, oldest first."""
    session = add_session(repo, clock)
    lapsed = [reservation(session, clock, label, ttl=i) for i, label in enumerate((A1, A2, A3))]
    alive = reservation(session, clock, A4, ttl=60)
    repo.atomic(lambda tx: [tx.add_reservation(r) for r in (*lapsed, alive)])
    clock.advance(10)
    first_has_one, second_done = threading.Event(), threading.Event()

    def first(tx: PostgresTransaction) -> list[UUID]:
        got = tx.lock_lapsed(clock.now(), 1)
        first_has_one.set()
        assert second_done.wait(5)
        return [r.id for r in got]

    def second(tx: PostgresTransaction) -> list[UUID]:
        assert first_has_one.wait(5)
        try:
            return [r.id for r in tx.lock_lapsed(clock.now(), 10)]
        finally:
            second_done.set()

    got_first, got_second = run_together(2, lambda i: repo.atomic(first if i == 0 else second))
    assert got_first == [lapsed[0].id]
    assert got_second == [lapsed[1].id, lapsed[2].id]


# -- events and the outbox ---------------------------------------------------------------------


def test_events_are_read_newest_first_by_type_and_session_with_a_cursor(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """The audit trail filters on type and session and pages on the sequence number."""
    one, two = add_session(repo, clock), add_session(repo, clock)
    emitted = [
        event(one),
        event(two),
        event(one, "seat.released"),
        event(None, "seat.released"),
        event(one),
    ]
    repo.atomic(lambda tx: [tx.emit(e) for e in emitted])

    def ids(found: list[tuple[int, Event]]) -> list[UUID]:
        return [e.id for _, e in found]

    every = repo.events(type=None, session_id=None, before=None, limit=10)
    assert ids(every) == [e.id for e in reversed(emitted)]
    assert every[0][1] == emitted[-1]
    assert ids(
        repo.events(type="reservation.created", session_id=one.id, before=None, limit=10)
    ) == [emitted[4].id, emitted[0].id]
    assert ids(repo.events(type="seat.released", session_id=None, before=None, limit=10)) == [
        emitted[3].id,
        emitted[2].id,
    ]
    newest_two = repo.events(type=None, session_id=None, before=None, limit=2)
    rest = repo.events(type=None, session_id=None, before=newest_two[-1][0], limit=10)
    assert ids(newest_two) + ids(rest) == ids(every)


def test_the_relay_publishes_in_order_once_and_commit_callbacks_run(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Events go out oldest first, in batches, each once; on_commit hears of new events."""
    session = add_session(repo, clock)
    woken: list[int] = []
    repo.on_commit.append(lambda: woken.append(1))
    emitted = [event(session) for _ in range(5)]
    repo.atomic(lambda tx: [tx.emit(e) for e in emitted])
    assert woken == [1]
    published: list[Event] = []
    assert repo.relay_outbox(published.extend, 3) == 3
    assert repo.relay_outbox(published.extend, 3) == 2
    assert repo.relay_outbox(published.extend, 3) == 0
    assert published == emitted
    assert repo.unpublished() == 0


def test_a_failed_publish_leaves_the_events_for_the_next_relay(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """If publish raises, the error reaches the caller and nothing is marked published."""
    session = add_session(repo, clock)
    emitted = [event(session) for _ in range(2)]
    repo.atomic(lambda tx: [tx.emit(e) for e in emitted])

    def broken(events: object) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        repo.relay_outbox(broken, 10)
    assert repo.unpublished() == 2
    published: list[Event] = []
    assert repo.relay_outbox(published.extend, 10) == 2
    assert published == emitted


def test_only_one_relay_at_a_time_gets_a_batch(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """While one relay is publishing, another returns 0 at once instead of sending twice."""
    session = add_session(repo, clock)
    repo.atomic(lambda tx: tx.emit(event(session)))
    publishing, other_done = threading.Event(), threading.Event()
    published: list[Event] = []

    def slow(events: list[Event]) -> None:
        publishing.set()
        assert other_done.wait(5)
        published.extend(events)

    def relay(index: int) -> int:
        if index == 0:
            return repo.relay_outbox(slow, 10)
        assert publishing.wait(5)
        try:
            return repo.relay_outbox(published.extend, 10)
        finally:
            other_done.set()

    assert run_together(2, relay) == [1, 0]
    assert len(published) == 1


def test_writes_held_back_go_out_with_the_next_statement_and_are_read_back(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Saved seats and a reservation ride along with the next statement: a read right after
    sees them, and a second save of the reservation goes out before it (one table per
    statement), so the last one wins."""
    session = add_session(repo, clock)
    held = reservation(session, clock, A1)

    def work(tx: PostgresTransaction) -> tuple[int, Reservation | None, list[Seat]]:
        seats = tx.lock_seats(session.id, [A1])
        for seat in seats:
            seat.hold(held.id, held.expires_at, "full")
        with StatementCounter(repo.engine) as sent:
            tx.save_seats(session.id, seats)
            tx.add_reservation(held)
            tx.save_reservation(attrs.evolve(held, expires_at=clock.now() + timedelta(minutes=9)))
        return len(sent.statements), tx.lock_reservation(held.id), tx.lock_seats(session.id, [A1])

    sent, stored, seats = repo.atomic(work)
    assert sent == 1  # the seats and the first insert, before the second reservation write
    assert stored is not None
    assert stored.expires_at == clock.now() + timedelta(minutes=9)
    assert seats[0].held_by == held.id
