"""The Redis adapters shared by every process: seat locks, idempotency keys, rate limits, queues.

Redis is an accelerator, never the judge: each adapter raises ``BackendUnavailable`` when Redis
cannot be reached, and the box office carries on without it (see
``cinema_core.resilience.fallbacks``).
"""

from .client import connect, ping
from .idempotency import RedisIdempotencyStore
from .rate_limit import RedisRateLimiter
from .seat_lock import RedisSeatLock
from .waiting import RedisWaitingLines

__all__ = [
    "RedisIdempotencyStore",
    "RedisRateLimiter",
    "RedisSeatLock",
    "RedisWaitingLines",
    "connect",
    "ping",
]
