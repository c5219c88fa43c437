"""The Redis adapters: seat locks, idempotency keys and rate limits shared by every process.

Redis is an accelerator, never the judge: each adapter raises ``BackendUnavailable`` when Redis
cannot be reached, and the box office carries on without it (see
``cinema_core.resilience.fallbacks``).
"""

from .client import connect, ping
from .idempotency import RedisIdempotencyStore
from .rate_limit import RedisRateLimiter
from .seat_lock import RedisSeatLock

__all__ = ["RedisIdempotencyStore", "RedisRateLimiter", "RedisSeatLock", "connect", "ping"]
