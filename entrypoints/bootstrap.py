"""The composition root: builds the box office from settings. Nothing here connects at import."""

from __future__ import annotations

from datetime import timedelta

import attrs

from cinema_core import BoxOffice, Clock, Outages, Relay, SystemClock
from cinema_core.memory import (
    InMemoryEventBus,
    InMemoryIdempotencyStore,
    InMemoryRateLimiter,
    InMemoryReservationRepo,
    InMemorySeatLock,
)
from cinema_core.ports import EventBus, IdempotencyStore, RateLimiter

from .config import Settings


@attrs.define
class Services:
    """Everything a process of the box office runs on, built once, closed once."""

    settings: Settings
    box: BoxOffice
    relay: Relay
    bus: EventBus
    # Events published by this process's relay, or received from the broker, reach these.
    local_events: InMemoryEventBus
    idempotency: IdempotencyStore
    rate_limiter: RateLimiter
    outages: Outages
    closers: list[object] = attrs.Factory(list)

    @property
    def backends(self) -> dict[str, str]:
        """Which backends this process uses: ``database``, ``redis``, ``broker`` → url or memory."""
        s = self.settings
        return {
            "database": "postgresql" if s.database_url else "memory",
            "redis": "redis" if s.redis_url else "memory",
            "broker": "rabbitmq" if s.amqp_url else "memory",
        }

    def close(self) -> None:
        for closer in reversed(self.closers):
            close = getattr(closer, "close", None)
            if close is not None:
                close()


def bootstrap(settings: Settings, clock: Clock | None = None) -> Services:
    """Wire the adapters the settings name; whatever is not configured runs in memory."""
    clock = clock or SystemClock()
    outages = Outages()
    local_events = InMemoryEventBus()

    repo = InMemoryReservationRepo()
    seat_lock = InMemorySeatLock(clock)
    idempotency: IdempotencyStore = InMemoryIdempotencyStore(clock)
    rate_limiter: RateLimiter = InMemoryRateLimiter(clock)
    bus: EventBus = local_events

    box = BoxOffice(repo, seat_lock, clock, timedelta(seconds=settings.hold_seconds), outages)
    relay = Relay(repo, bus, outages)
    return Services(settings, box, relay, bus, local_events, idempotency, rate_limiter, outages)
