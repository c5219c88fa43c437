"""The in-memory seat lock and idempotency store forget lapsed entries, and only those."""

from __future__ import annotations

from uuid import UUID, uuid4

from cinema_core import ManualClock, SeatLabel, SeatsUnavailable
from cinema_core.memory import InMemorySeatLock
from cinema_core.memory.idempotency import InMemoryIdempotencyStore
from cinema_core.ports import StoredAnswer

A1 = [SeatLabel("A", 1)]
ANSWER = StoredAnswer(201, b'{"ok":true}')


def refused(lock: InMemorySeatLock, session: UUID, owner: str) -> bool:
    try:
        lock.acquire(session, A1, owner, 10)
    except SeatsUnavailable:
        return True
    return False


def test_a_renewed_seat_lock_outlives_its_first_ttl(clock: ManualClock) -> None:
    """A lock its owner took again lasts until the renewal's TTL, though the first one passed."""
    lock, session = InMemorySeatLock(clock), uuid4()
    lock.acquire(session, A1, "o1", 10)
    clock.advance(8)
    lock.acquire(session, A1, "o1", 10)
    clock.advance(5)
    assert refused(lock, session, "o2")
    clock.advance(5)
    assert not refused(lock, session, "o2")


def test_a_released_and_retaken_seat_lock_holds_for_its_new_owner(clock: ManualClock) -> None:
    """The first owner's lapse does not free the seat the second owner took after a release."""
    lock, session = InMemorySeatLock(clock), uuid4()
    lock.acquire(session, A1, "o1", 10)
    lock.release(session, A1, "o1")
    clock.advance(5)
    lock.acquire(session, A1, "o2", 10)
    clock.advance(6)
    assert refused(lock, session, "o3")


def test_an_idempotent_answer_is_kept_a_day_from_when_it_was_stored(clock: ManualClock) -> None:
    """The day runs from finish, not begin; afterwards the key is claimed afresh."""
    store = InMemoryIdempotencyStore(clock)
    assert store.begin("u1", "k1", "fp") is None
    clock.advance(hours=1)
    store.finish("u1", "k1", "fp", ANSWER)
    clock.advance(hours=23.5)
    assert store.begin("u1", "other", "fp") is None
    assert store.begin("u1", "k1", "fp") == ANSWER
    clock.advance(hours=1)
    assert store.begin("u1", "k1", "fp") is None
