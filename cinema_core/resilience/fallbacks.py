"""Degraded operation: a shared backend first, a stand-in while it is down, and back by itself.

Idempotency keys and rate limits live in Redis so that every process shares them; when Redis is
unreachable the box office must still serve, so these wrappers turn to a fallback (the database's
idempotency store, or this process's memory) and tell ``Outages``, which warns once per outage.
After a failure the primary is left alone for a short pause, so an outage costs one failed probe
per pause rather than a timeout per request; the first success after it ends the outage. Seat
locks have no stand-in (the store is the judge): the pause, and a lock that forgives its outages
(``ForgivingSeatLock``), so that no use case ever hears of one.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID

from cinema_core.errors import (
    BackendUnavailable,
    CinemaError,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    WaitingRoomMayBeOn,
    WaitingRoomUnavailable,
)
from cinema_core.kernel.clock import Clock, SystemClock
from cinema_core.ports import (
    Bucket,
    IdempotencyStore,
    RateLimiter,
    SeatLock,
    StoredAnswer,
    WaitingLines,
)
from cinema_core.resilience.outages import Outages
from cinema_core.rooms.seats import SeatLabel
from cinema_core.waiting.room import Place, RoomFigures, RoomSettings

S = TypeVar("S")
T = TypeVar("T")

PAUSE = timedelta(seconds=1)
# As long as idempotency keys are remembered: a key used during an outage may be retried later.
RECALL = timedelta(hours=24)
# Owners whose seats a forgiving lock could not take, remembered so as not to release them.
UNTAKEN_REMEMBERED = 10_000

__all__ = [
    "PAUSE",
    "RECALL",
    "ForgivingSeatLock",
    "IdempotencyWithFallback",
    "RateLimiterWithFallback",
    "SeatLockWithPause",
    "WaitingLinesFailingClosed",
]


class _Probe:
    """When a shared backend may be asked again, and the outage bookkeeping."""

    def __init__(self, outages: Outages, backend: str, clock: Clock | None, pause: timedelta):
        self._outages = outages
        self._backend = backend
        self._clock = clock or SystemClock()
        self._pause = pause
        self._retry_at: datetime | None = None
        self._mutex = threading.Lock()

    def resting(self) -> bool:
        """Whether to leave the backend alone: it failed less than a pause ago, or another
        request has just been chosen to probe it."""
        with self._mutex:
            if self._retry_at is None:
                return False
            now = self._clock.now()
            if now < self._retry_at:
                return True
            # This caller probes; the others keep resting until it answers (or another pause
            # passes), so a backend that hangs costs one timeout per pause, not one per request.
            self._retry_at = now + self._pause
            return False

    def attempt(self, action: Callable[[], T]) -> T:
        """Run ``action`` against the backend; a failure is recorded, then raised."""
        try:
            result = action()
        except BackendUnavailable as error:
            with self._mutex:
                self._retry_at = self._clock.now() + self._pause
            self._outages.failed(self._backend, error)
            raise
        except CinemaError:
            # A refusal is an answer: the backend is up.
            self._succeeded()
            raise
        self._succeeded()
        return result

    def _succeeded(self) -> None:
        with self._mutex:
            self._retry_at = None
        self._outages.recovered(self._backend)


class _Failover(Generic[S]):
    """Two implementations of a port: the primary while it answers, else the fallback."""

    def __init__(self, primary: S, fallback: S, probe: _Probe):
        self.primary = primary
        self.fallback = fallback
        self.probe = probe

    def call(self, action: Callable[[S], T]) -> tuple[T, S]:
        """``action`` on the primary if it may be tried and answers, else on the fallback."""
        if self.probe.resting():
            return action(self.fallback), self.fallback
        try:
            return self.on_primary(action), self.primary
        except BackendUnavailable:
            return action(self.fallback), self.fallback

    def on_primary(self, action: Callable[[S], T]) -> T:
        """``action`` on the primary whatever the pause; a failure is recorded, then raised."""
        return self.probe.attempt(lambda: action(self.primary))


class IdempotencyWithFallback:
    """The ``IdempotencyStore`` port over a shared primary, with a fallback while it is down.

    A claim is finished (or abandoned) in the store that made it, even if the primary came
    back or went away meanwhile; an answer the primary cannot take is kept by the fallback.
    Keys used during an outage are known to the fallback only, so for ``recall`` after this
    process last used it, a key new to the primary is looked up in the fallback too: a retry
    arriving after the outage replays the answer given during it instead of running again.
    """

    def __init__(
        self,
        primary: IdempotencyStore,
        fallback: IdempotencyStore,
        outages: Outages,
        *,
        backend: str = "redis",
        clock: Clock | None = None,
        pause: timedelta = PAUSE,
        recall: timedelta = RECALL,
    ):
        self._clock = clock or SystemClock()
        self._stores = _Failover(primary, fallback, _Probe(outages, backend, self._clock, pause))
        self._recall = recall
        self._recall_until: datetime | None = None
        self._claims: dict[tuple[str, str], IdempotencyStore] = {}
        self._mutex = threading.Lock()

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
        """Claim the key in the primary, or in the fallback while the primary is down."""
        answer, store = self._stores.call(lambda s: s.begin(scope, key, fingerprint))
        if store is self._stores.fallback:
            self._fallback_used()
        elif answer is None and self._recalling():
            answer = self._recalled(scope, key, fingerprint)
        if answer is None:
            with self._mutex:
                self._claims[(scope, key)] = store
        return answer

    def finish(self, scope: str, key: str, fingerprint: str, answer: StoredAnswer) -> None:
        """Store the answer where the claim was made (the fallback if that store is gone)."""
        store = self._claimant(scope, key)
        if store is not self._stores.fallback:
            try:
                self._stores.on_primary(lambda s: s.finish(scope, key, fingerprint, answer))
                return
            except BackendUnavailable:
                # Keep the answer somewhere: duplicates arriving during the outage replay it.
                pass
        self._fallback_used()
        self._stores.fallback.finish(scope, key, fingerprint, answer)

    def abandon(self, scope: str, key: str) -> None:
        """Drop the claim where it was made; a primary that is down is left to its lease."""
        store = self._claimant(scope, key)
        if store is self._stores.fallback:
            self._stores.fallback.abandon(scope, key)
            return
        # Abandoning is cleanup after a failure already being reported; the claim's lease
        # runs out by itself, and an error here would hide the one that matters.
        with contextlib.suppress(BackendUnavailable):
            self._stores.on_primary(lambda s: s.abandon(scope, key))

    def _recalled(self, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
        """The fallback's answer for a key the primary has just let us claim, if it has one;
        it is copied to the primary so that later duplicates find it there."""
        primary, fallback = self._stores.primary, self._stores.fallback
        try:
            found = fallback.begin(scope, key, fingerprint)
        except (IdempotencyKeyReused, IdempotencyInProgress):
            with contextlib.suppress(BackendUnavailable):
                primary.abandon(scope, key)
            raise
        except (BackendUnavailable, CinemaError):
            # The fallback cannot tell (the database is down too): the primary's claim stands.
            return None
        if found is None:
            # New to both: the fallback's claim was only a question; the primary's stands.
            with contextlib.suppress(BackendUnavailable, CinemaError):
                fallback.abandon(scope, key)
            return None
        with contextlib.suppress(BackendUnavailable):
            primary.finish(scope, key, fingerprint, found)
        return found

    def _fallback_used(self) -> None:
        with self._mutex:
            self._recall_until = self._clock.now() + self._recall

    def _recalling(self) -> bool:
        with self._mutex:
            return self._recall_until is not None and self._clock.now() < self._recall_until

    def _claimant(self, scope: str, key: str) -> IdempotencyStore | None:
        with self._mutex:
            return self._claims.pop((scope, key), None)


class RateLimiterWithFallback:
    """The ``RateLimiter`` port over a shared primary, with a fallback while it is down.

    During an outage each process limits on its own: looser across processes, never off.
    """

    def __init__(
        self,
        primary: RateLimiter,
        fallback: RateLimiter,
        outages: Outages,
        *,
        backend: str = "redis",
        clock: Clock | None = None,
        pause: timedelta = PAUSE,
    ):
        self._limiters = _Failover(primary, fallback, _Probe(outages, backend, clock, pause))

    def take(self, key: str, rate: float, burst: int) -> float:
        """Take a token from the primary's bucket, or from the fallback's while it is down."""
        wait, _ = self._limiters.call(lambda limiter: limiter.take(key, rate, burst))
        return wait

    def take_all(self, buckets: Sequence[Bucket]) -> float:
        """Take a token from each bucket in the primary, or in the fallback while it is down.

        A primary that fails part way (a Cluster takes each bucket in a round trip of its own)
        leaves the whole list to the fallback, the buckets the primary did take included: as
        with a ``take`` that timed out after Redis ran it, the request counts in both."""
        wait, _ = self._limiters.call(lambda limiter: limiter.take_all(buckets))
        return wait


class SeatLockWithPause:
    """The ``SeatLock`` port over a shared lock service, left alone for a pause after it fails.

    There is no stand-in: the box office sells on the store alone when the lock raises
    ``BackendUnavailable``. What this adds is speed during an outage: for a pause after a
    failure ``acquire`` raises at once instead of waiting on a connection that will time out.
    ``release`` is always tried: a lock left behind would turn buyers away until it lapses.
    """

    def __init__(
        self,
        primary: SeatLock,
        outages: Outages,
        *,
        backend: str = "redis",
        clock: Clock | None = None,
        pause: timedelta = PAUSE,
    ):
        self._primary = primary
        self._backend = backend
        self._probe = _Probe(outages, backend, clock, pause)

    def acquire(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: str,
        ttl: float,
        *,
        unless_waiting: bool = False,
    ) -> None:
        """Take the seats in the lock service, or raise ``BackendUnavailable`` at once while
        it rests after a failure."""
        if self._probe.resting():
            raise BackendUnavailable(f"{self._backend}: not asked for a while after failing")
        self._probe.attempt(
            lambda: self._primary.acquire(
                session_id, labels, owner, ttl, unless_waiting=unless_waiting
            )
        )

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        """Drop the owner's locks in the lock service."""
        self._probe.attempt(lambda: self._primary.release(session_id, labels, owner))

    def locked(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        """The seats locked in the lock service, or ``BackendUnavailable`` at once while it
        rests after a failure."""
        if self._probe.resting():
            raise BackendUnavailable(f"{self._backend}: not asked for a while after failing")
        return self._probe.attempt(lambda: self._primary.locked(session_id, labels))


class ForgivingSeatLock:
    """The ``SeatLock`` port over a lock service that may be down, never raising
    ``BackendUnavailable``: while the service fails it filters nothing (the store alone judges,
    as it always can) and tells ``Outages``, which warns once per outage and ``/ready`` reads.

    ``acquire`` that fails lets the request through, and the first one that succeeds ends the
    outage; ``locked`` knows of no seat; ``release`` is tried and its failure only reported (the
    lock lapses with the hold anyway), except for seats this wrapper could not take for that
    owner: there is nothing of theirs to drop, and asking a service that has just failed would
    cost a failed hold a second timeout. ``SeatsUnavailable`` (taken by another owner) passes
    through: it is an answer, not an outage.
    """

    def __init__(self, primary: SeatLock, outages: Outages, *, backend: str = "redis"):
        self._primary = primary
        self._outages = outages
        self._backend = backend
        self._untaken: dict[tuple[UUID, str], frozenset[SeatLabel]] = {}
        self._mutex = threading.Lock()

    def acquire(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: str,
        ttl: float,
        *,
        unless_waiting: bool = False,
    ) -> None:
        """Take the seats in the lock service; while it is down, take nothing and say so.

        Asked to read the waiting room too, a lock service that is down cannot tell:
        ``WaitingRoomMayBeOn``, and the caller's own check (which fails closed) decides."""
        try:
            self._primary.acquire(session_id, labels, owner, ttl, unless_waiting=unless_waiting)
        except BackendUnavailable as error:
            self._outages.failed(self._backend, error)
            if unless_waiting:
                raise WaitingRoomMayBeOn() from error
            with self._mutex:
                if len(self._untaken) >= UNTAKEN_REMEMBERED:
                    self._untaken.clear()  # forgetting one costs only a release tried in vain
                self._untaken[(session_id, owner)] = frozenset(labels)
            return
        with self._mutex:
            self._untaken.pop((session_id, owner), None)
        self._outages.recovered(self._backend)

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        """Drop the owner's locks in the lock service, if it took them; a failure is reported."""
        with self._mutex:
            untaken = self._untaken.get((session_id, owner))
            if untaken is not None and untaken.issuperset(labels):
                del self._untaken[(session_id, owner)]
                return
        try:
            self._primary.release(session_id, labels, owner)
        except BackendUnavailable as error:
            self._outages.failed(self._backend, error)

    def locked(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        """The seats locked in the lock service; none known while it is down."""
        try:
            return self._primary.locked(session_id, labels)
        except BackendUnavailable as error:
            self._outages.failed(self._backend, error)
            return set()


class WaitingLinesFailingClosed:
    """The ``WaitingLines`` port over a shared store that fails closed while it is down.

    No process may keep a queue of its own (the order would be its own), so while the store is
    away nobody joins or is admitted: ``WaitingRoomUnavailable`` (503). A reservation is let
    through only if this process last saw its session with no room on; one it last saw with
    the room on is refused the same way, so an outage never opens the doors.
    """

    def __init__(
        self,
        primary: WaitingLines,
        outages: Outages,
        *,
        backend: str = "redis",
        clock: Clock | None = None,
        pause: timedelta = PAUSE,
    ):
        self._primary = primary
        self._probe = _Probe(outages, backend, clock, pause)
        self._seen: dict[UUID, RoomSettings | None] = {}
        self._mutex = threading.Lock()

    def _on_primary(self, action: Callable[[WaitingLines], T]) -> T:
        if self._probe.resting():
            raise WaitingRoomUnavailable()
        try:
            return self._probe.attempt(lambda: action(self._primary))
        except BackendUnavailable as error:
            raise WaitingRoomUnavailable() from error

    def configure(self, session_id: UUID, settings: RoomSettings, now: datetime) -> None:
        self._on_primary(lambda lines: lines.configure(session_id, settings, now))
        self._saw(session_id, settings)

    def settings(self, session_id: UUID) -> RoomSettings | None:
        try:
            found = self._on_primary(lambda lines: lines.settings(session_id))
        except WaitingRoomUnavailable:
            with self._mutex:
                last = self._seen.get(session_id)
            if last is not None and last.enabled:
                raise
            return last
        self._saw(session_id, found)
        return found

    def join(
        self, session_id: UUID, user_id: str, ticket: str, now: datetime, lasts: timedelta
    ) -> Place | None:
        return self._on_primary(lambda lines: lines.join(session_id, user_id, ticket, now, lasts))

    def look(self, session_id: UUID, ticket: str, now: datetime, lasts: timedelta) -> Place | None:
        return self._on_primary(lambda lines: lines.look(session_id, ticket, now, lasts))

    def leave(self, session_id: UUID, ticket: str) -> bool:
        return self._on_primary(lambda lines: lines.leave(session_id, ticket))

    def active_until(
        self, session_id: UUID, ticket: str, user_id: str, now: datetime
    ) -> datetime | None:
        return self._on_primary(lambda lines: lines.active_until(session_id, ticket, user_id, now))

    def figures(self, session_id: UUID, now: datetime, lasts: timedelta) -> RoomFigures:
        return self._on_primary(lambda lines: lines.figures(session_id, now, lasts))

    def rooms(self) -> list[UUID]:
        return self._on_primary(lambda lines: lines.rooms())

    def _saw(self, session_id: UUID, settings: RoomSettings | None) -> None:
        with self._mutex:
            if len(self._seen) > 100_000:
                self._seen.clear()
            self._seen[session_id] = settings
