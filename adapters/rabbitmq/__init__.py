"""RabbitMQ adapters: the event bus (a batch in one transaction), the topology, the consumer runner
with retries and dead letters, and each API process's live feed of seat events."""

from .dead_letters import peek_dead_letters
from .event_bus import RabbitEventBus
from .live_feed import SEAT_EVENT_TYPES, LiveFeed
from .queue_depths import queue_depths
from .runner import ConsumerRunner
from .topology import Topology

__all__ = [
    "SEAT_EVENT_TYPES",
    "ConsumerRunner",
    "LiveFeed",
    "RabbitEventBus",
    "Topology",
    "peek_dead_letters",
    "queue_depths",
]
