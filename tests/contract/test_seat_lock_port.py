"""The SeatLock port: all-or-none, per owner, lapsing by itself; every implementation alike."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from cinema_core import SeatLabel, SeatsUnavailable
from tests.concurrency import run_together
from tests.contract.conftest import TimePasses

SESSION = uuid4()
TTL = 30.0


def labels(*texts: str) -> list[SeatLabel]:
    return [SeatLabel.parse(text) for text in texts]


def takes(seat_lock: Any, owner: str, *texts: str, session: Any = SESSION) -> bool:
    """Whether ``owner`` gets all the seats."""
    try:
        seat_lock.acquire(session, labels(*texts), owner, TTL)
    except SeatsUnavailable:
        return False
    return True


def test_free_seats_are_taken(seat_lock: Any) -> None:
    """Seats nobody has are granted."""
    assert takes(seat_lock, "o1", "A1", "A2")


def test_seats_of_another_owner_are_refused_by_name(seat_lock: Any) -> None:
    """The refusal names exactly the seats another owner has."""
    seat_lock.acquire(SESSION, labels("A1", "A3"), "o1", TTL)
    with pytest.raises(SeatsUnavailable) as caught:
        seat_lock.acquire(SESSION, labels("A3", "A2", "A1"), "o2", TTL)
    assert caught.value.seats == ["A1", "A3"]


def test_all_or_none(seat_lock: Any) -> None:
    """A refused request takes none of its seats, not even the free ones."""
    assert takes(seat_lock, "o1", "A2")
    assert not takes(seat_lock, "o2", "A1", "A2", "A3")
    assert takes(seat_lock, "o3", "A1", "A3")


def test_the_same_owner_may_take_its_seats_again(seat_lock: Any) -> None:
    """Re-acquiring one's own seats (a retry) succeeds, and may add seats."""
    assert takes(seat_lock, "o1", "A1")
    assert takes(seat_lock, "o1", "A1", "A2")
    assert not takes(seat_lock, "o2", "A2")


def test_sessions_do_not_share_seats(seat_lock: Any) -> None:
    """A1 of one session is not A1 of another."""
    assert takes(seat_lock, "o1", "A1")
    assert takes(seat_lock, "o2", "A1", session=uuid4())


def test_only_the_owner_releases(seat_lock: Any) -> None:
    """Release by a stranger leaves the lock; release by the owner frees it."""
    seat_lock.acquire(SESSION, labels("A1", "A2"), "o1", TTL)
    seat_lock.release(SESSION, labels("A1", "A2"), "o2")
    assert not takes(seat_lock, "o3", "A1")
    seat_lock.release(SESSION, labels("A1"), "o1")
    assert takes(seat_lock, "o3", "A1")
    assert not takes(seat_lock, "o3", "A2")


def test_releasing_what_is_not_held_is_harmless(seat_lock: Any) -> None:
    """Releasing free seats does nothing and raises nothing."""
    seat_lock.release(SESSION, labels("B1", "B2"), "o1")
    assert takes(seat_lock, "o2", "B1", "B2")


def test_a_lock_lapses_after_its_ttl(seat_lock: Any, time_passes: TimePasses) -> None:
    """Until the TTL has passed the seat is refused; afterwards anyone may take it."""
    ttl = time_passes.short_ttl
    seat_lock.acquire(SESSION, labels("A1"), "o1", ttl)
    assert not takes(seat_lock, "o2", "A1")
    time_passes.wait(ttl)
    assert takes(seat_lock, "o2", "A1")


def test_one_winner_when_many_race_for_a_seat(seat_lock: Any) -> None:
    """Owners released together: exactly one gets the seat."""
    won = run_together(12, lambda i: takes(seat_lock, f"o{i}", "C5"))
    assert won.count(True) == 1


def test_crossed_requests_never_both_win(seat_lock: Any) -> None:
    """[A1, A3] against [A3, A1], many rounds: exactly one winner each time."""
    orders = (["A1", "A3"], ["A3", "A1"])
    for round_ in range(20):
        session = uuid4()

        def claim(i: int, session: Any = session) -> bool:
            return takes(seat_lock, f"o{i}", *orders[i], session=session)

        won = run_together(2, claim)
        assert won.count(True) == 1, f"round {round_}: {won}"


def test_locked_names_the_seats_any_owner_holds_and_takes_nothing(
    seat_lock: Any, time_passes: TimePasses
) -> None:
    """locked() answers which of the seats are locked now, by anyone, and locks none; a lapsed
    lock is not locked."""
    ttl = time_passes.short_ttl
    seat_lock.acquire(SESSION, labels("A1"), "o1", 10 * ttl)
    seat_lock.acquire(SESSION, labels("A3"), "o2", ttl)
    assert seat_lock.locked(SESSION, labels("A1", "A2", "A3")) == set(labels("A1", "A3"))
    assert seat_lock.locked(uuid4(), labels("A1")) == set()
    assert takes(seat_lock, "o3", "A2")
    time_passes.wait(ttl)
    assert seat_lock.locked(SESSION, labels("A1", "A3")) == set(labels("A1"))
