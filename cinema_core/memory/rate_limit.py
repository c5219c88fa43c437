"""Token buckets in process memory."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from cinema_core.kernel.clock import Clock, SystemClock
from cinema_core.ports import Bucket


class InMemoryRateLimiter:
    """The ``RateLimiter`` port in process memory."""

    def __init__(self, clock: Clock | None = None):
        self._clock = clock or SystemClock()
        self._buckets: dict[str, tuple[float, datetime]] = {}
        self._mutex = threading.Lock()

    def take(self, key: str, rate: float, burst: int) -> float:
        return self.take_all(((key, rate, burst),))

    def take_all(self, buckets: Sequence[Bucket]) -> float:
        now = self._clock.now()
        with self._mutex:
            for key, rate, burst in buckets:
                wait = self._take(key, rate, burst, now)
                if wait > 0:
                    return wait
        return 0.0

    def _take(self, key: str, rate: float, burst: int, now: datetime) -> float:
        tokens, since = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + max(0.0, (now - since).total_seconds()) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > 100_000:
            self._buckets.clear()
        return (1 - tokens) / rate
