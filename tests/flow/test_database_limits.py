"""The database alone keeps the other limits: a ticket quota is never passed, a room never hosts
two sessions at once, a couple seat is never half held.

As in test_database_invariant.py, a seat lock that grants everything leaves PostgreSQL alone
between the racers (real threads, each on a connection of its own from the pool, released
together). Each control run switches the guard off (the quota lock, the exclusion constraint,
the pair rule) and shows the race firing; the guarded run, identical otherwise, shows it never
does. Each ends with the database's own account in SQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

import attrs
import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, create_engine
from adapters.postgres.transaction import PostgresTransaction
from cinema_core import (
    BoxOffice,
    CoupleSeatSplit,
    ManualClock,
    Money,
    Reservation,
    RoomBusy,
    SeatsUnavailable,
    SessionView,
    TicketQuotaExhausted,
)
from tests.concurrency import run_together
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock
from tests.flow.test_database_invariant import PausingRepo
from tests.unguarded_postgres import UnguardedRepo

pytestmark = pytest.mark.postgres

HOLD = timedelta(seconds=30)
# 16 seats, half (meia-entrada) limited to 40 %: floor(16 × 40 / 100) = 6 at any instant.
QUOTA_BUYERS = 16
HALF_LIMIT = 6
ROUNDS = 3
# How long a transaction waits after counting a quota, before it writes its hold: the window
# the race needs, held open so that the control run fires rather than now and then.
WINDOW = 0.05
ORGANIZERS = 10


class _PausingTransaction:
    def __init__(self, tx: PostgresTransaction, pause: float):
        self._tx = tx
        self._pause = pause

    def quota_usage(self, session_id: UUID, tickets: Sequence[str], now: Any) -> dict[str, int]:
        used = self._tx.quota_usage(session_id, tickets, now)
        # A real pause, on purpose: it is the race window, not a stand-in for a clock.
        time.sleep(self._pause)
        return used

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


@pytest.fixture
def clock() -> ManualClock:
    # Holds never lapse during these races.
    return ManualClock()


@pytest.fixture
def engine(clean_postgres_url: str) -> Iterator[sa.Engine]:
    # One connection per racer, none waiting for another's.
    engine = create_engine(clean_postgres_url, pool_size=QUOTA_BUYERS, max_overflow=0)
    yield engine
    engine.dispose()


def quota_overruns(engine: sa.Engine, now: Any) -> list[tuple[Any, ...]]:
    """Every (session, ticket type) whose quota is passed at ``now``, counted two ways: seats
    sold or under a live hold as the type, and lines of live reservations of the type."""
    sql = """
    WITH limits AS (
        SELECT se.id AS session_id, t.code, se.seat_count * t.quota_percent / 100 AS quota
        FROM sessions se,
            jsonb_to_recordset(se.ticket_types) AS t(code text, quota_percent int)
        WHERE t.quota_percent IS NOT NULL
    ), by_seat AS (
        SELECT session_id, ticket AS code, count(*) AS used FROM seats
        WHERE sale_id IS NOT NULL OR hold_expires_at > :now GROUP BY 1, 2
    ), by_line AS (
        SELECT r.session_id, ticket AS code, count(*) AS used
        FROM reservations r, unnest(r.tickets) AS ticket
        WHERE r.status = 'confirmed' OR (r.status = 'pending' AND r.expires_at > :now)
        GROUP BY 1, 2
    )
    SELECT l.session_id, l.code, l.quota, s.used, r.used FROM limits l
    LEFT JOIN by_seat s USING (session_id, code) LEFT JOIN by_line r USING (session_id, code)
    WHERE coalesce(s.used, 0) > l.quota OR coalesce(r.used, 0) > l.quota
    """
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql), {"now": now})]


@attrs.frozen
class QuotaRound:
    winners: int
    exhausted: int
    unexpected: list[BaseException]


def quota_round(box: BoxOffice) -> QuotaRound:
    """QUOTA_BUYERS threads released together each hold one seat of their own as half."""
    session = new_session(box, days=1).session
    labels = [str(label) for label in session.labels()]
    assert len(labels) == QUOTA_BUYERS
    results = run_together(
        QUOTA_BUYERS,
        lambda i: box.reserve(f"buyer-{i}", session.id, [labels[i]], {"half": 1}),
    )
    return QuotaRound(
        winners=sum(isinstance(r, Reservation) for r in results),
        exhausted=sum(isinstance(r, TicketQuotaExhausted) for r in results),
        unexpected=[
            r
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, TicketQuotaExhausted)
        ],
    )


def quota_rounds(engine: sa.Engine, clock: ManualClock, *, quota_locks: bool) -> list[QuotaRound]:
    repo = UnguardedRepo(engine, quota_locks=quota_locks)
    box = BoxOffice(PausingRepo(repo, WINDOW, _PausingTransaction), NoSeatLock(), clock, HOLD)
    return [quota_round(box) for _ in range(ROUNDS)]


def test_control_without_the_quota_lock_more_half_tickets_than_the_quota_are_held(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """CONTROL: counting without the lock, concurrent holders all see room in the quota."""
    rounds = quota_rounds(engine, clock, quota_locks=False)
    assert all(r.unexpected == [] for r in rounds), rounds
    assert max(r.winners for r in rounds) > HALF_LIMIT, rounds
    assert quota_overruns(engine, clock.now())


def test_with_the_quota_lock_exactly_the_quota_of_half_tickets_is_held(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """The same race with the lock: 6 of 16 win every round, 10 are told the quota is spent,
    and the database's count never passes the quota."""
    rounds = quota_rounds(engine, clock, quota_locks=True)
    assert [(r.winners, r.exhausted, r.unexpected) for r in rounds] == [
        (HALF_LIMIT, QUOTA_BUYERS - HALF_LIMIT, [])
    ] * ROUNDS
    assert quota_overruns(engine, clock.now()) == []


# -- a room hosts one session at a time ---------------------------------------------------------


def overlapping_pairs(engine: sa.Engine) -> list[tuple[Any, ...]]:
    """Every two sessions of one room whose [starts_at, ends_at) overlap."""
    sql = """
    SELECT a.room_id, a.id, b.id FROM sessions a JOIN sessions b
        ON a.room_id = b.room_id AND a.id < b.id
        AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')
    """
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def organizers_race(box: BoxOffice, round_: int) -> list[Any]:
    """ORGANIZERS threads released together each create a 2-hour session in one room, each
    starting 10 minutes after the one before: every two of them overlap."""
    room = box.create_room(cinema="Centro", name=f"Sala {round_}", layout=["ssss"] * 4)
    start = box.clock.now() + timedelta(days=1)
    return run_together(
        ORGANIZERS,
        lambda i: box.create_session(
            movie=f"Filme {i}",
            room_id=room.id,
            starts_at=start + timedelta(minutes=10 * i),
            price=Money.parse("25.00"),
            duration_minutes=120,
        ),
    )


def test_control_without_the_exclusion_constraint_a_room_gets_overlapping_sessions(
    migrated_postgres_url: str, clock: ManualClock
) -> None:
    """CONTROL: with the constraint dropped (in this test's own database), nothing else stops
    concurrent organizers from booking one room at once."""
    engine = create_engine(migrated_postgres_url, pool_size=ORGANIZERS, max_overflow=0)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE sessions DROP CONSTRAINT sessions_room_no_overlap"))
        box = BoxOffice(PostgresReservationRepo(engine), NoSeatLock(), clock, HOLD)
        results = organizers_race(box, 1)
        assert all(isinstance(r, SessionView) for r in results), results
        assert len(overlapping_pairs(engine)) == ORGANIZERS * (ORGANIZERS - 1) // 2
    finally:
        engine.dispose()


def test_with_the_exclusion_constraint_one_of_many_overlapping_sessions_is_stored(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """The same race with the constraint, round after round: one session stored, every other
    organizer told the room is busy with that very session, no two sessions overlapping."""
    box = BoxOffice(PostgresReservationRepo(engine), NoSeatLock(), clock, HOLD)
    for round_ in range(ROUNDS):
        results = organizers_race(box, round_)
        stored = [r for r in results if isinstance(r, SessionView)]
        assert len(stored) == 1, results
        busy = [r for r in results if isinstance(r, RoomBusy)]
        assert len(busy) == ORGANIZERS - 1, results
        assert {r.details["session_id"] for r in busy} == {str(stored[0].session.id)}
    assert overlapping_pairs(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sessions")).scalar() == ROUNDS


# -- a couple seat is held whole or not at all -------------------------------------------------

COUPLE_BUYERS = 12
# A round splits a couple seat only when a buyer of one half locks first (about two rounds in
# three): the control needs enough rounds that it fires whatever the scheduling, and the
# guarded run as many to show that it never does.
COUPLE_ROUNDS = 12


def split_couple_seats(engine: sa.Engine, now: Any) -> list[tuple[Any, ...]]:
    """Every couple seat (cells 1+2, 3+4, … of an all-couple room) whose two halves are under
    live holds of different reservations, or one half under a live hold and the other free."""
    sql = """
    SELECT a.session_id, a."row", a.number FROM seats a JOIN seats b
        ON b.session_id = a.session_id AND b."row" = a."row" AND b.number = a.number + 1
    WHERE a.number % 2 = 1
        AND (a.hold_expires_at > :now OR b.hold_expires_at > :now)
        AND a.held_by IS DISTINCT FROM b.held_by
    """
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql), {"now": now})]


def couples_race(box: BoxOffice, round_: int) -> list[Any]:
    """COUPLE_BUYERS threads released together ask for A1, A2 or both of couple seat A1+A2."""
    room = box.create_room(cinema="Centro", name=f"Sala casal {round_}", layout=["cccccccc"] * 2)
    session = box.create_session(
        movie="Filme X",
        room_id=room.id,
        starts_at=box.clock.now() + timedelta(days=1),
        price=Money.parse("30.00"),
    ).session
    wanted = [["A1"], ["A2"], ["A1", "A2"]]
    return run_together(
        COUPLE_BUYERS, lambda i: box.reserve(f"buyer-{i}", session.id, wanted[i % 3])
    )


def test_control_without_the_pair_rule_a_couple_seat_is_held_in_halves(
    engine: sa.Engine, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CONTROL: with the model's pair rule switched off (a claim priced without asking for the
    other half), concurrent buyers of one half each hold a couple seat in two halves."""
    from cinema_core.selling import reservations as reservations
    from cinema_core.selling import ticket_types as tickets

    def any_half(session: Any, labels: Any, counts: Any) -> Any:
        seats = [session.seat(label) for label in labels]
        codes = tickets.assign_tickets(labels, counts, session.ticket_types)
        return tickets.price_lines(seats, codes, session.prices, session.ticket_types)

    monkeypatch.setattr(reservations, "priced_lines", any_half)
    box = BoxOffice(PostgresReservationRepo(engine), NoSeatLock(), clock, HOLD)
    for round_ in range(COUPLE_ROUNDS):
        couples_race(box, round_)
    assert split_couple_seats(engine, clock.now())


def test_with_the_pair_rule_a_couple_seat_is_only_ever_held_whole(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """The same race with the rule: one buyer of the whole couple seat wins each round, every
    half alone is refused (couple_seat_split), and no couple seat is ever held in halves."""
    box = BoxOffice(PostgresReservationRepo(engine), NoSeatLock(), clock, HOLD)
    for round_ in range(COUPLE_ROUNDS):
        results = couples_race(box, round_)
        won = [r for r in results if isinstance(r, Reservation)]
        assert [[str(s) for s in r.seats] for r in won] == [["A1", "A2"]], results
        split = [r for r in results if isinstance(r, CoupleSeatSplit)]
        assert len(split) == 2 * COUPLE_BUYERS // 3, results
        assert all(isinstance(r, (Reservation, CoupleSeatSplit, SeatsUnavailable)) for r in results)
    assert split_couple_seats(engine, clock.now()) == []
