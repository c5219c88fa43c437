"""Cancelling a session raced by its buyers on PostgreSQL: real threads released together.

Buyers pay their holds, take new holds and ask for the best seats while an admin cancels the
session: a first wave released with the cancellation (in flight when it starts), a second one
once the cancellation has locked the seats (while it is still to commit), and one more request
of each kind after it answered. Every purchase pauses after its first locks, between its check
of the session and its writes, and the cancellation pauses holding the seats (``Pausing``), so
the windows stay open. Afterwards nothing of the session survives: no seat sold or held, no
hold pending, every sale refunded in full, every purchase asked after the cancellation answered
refused. The control run removes the guard only (``Unguarded``: a purchase reads the session
without locking its row, as the statement would without FOR KEY SHARE) and shows holds of the
second wave surviving the cancellation: they read the session before it committed and lock the
seats it freed. (A sale does not survive even there: a payment waits for the reservation the
cancellation locked, and reads it cancelled.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

import attrs
import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, create_engine
from cinema_core import (
    BoxOffice,
    ManualClock,
    Money,
    NotEnoughSeats,
    Reservation,
    ReservationCancelled,
    ReservationStatus,
    Sale,
    SeatsUnavailable,
    SessionCancelled,
)
from cinema_core.rooms.seats import SeatLabel
from cinema_core.sessions.session import Session
from tests.concurrency import run_together
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres

# How long a purchase waits between reading the session and writing: the race window.
PAUSE = 0.3
# When the cancellation starts after the barrier: inside the first wave's windows.
CANCEL_AT = 0.05
WAVES = ("with the cancellation", "once it locked the seats")
ROUNDS = 3
PAYERS, HOLDERS, BEST = 4, 4, 2
LAYOUT = ["ssssssss"] * 6
# The refusals a purchase racing a cancellation may meet.
REFUSALS = (SessionCancelled, ReservationCancelled, SeatsUnavailable, NotEnoughSeats)


class Pausing:
    """The PostgreSQL transaction, pausing after each purchase's first locks (the session's
    row and the seats, or the reservation and its seats) and after the cancellation locks all
    the seats, which it tells ``seats_locked``."""

    def __init__(self, tx: Any, repo: PostgresReservationRepo, seats_locked: threading.Event):
        self._tx = tx
        self._repo = repo
        self._seats_locked = seats_locked

    def lock_session_and_seats(
        self, session: Session, labels: Sequence[SeatLabel], *, skip_locked: bool = False
    ) -> tuple[Session, list[Any]]:
        found = self._tx.lock_session_and_seats(session, labels, skip_locked=skip_locked)
        time.sleep(PAUSE)  # the race window, not a stand-in for a clock
        return found  # type: ignore[no-any-return]

    def lock_session_reservation_and_seats(
        self, reservation_id: UUID, kept: Callable[[UUID], Session]
    ) -> Any:
        found = self._tx.lock_session_reservation_and_seats(reservation_id, kept)
        time.sleep(PAUSE)
        return found

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> Any:
        # Only the cancellation locks seats on their own here (all of the session's).
        found = self._tx.lock_seats(session_id, labels)
        self._seats_locked.set()
        time.sleep(PAUSE)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class Unguarded(Pausing):
    """TEST-ONLY, for the control run: the same purchases with the session guard removed. The
    session is read without locking its row (on another connection, so from before any wait
    for a seat, as the one statement without FOR KEY SHARE would read it); the seats and the
    reservation are locked, and the pauses taken, as before."""

    def lock_session_and_seats(
        self, session: Session, labels: Sequence[SeatLabel], *, skip_locked: bool = False
    ) -> tuple[Session, list[Any]]:
        current = self._current(session.id)
        lock = self._tx.try_lock_seats if skip_locked else self._tx.lock_seats
        seats = lock(session.id, labels)
        time.sleep(PAUSE)
        return current, seats

    def lock_session_reservation_and_seats(
        self, reservation_id: UUID, kept: Callable[[UUID], Session]
    ) -> Any:
        stored = self._repo.get_reservation(reservation_id)
        if stored is None:
            return None
        current = self._current(stored.session_id)
        found = self._tx.lock_reservation_and_seats(reservation_id)
        time.sleep(PAUSE)
        return None if found is None else (current, *found)

    def _current(self, session_id: UUID) -> Session:
        session = self._repo.get_session(session_id)
        assert session is not None
        return session


@attrs.define
class RacingRepo:
    """The store the box office sees: every unit of work through ``wrap``."""

    repo: PostgresReservationRepo
    wrap: type[Pausing]
    seats_locked: threading.Event = attrs.Factory(threading.Event)

    def atomic(self, work: Callable[[Any], Any]) -> Any:
        return self.repo.atomic(lambda tx: work(self.wrap(tx, self.repo, self.seats_locked)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repo, name)


@pytest.fixture
def repo(clean_postgres_url: str) -> Iterator[PostgresReservationRepo]:
    # Enough connections for every thread and the control's unlocked reads at once.
    repo = PostgresReservationRepo(create_engine(clean_postgres_url, pool_size=40))
    yield repo
    repo.close()
    repo.engine.dispose()


@attrs.frozen
class Outcome:
    """One request of the race: what it was, when it started and what it answered."""

    kind: str
    started: float
    result: Any


@attrs.frozen
class Survivors:
    """What of a cancelled session is still alive; all empty when the cancellation won."""

    seats_taken: list[str]
    pending: list[UUID]
    tickets_unrefunded: list[UUID]

    def any(self) -> bool:
        return bool(self.seats_taken or self.pending or self.tickets_unrefunded)


def survivors(engine: sa.Engine, session_id: UUID) -> Survivors:
    """Read straight from the tables: everything stored of the session, not the use cases."""
    params = {"id": session_id}
    with engine.connect() as conn:
        seats = conn.execute(
            sa.text(
                'SELECT "row" || number FROM seats WHERE session_id = :id'
                " AND (held_by IS NOT NULL OR sale_id IS NOT NULL OR ticket IS NOT NULL)"
            ),
            params,
        ).scalars()
        pending = conn.execute(
            sa.text("SELECT id FROM reservations WHERE session_id = :id AND status = 'pending'"),
            params,
        ).scalars()
        tickets = conn.execute(
            sa.text("SELECT id FROM tickets WHERE session_id = :id AND refund_id IS NULL"),
            params,
        ).scalars()
        return Survivors(sorted(seats), list(pending), list(tickets))


def race_round(
    repo: PostgresReservationRepo, wrap: type[Pausing], clock: ManualClock, n: int
) -> tuple[UUID, list[Outcome], float, list[Outcome]]:
    """A session with two sales and a hold per payer, then the race; then, once the
    cancellation answered, one more of each purchase. Returns the session, the race's
    outcomes, when the cancellation answered, and the late purchases' outcomes."""
    setup = BoxOffice(repo=repo, seat_lock=NoSeatLock(), clock=clock)
    room = setup.create_room(cinema="Centro", name=f"Sala {n}", layout=LAYOUT)
    session = setup.create_session(
        movie="Filme X",
        room_id=room.id,
        starts_at=clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
    ).session
    for row in "AB":
        setup.pay(
            setup.reserve(f"sold-{row}", session.id, [f"{row}1", f"{row}2"]).id, f"sold-{row}"
        )
    # A hold per payer of each wave (rows C and F).
    holds = [
        setup.reserve(f"payer-{i}", session.id, [f"{'CF'[i // PAYERS]}{i % PAYERS + 1}"])
        for i in range(PAYERS * len(WAVES))
    ]
    spare = setup.reserve("late-payer", session.id, ["C8"])  # paid only after the cancellation
    racing = RacingRepo(repo, wrap)
    box = BoxOffice(repo=racing, seat_lock=NoSeatLock(), clock=clock)  # type: ignore[arg-type]

    def purchase(i: int, wave: int = 0) -> tuple[str, Callable[[], Any]]:
        if i < PAYERS:
            hold = holds[wave * PAYERS + i]
            return "pay", lambda: box.pay(hold.id, hold.user_id)[0]
        i -= PAYERS
        if i < HOLDERS:
            row = "DE"[i % 2]
            seats = [f"{row}{2 * (i // 2) + 1}", f"{row}{2 * (i // 2) + 2}"]
            return "hold", lambda: box.reserve(f"holder-{i}", session.id, seats)
        return "best", lambda: box.reserve_best(f"best-{i}", session.id, 2)

    buyers = (PAYERS + HOLDERS + BEST) * len(WAVES)
    cancelled_at: list[float] = []

    def act(index: int) -> Outcome:
        if index == buyers:
            time.sleep(CANCEL_AT)
            started = time.monotonic()
            box.cancel_session(session.id, "admin-1")
            cancelled_at.append(time.monotonic())
            return Outcome("cancel", started, None)
        wave, i = divmod(index, PAYERS + HOLDERS + BEST)
        if wave:
            assert racing.seats_locked.wait(30), "the cancellation never locked the seats"
        kind, request = purchase(i, wave)
        started = time.monotonic()
        try:
            return Outcome(kind, started, request())
        except REFUSALS as refused:
            return Outcome(kind, started, refused)

    outcomes = run_together(buyers + 1, act, timeout=60)
    for outcome in outcomes:
        assert isinstance(outcome, Outcome), outcome  # nothing else was raised
    late: list[Outcome] = []
    for i in range(PAYERS, PAYERS + HOLDERS + BEST):
        kind, request = purchase(i)
        try:
            late.append(Outcome(kind, time.monotonic(), request()))
        except REFUSALS as refused:
            late.append(Outcome(kind, time.monotonic(), refused))
    try:
        late.append(Outcome("pay", time.monotonic(), box.pay(spare.id, spare.user_id)[0]))
    except REFUSALS as refused:
        late.append(Outcome("pay", time.monotonic(), refused))
    return session.id, [o for o in outcomes if o.kind != "cancel"], cancelled_at[0], late


def test_control_without_the_session_lock_a_hold_survives_the_cancellation(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """CONTROL: purchases reading the session unlocked leave seats held (and holds pending) in
    a session the cancellation answered as cancelled, in some round."""
    fired = []
    for n in range(ROUNDS):
        session_id, _, _, _ = race_round(repo, Unguarded, clock, n)
        found = survivors(repo.engine, session_id)
        fired.append(bool(found.seats_taken and found.pending))
        if fired[-1]:
            break  # the race fired: the rounds left could only show it again
    assert any(fired), fired


def test_no_purchase_racing_a_cancellation_survives_it(
    repo: PostgresReservationRepo, clock: ManualClock
) -> None:
    """Holds, payments and best available racing a cancellation: afterwards no seat is sold or
    held, no hold is pending, every sale made (before or during the race) is refunded in full,
    every purchase that succeeded is undone, and every one asked after the cancellation
    answered is refused with session_cancelled (a payment: its hold reads cancelled)."""
    for n in range(ROUNDS):
        session_id, outcomes, cancelled, late = race_round(repo, Pausing, clock, n)
        assert not survivors(repo.engine, session_id).any(), survivors(repo.engine, session_id)
        sales = repo.engine.connect()
        with sales:
            refunded = sales.execute(
                sa.text(
                    "SELECT count(*) FILTER (WHERE cardinality(refunded_seats)"
                    " = cardinality(seats)), count(*) FROM sales WHERE session_id = :id"
                ),
                {"id": session_id},
            ).one()
        assert refunded[0] == refunded[1] >= 2, refunded
        for outcome in outcomes:
            if isinstance(outcome.result, Reservation):
                stored = repo.get_reservation(outcome.result.id)
                assert stored is not None
                assert stored.status is ReservationStatus.CANCELLED
            elif isinstance(outcome.result, Sale):
                assert all(t.refund_id is not None for t in repo.tickets(outcome.result.id))
            if outcome.started > cancelled:
                assert isinstance(outcome.result, SessionCancelled | ReservationCancelled)
        for outcome in late:
            if outcome.kind == "pay":
                assert isinstance(outcome.result, ReservationCancelled), outcome
            else:
                assert isinstance(outcome.result, SessionCancelled), outcome
