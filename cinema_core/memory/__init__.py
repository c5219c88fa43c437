"""In-memory implementations of every port: the in-memory mode of the product, not test doubles."""

from .audit import InMemoryAuditTrail
from .event_bus import InMemoryEventBus
from .idempotency import InMemoryIdempotencyStore
from .processed import InMemoryProcessedEvents
from .rate_limit import InMemoryRateLimiter
from .seat_lock import InMemorySeatLock
from .store import InMemoryReservationRepo

__all__ = [
    "InMemoryAuditTrail",
    "InMemoryEventBus",
    "InMemoryIdempotencyStore",
    "InMemoryProcessedEvents",
    "InMemoryRateLimiter",
    "InMemoryReservationRepo",
    "InMemorySeatLock",
]
