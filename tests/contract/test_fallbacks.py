"""Degraded operation: idempotency and rate limits carry on over a stand-in while the shared
backend is down, say so once, and go back to it by themselves; seat locks rest after a failure."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID, uuid4

import pytest

from cinema_core import (
    BackendUnavailable,
    BoxOffice,
    IdempotencyKeyReused,
    ManualClock,
    Outages,
    SeatLabel,
    SeatsUnavailable,
)
from cinema_core.memory import (
    InMemoryIdempotencyStore,
    InMemoryRateLimiter,
    InMemoryReservationRepo,
    InMemorySeatLock,
)
from cinema_core.ports import Bucket, StoredAnswer
from cinema_core.resilience.fallbacks import (
    PAUSE,
    RECALL,
    ForgivingSeatLock,
    IdempotencyWithFallback,
    RateLimiterWithFallback,
    SeatLockWithPause,
)
from tests.conftest import new_session

ANSWER = StoredAnswer(201, b'{"id": "r1"}')


class SwitchedIdempotencyStore(InMemoryIdempotencyStore):
    """An in-memory store that can be taken down: then every call raises BackendUnavailable."""

    def __init__(self, clock: ManualClock):
        super().__init__(clock, wait=0.2)
        self.up = True
        self.calls = 0

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
        self._answering()
        return super().begin(scope, key, fingerprint)

    def finish(self, scope: str, key: str, fingerprint: str, answer: StoredAnswer) -> None:
        self._answering()
        super().finish(scope, key, fingerprint, answer)

    def abandon(self, scope: str, key: str) -> None:
        self._answering()
        super().abandon(scope, key)

    def _answering(self) -> None:
        self.calls += 1
        if not self.up:
            raise BackendUnavailable("switched off")


class SwitchedRateLimiter(InMemoryRateLimiter):
    """An in-memory limiter that can be taken down, like the store above."""

    def __init__(self, clock: ManualClock):
        super().__init__(clock)
        self.up = True
        self.calls = 0

    def take_all(self, buckets: Sequence[Bucket]) -> float:
        # take is take_all of one bucket: both are counted, and switched off, here.
        self.calls += 1
        if not self.up:
            raise BackendUnavailable("switched off")
        return super().take_all(buckets)


@pytest.fixture
def outages() -> Outages:
    return Outages()


@pytest.fixture
def primary(clock: ManualClock) -> SwitchedIdempotencyStore:
    return SwitchedIdempotencyStore(clock)


@pytest.fixture
def fallback(clock: ManualClock) -> SwitchedIdempotencyStore:
    return SwitchedIdempotencyStore(clock)


@pytest.fixture
def store(
    primary: SwitchedIdempotencyStore,
    fallback: SwitchedIdempotencyStore,
    outages: Outages,
    clock: ManualClock,
) -> IdempotencyWithFallback:
    return IdempotencyWithFallback(primary, fallback, outages, clock=clock)


def _warnings(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(1 for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage())


def _run_once(store: IdempotencyWithFallback, key: str) -> StoredAnswer | None:
    """What the HTTP layer does with a keyed request: claim, run, store the answer."""
    found = store.begin("u1", key, "fp")
    if found is None:
        store.finish("u1", key, "fp", ANSWER)
    return found


def test_primary_serves_while_it_is_up(store, primary, fallback, outages):
    """With the primary up, claims and answers go there and the fallback is never asked."""
    assert _run_once(store, "k1") is None
    assert _run_once(store, "k1") == ANSWER
    assert primary.begin("u1", "k1", "fp") == ANSWER
    assert fallback.calls == 0
    assert outages.down() == {}


def test_fallback_serves_while_primary_is_down(store, primary, fallback, outages):
    """With the primary down, the request runs once and its duplicate replays from the fallback."""
    primary.up = False
    assert _run_once(store, "k1") is None
    assert _run_once(store, "k1") == ANSWER
    assert fallback.begin("u1", "k1", "fp") == ANSWER
    assert "redis" in outages.down()


def test_reuse_is_refused_by_the_fallback_too(store, primary):
    """A key reused with another body is refused during an outage as well."""
    primary.up = False
    _run_once(store, "k1")
    with pytest.raises(IdempotencyKeyReused):
        store.begin("u1", "k1", "another body")


def test_outage_is_warned_once_not_per_request(store, primary, clock, caplog):
    """Many requests, and several probes, during one outage give one warning."""
    caplog.set_level(logging.WARNING, logger="cinema.backends")
    primary.up = False
    for number in range(20):
        _run_once(store, f"k{number}")
        clock.advance(0.3)
    assert primary.calls >= 4, "the primary was probed again during the outage"
    assert _warnings(caplog, "unreachable") == 1


def test_primary_is_left_alone_for_a_pause_after_failing(store, primary, clock):
    """After a failure the primary is not asked again until the pause is over."""
    primary.up = False
    _run_once(store, "k0")
    probes = primary.calls
    for number in range(10):
        _run_once(store, f"k{number + 1}")
    assert primary.calls == probes
    clock.advance(PAUSE.total_seconds())
    _run_once(store, "late")
    _run_once(store, "later")
    assert primary.calls == probes + 1, "one probe per pause, whoever asks"


def test_recovery_is_picked_up_without_a_restart(store, primary, fallback, outages, clock, caplog):
    """Once the primary answers again it is used again, and the outage is over."""
    caplog.set_level(logging.WARNING, logger="cinema.backends")
    primary.up = False
    _run_once(store, "during")
    primary.up = True
    clock.advance(PAUSE.total_seconds())
    assert _run_once(store, "after") is None
    assert primary.begin("u1", "after", "fp") == ANSWER
    assert fallback.begin("u1", "after", "fp") is None, "nothing was left in the fallback"
    assert outages.down() == {}
    assert _warnings(caplog, "reachable again") == 1


def test_answer_given_during_the_outage_is_replayed_after_it(store, primary, clock):
    """A retry arriving after recovery replays the answer the fallback gave during the outage
    (and the primary learns it), instead of running the request a second time."""
    primary.up = False
    assert _run_once(store, "k1") is None
    primary.up = True
    clock.advance(PAUSE.total_seconds())
    assert store.begin("u1", "k1", "fp") == ANSWER
    assert primary.begin("u1", "k1", "fp") == ANSWER


def test_key_reused_across_the_outage_is_refused(store, primary, clock):
    """A key used during the outage, reused with another body after it, is refused, and the
    primary keeps no claim for it."""
    primary.up = False
    _run_once(store, "k1")
    primary.up = True
    clock.advance(PAUSE.total_seconds())
    with pytest.raises(IdempotencyKeyReused):
        store.begin("u1", "k1", "another body")
    assert primary.begin("u1", "k1", "another body") is None


def test_fallback_that_cannot_answer_after_recovery_does_not_block(store, primary, fallback, clock):
    """If the fallback is down when the primary is back, the primary's claim stands."""
    primary.up = False
    _run_once(store, "k1")
    primary.up = True
    fallback.up = False
    clock.advance(PAUSE.total_seconds())
    assert _run_once(store, "k2") is None
    assert primary.begin("u1", "k2", "fp") == ANSWER


def test_fallback_is_not_consulted_once_the_recall_is_over(store, primary, fallback, clock):
    """A day after the fallback was last used, keys new to the primary are not looked up
    there any more."""
    primary.up = False
    _run_once(store, "k1")
    primary.up = True
    clock.advance(RECALL.total_seconds())
    asked = fallback.calls
    assert _run_once(store, "k2") is None
    assert fallback.calls == asked


def test_no_lookup_in_the_fallback_without_an_outage(store, fallback):
    """While the primary has always answered, the fallback costs nothing."""
    for number in range(5):
        _run_once(store, f"k{number}")
    assert fallback.calls == 0


def test_claim_made_in_the_fallback_is_finished_there(store, primary, fallback, clock):
    """A request begun during the outage stores its answer in the fallback, even if the
    primary came back while it ran."""
    primary.up = False
    assert store.begin("u1", "k1", "fp") is None
    primary.up = True
    clock.advance(PAUSE.total_seconds())
    store.finish("u1", "k1", "fp", ANSWER)
    assert fallback.begin("u1", "k1", "fp") == ANSWER
    assert primary.begin("u1", "k1", "fp") is None


def test_answer_is_kept_by_the_fallback_when_primary_fails_at_finish(store, primary, outages):
    """If the primary goes away between claim and answer, the answer is not lost: duplicates
    during the outage replay it."""
    assert store.begin("u1", "k1", "fp") is None
    primary.up = False
    store.finish("u1", "k1", "fp", ANSWER)
    assert "redis" in outages.down()
    assert store.begin("u1", "k1", "fp") == ANSWER


def test_refusal_by_the_primary_is_not_an_outage(store, fallback, outages):
    """A domain refusal from the primary is its answer: no fallback, no outage."""
    _run_once(store, "k1")
    with pytest.raises(IdempotencyKeyReused):
        store.begin("u1", "k1", "another body")
    assert fallback.calls == 0
    assert outages.down() == {}


def test_abandon_on_a_primary_that_went_down_is_quiet(store, primary):
    """Abandoning cleans up after a failure: a primary that is down does not add an error."""
    assert store.begin("u1", "k1", "fp") is None
    primary.up = False
    store.abandon("u1", "k1")


def test_abandoned_claim_in_the_fallback_runs_afresh(store, primary):
    """A claim abandoned during the outage lets the retry run the request."""
    primary.up = False
    assert store.begin("u1", "k1", "fp") is None
    store.abandon("u1", "k1")
    assert store.begin("u1", "k1", "fp") is None


# -- rate limits ------------------------------------------------------------------------------


@pytest.fixture
def limiters(clock: ManualClock, outages: Outages):
    primary = SwitchedRateLimiter(clock)
    fallback = SwitchedRateLimiter(clock)
    return primary, fallback, RateLimiterWithFallback(primary, fallback, outages, clock=clock)


def test_rate_limit_uses_the_primary_bucket_while_it_is_up(limiters, outages):
    """With the primary up its bucket decides; the fallback is never asked."""
    primary, fallback, limiter = limiters
    assert [limiter.take("u1", 1.0, 2) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert primary.take("u1", 1.0, 2) == 1.0
    assert fallback.calls == 0
    assert outages.down() == {}


def test_rate_limit_keeps_limiting_on_the_fallback_during_an_outage(limiters, caplog, clock):
    """During an outage the fallback's bucket limits (never unlimited), warned once."""
    caplog.set_level(logging.WARNING, logger="cinema.backends")
    primary, fallback, limiter = limiters
    primary.up = False
    assert [limiter.take("u1", 1.0, 2) for _ in range(3)] == [0.0, 0.0, 1.0]
    clock.advance(PAUSE.total_seconds())
    assert limiter.take("u1", 1.0, 2) == 0.0
    assert fallback.calls == 4
    assert _warnings(caplog, "unreachable") == 1


def test_rate_limit_returns_to_the_primary_after_recovery(limiters, outages, clock):
    """When the primary answers again, its bucket is the one taken from."""
    primary, fallback, limiter = limiters
    primary.up = False
    limiter.take("u1", 1.0, 2)
    primary.up = True
    clock.advance(PAUSE.total_seconds())
    asked = fallback.calls
    limiter.take("u1", 1.0, 2)
    limiter.take("u1", 1.0, 2)
    assert primary.take("u1", 1.0, 2) == 1.0
    assert fallback.calls == asked
    assert outages.down() == {}


def test_take_all_fails_over_as_a_whole(limiters, outages, clock):
    """take_all asks the primary while it is up and the fallback during an outage, every
    bucket of the call in the one that answers, in one call to it."""
    primary, fallback, limiter = limiters
    both = [("client:c1", 1.0, 1), ("user:u1", 1.0, 2)]
    assert limiter.take_all(both) == 0.0
    assert (primary.calls, fallback.calls) == (1, 0)
    assert primary.take("client:c1", 1.0, 1) == 1.0
    primary.up = False
    assert limiter.take_all(both) == 0.0
    assert limiter.take_all(both) == 1.0, "the fallback's client bucket is spent now"
    assert fallback.take("user:u1", 1.0, 2) == 0.0, "and the second call left its user's"
    assert fallback.calls == 3
    assert "redis" in outages.down()


# -- seat locks -------------------------------------------------------------------------------


class SwitchedSeatLock(InMemorySeatLock):
    """An in-memory seat lock that can be taken down, like the store above."""

    def __init__(self, clock: ManualClock):
        super().__init__(clock)
        self.up = True
        self.calls = 0

    def acquire(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: str,
        ttl: float,
        *,
        unless_waiting: bool = False,
    ) -> None:
        self._answering()
        super().acquire(session_id, labels, owner, ttl, unless_waiting=unless_waiting)

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        self._answering()
        super().release(session_id, labels, owner)

    def locked(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        self._answering()
        return super().locked(session_id, labels)

    def _answering(self) -> None:
        self.calls += 1
        if not self.up:
            raise BackendUnavailable("switched off")


SESSION = uuid4()
A1 = [SeatLabel.parse("A1")]


@pytest.fixture
def switched_lock(clock: ManualClock) -> SwitchedSeatLock:
    return SwitchedSeatLock(clock)


@pytest.fixture
def paused_lock(switched_lock, outages, clock) -> SeatLockWithPause:
    return SeatLockWithPause(switched_lock, outages, clock=clock)


def test_seat_lock_conflicts_pass_through_and_are_no_outage(paused_lock, outages):
    """With the lock service up, its refusals reach the caller and nothing is marked down."""
    paused_lock.acquire(SESSION, A1, "o1", 30)
    with pytest.raises(SeatsUnavailable):
        paused_lock.acquire(SESSION, A1, "o2", 30)
    assert outages.down() == {}


def test_seat_lock_is_not_asked_for_a_pause_after_failing(paused_lock, switched_lock, clock):
    """After a failure, acquiring raises at once without asking the service, until the pause
    is over; then the service is probed again."""
    switched_lock.up = False
    with pytest.raises(BackendUnavailable):
        paused_lock.acquire(SESSION, A1, "o1", 30)
    asked = switched_lock.calls
    for _ in range(10):
        with pytest.raises(BackendUnavailable):
            paused_lock.acquire(SESSION, A1, "o1", 30)
    assert switched_lock.calls == asked
    clock.advance(PAUSE.total_seconds())
    with pytest.raises(BackendUnavailable):
        paused_lock.acquire(SESSION, A1, "o1", 30)
    assert switched_lock.calls == asked + 1


def test_seat_lock_release_is_tried_even_during_the_pause(paused_lock, switched_lock):
    """A release is always attempted: a lock left behind would turn buyers away."""
    paused_lock.acquire(SESSION, A1, "o1", 30)
    switched_lock.up = False
    with pytest.raises(BackendUnavailable):
        paused_lock.acquire(SESSION, [SeatLabel.parse("B1")], "o2", 30)
    switched_lock.up = True
    paused_lock.release(SESSION, A1, "o1")
    switched_lock.acquire(SESSION, A1, "o3", 30)


def test_seat_lock_is_used_again_after_recovery(paused_lock, switched_lock, outages, clock):
    """Once the service answers after the pause, locks are taken there again."""
    switched_lock.up = False
    with pytest.raises(BackendUnavailable):
        paused_lock.acquire(SESSION, A1, "o1", 30)
    switched_lock.up = True
    clock.advance(PAUSE.total_seconds())
    paused_lock.acquire(SESSION, A1, "o1", 30)
    assert outages.down() == {}
    with pytest.raises(SeatsUnavailable):
        switched_lock.acquire(SESSION, A1, "o2", 30)


def test_box_office_sells_on_the_store_alone_while_the_lock_rests(
    paused_lock, switched_lock, outages, clock
):
    """With the lock service down, reservations still go through, and the store still refuses
    a second hold of the same seat (the lock composed as bootstrap does: paused, forgiving)."""
    lock = ForgivingSeatLock(paused_lock, outages)
    box = BoxOffice(InMemoryReservationRepo(), lock, clock, outages=outages)
    session = new_session(box, days=1).session
    switched_lock.up = False
    box.reserve("u1", session.id, ["A1", "A2"])
    with pytest.raises(SeatsUnavailable):
        box.reserve("u2", session.id, ["A2", "A3"])
    assert "redis" in outages.down()


@pytest.fixture
def forgiving(switched_lock, outages) -> ForgivingSeatLock:
    return ForgivingSeatLock(switched_lock, outages)


def test_forgiving_seat_lock_filters_nothing_while_the_service_is_down(
    forgiving, switched_lock, outages, caplog
):
    """Down: acquire lets every owner through and locked knows of no seat, never raising;
    the outage is warned once, and the first acquire that succeeds ends it."""
    switched_lock.acquire(SESSION, A1, "o0", 30)
    switched_lock.up = False
    with caplog.at_level(logging.WARNING, logger="cinema.backends"):
        forgiving.acquire(SESSION, A1, "o1", 30)
        forgiving.acquire(SESSION, A1, "o2", 30)
        assert forgiving.locked(SESSION, A1) == set()
        assert outages.down() == {"redis": "switched off"}
        switched_lock.up = True
        forgiving.acquire(SESSION, [SeatLabel.parse("B1")], "o3", 30)
    assert outages.down() == {}
    assert [r.getMessage() for r in caplog.records] == [
        "redis unreachable; carrying on without it",
        "redis reachable again",
    ]


def test_forgiving_seat_lock_passes_refusals_through(forgiving, outages):
    """Seats another owner has are refused as by the lock itself: an answer, not an outage."""
    forgiving.acquire(SESSION, A1, "o1", 30)
    with pytest.raises(SeatsUnavailable):
        forgiving.acquire(SESSION, A1, "o2", 30)
    assert forgiving.locked(SESSION, A1) == set(A1)
    assert outages.down() == {}


def test_forgiving_seat_lock_never_asks_a_failed_service_to_release_what_it_could_not_take(
    forgiving, switched_lock
):
    """Seats it could not take for an owner are not released through the service (nothing of
    theirs is there); seats it did take are, and a failed release is only reported."""
    switched_lock.up = False
    forgiving.acquire(SESSION, A1, "o1", 30)
    asked = switched_lock.calls
    forgiving.release(SESSION, A1, "o1")
    assert switched_lock.calls == asked
    switched_lock.up = True
    forgiving.acquire(SESSION, A1, "o2", 30)
    switched_lock.up = False
    forgiving.release(SESSION, A1, "o2")
    assert switched_lock.calls == asked + 2
    switched_lock.up = True
    with pytest.raises(SeatsUnavailable):
        switched_lock.acquire(SESSION, A1, "o3", 30)
