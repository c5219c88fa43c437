"""The Redis rate limiter with its leases unguarded, for the lease race's control run only.

``unguarded(limiter, together)`` drops the lock around a process's leases and makes the first
``together`` takers read a lease before any of them spends from it: each then spends the same
token, which is the race the lock rules out.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from adapters.redis import RedisRateLimiter


class _ReadTogether(dict[str, Any]):
    def __init__(self, leases: dict[str, Any], together: int):
        super().__init__(leases)
        self._barrier = threading.Barrier(together)
        self._reads = iter(range(together))

    def get(self, key: str, default: Any = None) -> Any:
        lease = super().get(key, default)
        if next(self._reads, None) is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                self._barrier.wait(timeout=5)
        return lease


def unguarded(limiter: RedisRateLimiter, together: int) -> RedisRateLimiter:
    limiter._mutex = contextlib.nullcontext()  # type: ignore[assignment]
    limiter._leases = _ReadTogether(limiter._leases, together)
    return limiter
