"""The database alone makes a double sale impossible.

Every race here runs with a seat lock that grants everything, so nothing but PostgreSQL stands
between the buyers: its row locks (seats and reservations locked FOR UPDATE, in label order) and
sale_seats' primary key. The control run switches both guards off and shows the race really
fires; the guarded run, identical otherwise, shows it never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

import attrs
import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo
from adapters.postgres.transaction import PostgresTransaction
from cinema_core import (
    BoxOffice,
    ManualClock,
    Money,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationStatus,
    Sale,
    SeatLabel,
    SeatStatus,
    SeatsUnavailable,
    SessionView,
)
from tests.concurrency import run_together
from tests.contract.test_repo_port import NoSeatLock
from tests.unguarded_postgres import UnguardedRepo

pytestmark = pytest.mark.postgres

BUYERS = 25
# How long each transaction waits between reading seats and writing them. It widens the
# window a race needs, so the control run fires every time rather than now and then.
WINDOW = 0.05
# The window of the races without row locks: wider, because the double sale needs a buyer's
# read to come before another's hold and its writes after that one's sale, and 25 threads
# opening their first connections on a loaded machine can start further apart than 50 ms.
UNLOCKED_WINDOW = 0.25
# Rounds the control may take, each on a session of its own: the first that double-sells is
# the proof. On a loaded machine one round in many still has its buyers start apart.
CONTROL_ROUNDS = 3
HOLD = timedelta(seconds=30)


class _PausingTransaction:
    def __init__(self, tx: PostgresTransaction, pause: float):
        self._tx = tx
        self._pause = pause

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Any]:
        seats = self._tx.lock_seats(session_id, labels)
        pause(self._pause)
        return seats

    def lock_session_and_seats(self, session: Any, labels: Any, **how: Any) -> Any:
        found = self._tx.lock_session_and_seats(session, labels, **how)
        pause(self._pause)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class PausingRepo:
    """The PostgreSQL store, with every transaction pausing after it reads seats (or where
    ``pausing``, a wrapper of the transaction, pauses)."""

    def __init__(
        self,
        repo: PostgresReservationRepo,
        pause: float,
        pausing: Callable[[PostgresTransaction, float], Any] = _PausingTransaction,
    ):
        self._repo = repo
        self._pause = pause
        self._pausing = pausing

    def atomic(self, work: Callable[[Any], Any]) -> Any:
        return self._repo.atomic(lambda tx: work(self._pausing(tx, self._pause)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


def pause(seconds: float) -> None:
    # A real pause, on purpose: it is the race window, not a stand-in for a clock.
    time.sleep(seconds)


@attrs.frozen
class Violations:
    """What the SQL checks found; all empty when the invariant holds."""

    seats_in_two_sales: list[tuple[Any, ...]]
    seats_claimed_twice: list[tuple[Any, ...]]
    wrong_amounts: list[tuple[Any, ...]]
    seat_map_disagrees: list[tuple[Any, ...]]

    def any(self) -> bool:
        return any(attrs.astuple(self, recurse=False))


def violations(engine: sa.Engine, now: Any) -> Violations:
    """The invariant, checked in SQL over everything stored (independently of sale_seats)."""
    with engine.connect() as conn:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in conn.execute(sa.text(sql), {"now": now})]

        return Violations(
            seats_in_two_sales=rows(
                "SELECT s.session_id, label, count(*) FROM sales s, unnest(s.seats) AS label "
                "GROUP BY 1, 2 HAVING count(*) > 1"
            ),
            # A live claim: a confirmed reservation, or a pending one whose hold has not lapsed.
            seats_claimed_twice=rows(
                "SELECT r.session_id, label, count(*) FROM reservations r, unnest(r.seats) label "
                "WHERE r.status = 'confirmed' OR (r.status = 'pending' AND r.expires_at > :now) "
                "GROUP BY 1, 2 HAVING count(*) > 1"
            ),
            # Each line at its category's price × its ticket type's percent (rounded half up),
            # and the sale's amount their sum, in the session's currency.
            wrong_amounts=rows(
                "SELECT s.id, l.seat, l.cents FROM sales s "
                "JOIN sessions ss ON ss.id = s.session_id "
                "CROSS JOIN LATERAL unnest(s.seats, s.categories, s.tickets, s.line_cents) "
                "AS l(seat, category, ticket, cents) "
                "LEFT JOIN LATERAL jsonb_to_recordset(ss.ticket_types) "
                "AS t(code text, percent int) ON t.code = l.ticket "
                "WHERE l.cents IS DISTINCT FROM "
                "((ss.prices->>l.category)::bigint * t.percent * 2 + 100) / 200 "
                "OR s.currency <> ss.currency "
                "UNION ALL "
                "SELECT s.id, NULL, s.amount_cents FROM sales s "
                "WHERE s.amount_cents <> (SELECT sum(c) FROM unnest(s.line_cents) AS c)"
            ),
            # Every sold label's seat row names that sale, and every seat row's sale sold it.
            seat_map_disagrees=rows(
                "SELECT s.id, label FROM sales s CROSS JOIN LATERAL unnest(s.seats) label "
                "LEFT JOIN seats st ON st.session_id = s.session_id "
                'AND st."row" || st.number = label '
                "WHERE st.sale_id IS DISTINCT FROM s.id "
                "UNION ALL "
                'SELECT st.sale_id, st."row" || st.number FROM seats st '
                "LEFT JOIN sales s ON s.id = st.sale_id "
                "WHERE st.sale_id IS NOT NULL "
                'AND (s.id IS NULL OR NOT st."row" || st.number = ANY (s.seats))'
            ),
        )


@pytest.fixture
def clock() -> ManualClock:
    # Holds never lapse during these races unless a test moves its own clock.
    return ManualClock()


def new_session(box: BoxOffice, rows: int = 4, seats_per_row: int = 4) -> SessionView:
    return box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=box.clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
        rows=rows,
        seats_per_row=seats_per_row,
    )


@attrs.frozen
class RaceOutcome:
    sales: list[Sale]
    refusals: list[Exception]
    unexpected: list[BaseException]
    found: Violations


def buyers_race(
    url: str, clock: ManualClock, *, row_locks: bool = True, sale_key: bool = True
) -> RaceOutcome:
    """BUYERS threads released together each reserve A1+A2 and pay for them at once."""
    repo = UnguardedRepo(url, row_locks=row_locks)
    try:
        if not sale_key:
            with repo.engine.begin() as conn:
                # IF EXISTS: the control's later rounds run on the same database.
                conn.execute(
                    sa.text("ALTER TABLE sale_seats DROP CONSTRAINT IF EXISTS sale_seats_pkey")
                )
                # The tickets a sale makes keep one live ticket per seat too: off as well.
                conn.execute(sa.text("DROP INDEX IF EXISTS tickets_live_seat_key"))
        window = WINDOW if row_locks else UNLOCKED_WINDOW
        box = BoxOffice(PausingRepo(repo, window), NoSeatLock(), clock, HOLD)
        session = new_session(box)

        def buy(index: int) -> Sale:
            user = f"buyer-{index}"
            reservation = box.reserve(user, session.session.id, ["A2", "A1"])
            return box.pay(reservation.id, user)[0]

        results = run_together(BUYERS, buy)
        return RaceOutcome(
            sales=[r for r in results if isinstance(r, Sale)],
            refusals=[r for r in results if isinstance(r, SeatsUnavailable | ReservationExpired)],
            unexpected=[
                r
                for r in results
                if isinstance(r, BaseException)
                and not isinstance(r, SeatsUnavailable | ReservationExpired)
            ],
            found=violations(repo.engine, clock.now()),
        )
    finally:
        repo.close()


def test_control_without_row_locks_or_sale_seats_key_the_race_sells_a_seat_twice(
    migrated_postgres_url: str, clock: ManualClock
) -> None:
    """CONTROL: with both database guards off, concurrent buyers really do double-sell."""
    for _ in range(CONTROL_ROUNDS):
        outcome = buyers_race(migrated_postgres_url, clock, row_locks=False, sale_key=False)
        assert outcome.unexpected == []
        if len(outcome.sales) > 1:
            break
    assert len(outcome.sales) > 1
    assert outcome.found.seats_in_two_sales


def test_with_the_database_guards_exactly_one_of_many_buyers_gets_the_seats(
    clean_postgres_url: str, clock: ManualClock
) -> None:
    """The same race with row locks and sale_seats' key: one sale, every SQL check clean."""
    outcome = buyers_race(clean_postgres_url, clock)
    assert outcome.unexpected == []
    assert len(outcome.sales) == 1
    assert len(outcome.refusals) == BUYERS - 1
    assert outcome.found == Violations([], [], [], [])
    assert outcome.sales[0].amount == Money.parse("50.00")


def test_the_sale_seats_key_alone_refuses_every_second_sale(
    clean_postgres_url: str, clock: ManualClock
) -> None:
    """Row locks off, key kept: holds get overwritten (the control's other damage), but the
    primary key still lets exactly one sale of the seats through, whatever the code above did."""
    outcome = buyers_race(clean_postgres_url, clock, row_locks=False)
    assert outcome.unexpected == []
    assert len(outcome.sales) == 1
    assert outcome.found.seats_in_two_sales == []


@pytest.fixture
def repo(clean_postgres_url: str) -> Iterator[PostgresReservationRepo]:
    repo = PostgresReservationRepo(clean_postgres_url)
    yield repo
    repo.close()


def test_crossed_seat_orders_queue_instead_of_deadlocking(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """[A1, A3] against [A3, A1], round after round: one winner each time, and no transaction
    ever meets a deadlock (none is even retried), because seats are locked in label order."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    orders = ([SeatLabel("A", 1), SeatLabel("A", 3)], [SeatLabel("A", 3), SeatLabel("A", 1)])
    for _ in range(20):
        session = new_session(box).session
        runs = [0, 0]

        def claim(index: int, session_id: UUID = session.id, runs: list[int] = runs) -> UUID:
            def work(tx: PostgresTransaction) -> UUID:
                runs[index] += 1
                reservation_id = box.new_id()
                # Straight to the port, in the order given: only the store orders the locks.
                seats = tx.lock_seats(session_id, orders[index])
                pause(0.01)
                now = clock.now()
                if any(seat.status_at(now) is not SeatStatus.AVAILABLE for seat in seats):
                    raise SeatsUnavailable([seat.label for seat in seats])
                for seat in seats:
                    seat.hold(reservation_id, now + HOLD, "full")
                tx.save_seats(session_id, seats)
                return reservation_id

            return repo.atomic(work)

        results = run_together(2, claim)
        assert sorted(type(r).__name__ for r in results) == ["SeatsUnavailable", "UUID"]
        assert runs == [1, 1]
        # And through the use case, in both orders at once.
        results = run_together(
            2,
            lambda i, s=session.id: box.reserve(f"u{i}", s, [str(x) for x in orders[i][::-1]]),
        )
        assert all(isinstance(r, SeatsUnavailable) for r in results)  # A1/A3 already held


def test_payment_racing_expiry_exactly_one_wins(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """A payer whose clock says "just in time" races a sweeper whose clock says "lapsed" (two
    processes with skewed clocks): either the sale stands or the expiry does, never both."""
    buyer_clock, sweeper_clock = ManualClock(clock.now()), ManualClock(clock.now())
    buyer = BoxOffice(repo, NoSeatLock(), buyer_clock, HOLD)
    sweeper = BoxOffice(repo, NoSeatLock(), sweeper_clock, HOLD)
    session = new_session(buyer, rows=1, seats_per_row=20).session
    outcomes = set()
    for number in range(1, 21):
        start = buyer_clock.now()
        reservation = buyer.reserve("u1", session.id, [f"A{number}"])
        buyer_clock.set(start + HOLD - timedelta(milliseconds=1))
        sweeper_clock.set(start + HOLD + timedelta(milliseconds=1))
        paid, expired = run_together(
            2, lambda i, r=reservation.id: buyer.pay(r, "u1") if i == 0 else sweeper.expire_due()
        )
        stored = repo.get_reservation(reservation.id)
        assert stored is not None
        if isinstance(paid, tuple):
            assert expired == 0
            assert stored.status is ReservationStatus.CONFIRMED
            outcomes.add("paid")
        else:
            assert isinstance(paid, ReservationExpired), paid
            assert expired == 1
            assert stored.status is ReservationStatus.EXPIRED
            outcomes.add("expired")
        buyer_clock.set(sweeper_clock.now())
    assert violations(repo.engine, sweeper_clock.now()) == Violations([], [], [], [])
    sold = sum(1 for s in repo.seats(session.id) if s.sale_id is not None)
    assert sold == len(repo.purchases("u1", None, 100))


def test_payment_racing_cancellation_exactly_one_wins(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Pay and cancel the same reservation at once: one succeeds, the other is refused."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    session = new_session(box, rows=1, seats_per_row=20).session
    for number in range(1, 21):
        reservation = box.reserve("u1", session.id, [f"A{number}"])
        paid, cancelled = run_together(
            2,
            lambda i, r=reservation.id: box.pay(r, "u1") if i == 0 else box.cancel(r, "u1"),
        )
        stored = repo.get_reservation(reservation.id)
        assert stored is not None
        if isinstance(paid, tuple):
            assert isinstance(cancelled, ReservationConfirmed)
            assert stored.status is ReservationStatus.CONFIRMED
        else:
            assert isinstance(paid, ReservationCancelled), paid
            assert stored.status is ReservationStatus.CANCELLED
            assert not isinstance(cancelled, BaseException)
    assert violations(repo.engine, clock.now()) == Violations([], [], [], [])
