"""In-memory implementations of every port: the in-memory mode of the product, not test doubles."""

from cinema_core.memory.event_bus import InMemoryEventBus
from cinema_core.memory.idempotency import InMemoryIdempotencyStore
from cinema_core.memory.metrics import TalliedMetrics
from cinema_core.memory.processed import InMemoryProcessedEvents
from cinema_core.memory.rate_limit import InMemoryRateLimiter
from cinema_core.memory.seat_lock import InMemorySeatLock
from cinema_core.memory.store import InMemoryReservationRepo
from cinema_core.memory.webhooks import InMemoryWebhookStore

__all__ = [
    "InMemoryEventBus",
    "InMemoryIdempotencyStore",
    "InMemoryProcessedEvents",
    "InMemoryRateLimiter",
    "InMemoryReservationRepo",
    "InMemorySeatLock",
    "InMemoryWebhookStore",
    "TalliedMetrics",
]
