"""Seat locks in process memory, with owners and TTLs measured on the box office's clock."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from cinema_core.errors import SeatsUnavailable, WaitingRoomMayBeOn
from cinema_core.kernel.clock import Clock, SystemClock
from cinema_core.rooms.seats import SeatLabel

_Key = tuple[UUID, SeatLabel]


class InMemorySeatLock:
    """The ``SeatLock`` port in process memory; all-or-none, thread-safe."""

    def __init__(self, clock: Clock | None = None):
        self._clock = clock or SystemClock()
        self._locks: dict[_Key, tuple[str, datetime]] = {}
        # (until, tie-breaker, key) of every lock taken: lapsed locks are forgotten by popping
        # this heap, O(log n) each, never by scanning every lock. Entries of locks released
        # or renewed since are stale and skipped when they come up.
        self._expiry: list[tuple[datetime, int, _Key]] = []
        self._tie = itertools.count()
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
        if unless_waiting:
            # The waiting rooms live elsewhere in memory: asking them costs no round trip.
            raise WaitingRoomMayBeOn()
        now = self._clock.now()
        with self._mutex:
            self._forget_lapsed(now)
            taken = [
                label
                for label in labels
                if (held := self._locks.get((session_id, label)))
                and held[0] != owner
                and held[1] > now
            ]
            if taken:
                raise SeatsUnavailable(taken)
            until = now + timedelta(seconds=ttl)
            for label in labels:
                key = (session_id, label)
                self._locks[key] = (owner, until)
                heapq.heappush(self._expiry, (until, next(self._tie), key))

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        with self._mutex:
            for label in labels:
                key = (session_id, label)
                held = self._locks.get(key)
                if held and held[0] == owner:
                    del self._locks[key]

    def locked(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        now = self._clock.now()
        with self._mutex:
            return {
                label
                for label in labels
                if (held := self._locks.get((session_id, label))) and held[1] > now
            }

    def _forget_lapsed(self, now: datetime) -> None:
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            _, _, key = heapq.heappop(expiry)
            held = self._locks.get(key)
            # Only if the lock now stored has lapsed too: a renewed one has its own entry.
            if held is not None and held[1] <= now:
                del self._locks[key]
