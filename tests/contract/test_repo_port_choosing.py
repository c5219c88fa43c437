"""Choosing seats on every store: try_lock_seats, best available under load, the single-seat rule
raced, a change raced against a payment, and crossed holds on two rows never deadlocking.

Each race runs with a seat lock that grants everything, so the store alone judges; each guard
has a control run with it switched off that shows the race firing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from cinema_core import (
    BoxOffice,
    ManualClock,
    NotEnoughSeats,
    Reservation,
    ReservationConfirmed,
    SeatLabel,
    SeatStatus,
    Session,
    SingleSeatGap,
)
from cinema_core.memory import InMemoryReservationRepo
from cinema_core.ports import Transaction
from tests.concurrency import run_together
from tests.contract.test_repo_port import NoSeatLock, labels, new_session, rectangle
from tests.unguarded_choosing import without_gap_rows, without_retry

HOLD = timedelta(seconds=30)
# How long a race's window is held open: long enough for every thread to be inside it.
WINDOW = 0.05


class _PausingTransaction:
    def __init__(self, tx: Transaction, pause: float):
        self._tx = tx
        self._pause = pause

    def lock_seats(self, session_id: UUID, wanted: Sequence[SeatLabel]) -> Any:
        seats = self._tx.lock_seats(session_id, wanted)
        time.sleep(self._pause)  # the race window, not a stand-in for a clock
        return seats

    def lock_session_and_seats(self, session: Any, labels: Any, **how: Any) -> Any:
        found = self._tx.lock_session_and_seats(session, labels, **how)
        time.sleep(self._pause)  # the race window, not a stand-in for a clock
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class Pausing:
    """A store whose seat reads (``seats``) and seat locks pause before they return: buyers
    who ask at once all choose from the same view and overlap inside their transactions."""

    def __init__(self, repo: Any, *, after_view: float = 0.0, after_lock: float = 0.0):
        self._repo = repo
        self._after_view = after_view
        self._after_lock = after_lock

    def seats(self, session_id: UUID) -> Any:
        seats = self._repo.seats(session_id)
        time.sleep(self._after_view)
        return seats

    def atomic(self, work: Callable[[Any], Any]) -> Any:
        if not self._after_lock:
            return self._repo.atomic(work)
        return self._repo.atomic(lambda tx: work(_PausingTransaction(tx, self._after_lock)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


def free_labels(repo: Any, session: Session, clock: ManualClock) -> list[str]:
    now = clock.now()
    return [
        str(s.label) for s in repo.seats(session.id) if s.status_at(now) is SeatStatus.AVAILABLE
    ]


def gap_session(repo: Any, clock: ManualClock) -> Session:
    """A stored session of 4 rows of 5 seats that forbids single gaps."""
    return new_session(repo, clock, room=rectangle(4, 5), forbid_single_gaps=True)


# -- the port ------------------------------------------------------------------------------


def test_try_lock_seats_returns_the_existing_seats_in_label_order(
    repo: Any, clock: ManualClock
) -> None:
    """With nobody else about, try_lock_seats locks what lock_seats would: the named seats that
    exist, in label order, as stored."""
    session = new_session(repo, clock)
    found = repo.atomic(lambda tx: tx.try_lock_seats(session.id, labels("C2", "A1", "E9", "B4")))
    assert [str(seat.label) for seat in found] == ["A1", "B4", "C2"]
    assert all(seat.status_at(clock.now()) is SeatStatus.AVAILABLE for seat in found)


def test_try_lock_seats_never_hands_out_a_seat_another_unit_of_work_holds(
    repo: Any, clock: ManualClock
) -> None:
    """While one unit of work holds A1, another's try_lock_seats([A1, A2]) gets A2 alone, or
    (a store that runs one unit of work at a time) runs only once the first is over."""
    session = new_session(repo, clock)
    holding = threading.Event()
    released = threading.Event()
    finished: dict[str, float] = {}

    def first(tx: Transaction) -> None:
        tx.lock_seats(session.id, labels("A1"))
        holding.set()
        released.wait(0.3)
        finished["first"] = time.monotonic()

    def second(tx: Transaction) -> list[str]:
        got = [str(seat.label) for seat in tx.try_lock_seats(session.id, labels("A1", "A2"))]
        finished["second"] = time.monotonic()
        return got

    thread = threading.Thread(target=repo.atomic, args=(first,))
    thread.start()
    assert holding.wait(5)
    got = repo.atomic(second)
    released.set()
    thread.join(5)
    if got == ["A2"]:
        assert finished["second"] < finished["first"]
    else:
        assert got == ["A1", "A2"]
        assert finished["second"] > finished["first"]


# -- best available under load -------------------------------------------------------------


def eight_pairs(repo: Any, clock: ManualClock, *, retry: bool) -> tuple[Session, list[Any]]:
    """8 buyers of 2 seats together in a free 4 × 4 room, choosing from one view at once."""
    box = BoxOffice(Pausing(repo, after_view=WINDOW), NoSeatLock(), clock, HOLD)
    if not retry:
        box = without_retry(box)
    session = new_session(repo, clock)
    return session, run_together(8, lambda i: box.reserve_best(f"u{i}", session.id, 2))


def test_control_without_retry_best_available_buyers_refuse_each_other(
    repo: Any, clock: ManualClock
) -> None:
    """CONTROL: buyers who try only their first choice collide on it and are refused while
    the room is still mostly free."""
    session, results = eight_pairs(repo, clock, retry=False)
    refused = [r for r in results if isinstance(r, NotEnoughSeats)]
    assert refused, results
    assert all(isinstance(r, Reservation | NotEnoughSeats) for r in results), results
    assert len(free_labels(repo, session, clock)) >= 2 * len(refused)


def test_eight_pairs_at_once_fill_a_four_by_four_room_and_a_ninth_is_refused(
    repo: Any, clock: ManualClock
) -> None:
    """8 concurrent requests for 2 together in a free 4 × 4 room: 8 holds, 16 distinct seats;
    a 9th: not_enough_seats with nothing available."""
    session, results = eight_pairs(repo, clock, retry=True)
    assert all(isinstance(r, Reservation) for r in results), results
    seats = [label for r in results for label in r.seats]
    assert len(set(seats)) == 16
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    with pytest.raises(NotEnoughSeats) as refused:
        box.reserve_best("u9", session.id, 2)
    assert refused.value.details == {"available": 0}


# -- the single-seat rule raced -------------------------------------------------------------


def ends_of_rows(box: BoxOffice, session: Session) -> list[list[Any]]:
    """In each row, [X1, X2] and [X4, X5] at once: together they would strand X3."""
    rounds = []
    for row in "ABCD":
        pairs = ([f"{row}1", f"{row}2"], [f"{row}4", f"{row}5"])
        rounds.append(
            run_together(2, lambda i, p=pairs: box.reserve(f"u{i}", session.id, p[i]), timeout=10)
        )
    return rounds


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def unguarded(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A store that lets units of work overlap (in memory: with its transaction lock off), each
    pausing after it locks seats."""
    if request.param == "memory":
        from tests.flow.test_races import UnguardedRepo

        yield UnguardedRepo(pause=WINDOW)
        return
    from adapters.postgres import PostgresReservationRepo

    repo = PostgresReservationRepo(request.getfixturevalue("clean_postgres_url"))
    yield Pausing(repo, after_lock=WINDOW)
    repo.close()


def test_control_without_row_locks_two_holds_strand_a_seat_together(
    unguarded: Any, clock: ManualClock
) -> None:
    """CONTROL: judged on rows read before locking, [A1, A2] and [A4, A5] both win and A3 is
    left alone."""
    box = without_gap_rows(BoxOffice(unguarded, NoSeatLock(), clock, HOLD))
    session = gap_session(unguarded, clock)
    rounds = ends_of_rows(box, session)
    assert all(isinstance(r, Reservation) for results in rounds for r in results), rounds
    assert {"A3", "B3", "C3", "D3"} <= set(free_labels(unguarded, session, clock))


def test_two_holds_that_together_strand_a_seat_cannot_both_win(
    repo: Any, clock: ManualClock
) -> None:
    """The rule judged on whole rows locked at commit: of [X1, X2] and [X4, X5] at once,
    exactly one wins and the other gets single_seat_gap naming X3."""
    box = BoxOffice(Pausing(repo, after_lock=WINDOW), NoSeatLock(), clock, HOLD)
    session = gap_session(repo, clock)
    for row, results in zip("ABCD", ends_of_rows(box, session), strict=True):
        assert sum(isinstance(r, Reservation) for r in results) == 1, results
        (gap,) = [r for r in results if isinstance(r, SingleSeatGap)]
        assert gap.seats == [f"{row}3"]


def test_best_available_never_proposes_a_hold_the_rule_refuses(
    repo: Any, clock: ManualClock
) -> None:
    """14 buyers of 2 together at once in a 4 × 6 room that forbids gaps: the rows fill with
    12 pairs (never one that would strand a seat, so none is refused by the rule), and only
    the 2 buyers left over hear not_enough_seats, with nothing available."""
    box = BoxOffice(Pausing(repo, after_view=WINDOW), NoSeatLock(), clock, HOLD)
    session = new_session(repo, clock, room=rectangle(4, 6), forbid_single_gaps=True)
    results = run_together(14, lambda i: box.reserve_best(f"u{i}", session.id, 2))
    won = [r for r in results if isinstance(r, Reservation)]
    assert len(won) == 12, results
    refused = [r for r in results if not isinstance(r, Reservation)]
    assert all(isinstance(r, NotEnoughSeats) for r in refused), refused
    assert [r.details for r in refused] == [{"available": 0}] * 2
    assert free_labels(repo, session, clock) == []


# -- a change raced -------------------------------------------------------------------------


def test_a_payment_racing_a_change_pays_the_old_seats_or_the_new_never_a_mix(
    repo: Any, clock: ManualClock
) -> None:
    """Pay [A1, A2] while changing it to [B1, B2], ten times: the sale is of one pair, that
    pair is sold, the other is free."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    outcomes = set()
    for _ in range(10):
        session = new_session(repo, clock)
        held = box.reserve("ana", session.id, ["A1", "A2"])
        paid, changed = run_together(
            2,
            lambda i, r=held.id: (
                box.pay(r, "ana") if i == 0 else box.change(r, "ana", ["B1", "B2"])
            ),
        )
        sale = paid[0]
        sold = [str(label) for label in sale.seats]
        if isinstance(changed, Reservation):
            assert sold == ["B1", "B2"]
            outcomes.add("changed, then paid")
        else:
            assert isinstance(changed, ReservationConfirmed), changed
            assert sold == ["A1", "A2"]
            outcomes.add("paid")
        statuses = {str(s.label): s.status_at(clock.now()) for s in repo.seats(session.id)}
        other = ["A1", "A2"] if sold == ["B1", "B2"] else ["B1", "B2"]
        assert [statuses[label] for label in sold] == [SeatStatus.SOLD] * 2
        assert [statuses[label] for label in other] == [SeatStatus.AVAILABLE] * 2


# -- no deadlock ----------------------------------------------------------------------------


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def strict_repo(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A store that never re-runs a unit of work: a deadlock would surface as an error."""
    if request.param == "memory":
        yield InMemoryReservationRepo()
        return
    from adapters.postgres import PostgresReservationRepo

    repo = PostgresReservationRepo(request.getfixturevalue("clean_postgres_url"), attempts=1)
    yield repo
    repo.close()


CROSSED = (["A1", "A2", "B5", "B6"], ["B1", "B2", "A5", "A6"])


def test_crossed_holds_and_changes_on_two_rows_never_deadlock(
    strict_repo: Any, clock: ManualClock
) -> None:
    """With whole rows locked for the rule, [A1, A2, B5, B6] against [B1, B2, A5, A6], as new
    holds and as changes, round after round: both win, none meets a deadlock."""
    box = BoxOffice(Pausing(strict_repo, after_lock=0.01), NoSeatLock(), clock, HOLD)
    for _ in range(5):
        session = new_session(strict_repo, clock, room=rectangle(4, 6), forbid_single_gaps=True)
        results = run_together(
            2, lambda i, s=session.id: box.reserve(f"u{i}", s, CROSSED[i]), timeout=10
        )
        assert all(isinstance(r, Reservation) for r in results), results
        box.cancel(results[0].id, "u0")
        box.cancel(results[1].id, "u1")
        first = box.reserve("u0", session.id, ["A1", "A2"])
        second = box.reserve("u1", session.id, ["B1", "B2"])
        results = run_together(
            2,
            lambda i, r=(first.id, second.id): box.change(r[i], f"u{i}", CROSSED[i]),
            timeout=10,
        )
        assert all(isinstance(r, Reservation) for r in results), results
