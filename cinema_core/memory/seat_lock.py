"""Seat locks in process memory, with owners and TTLs measured on the box office's clock."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from ..clock import Clock, SystemClock
from ..errors import SeatsUnavailable
from ..seats import SeatLabel


class InMemorySeatLock:
    """The ``SeatLock`` port in process memory; all-or-none, thread-safe."""

    def __init__(self, clock: Clock | None = None):
        self._clock = clock or SystemClock()
        self._locks: dict[tuple[UUID, SeatLabel], tuple[str, datetime]] = {}
        self._mutex = threading.Lock()

    def acquire(
        self, session_id: UUID, labels: Sequence[SeatLabel], owner: str, ttl: float
    ) -> None:
        now = self._clock.now()
        with self._mutex:
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
                self._locks[(session_id, label)] = (owner, until)
            if len(self._locks) > 10_000:
                self._forget_lapsed(now)

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        with self._mutex:
            for label in labels:
                key = (session_id, label)
                held = self._locks.get(key)
                if held and held[0] == owner:
                    del self._locks[key]

    def _forget_lapsed(self, now: datetime) -> None:
        for key in [key for key, (_, until) in self._locks.items() if until <= now]:
            del self._locks[key]
