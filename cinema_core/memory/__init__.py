"""In-memory implementations of every port: the in-memory mode of the product, not test doubles."""

from .event_bus import InMemoryEventBus
from .idempotency import InMemoryIdempotencyStore
from .rate_limit import InMemoryRateLimiter
from .seat_lock import InMemorySeatLock
from .store import InMemoryReservationRepo

__all__ = [
    "InMemoryEventBus",
    "InMemoryIdempotencyStore",
    "InMemoryRateLimiter",
    "InMemoryReservationRepo",
    "InMemorySeatLock",
]
