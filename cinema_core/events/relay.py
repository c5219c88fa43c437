"""The relay: moves committed events from the store's outbox to the event bus."""

from __future__ import annotations

from collections.abc import Sequence

from cinema_core.errors import BackendUnavailable
from cinema_core.events.envelopes import Event
from cinema_core.ports import EventBus, ReservationRepo
from cinema_core.resilience.outages import Outages


class Relay:
    """Publishes the outbox in order. With the bus down, events wait in the store (nothing is
    lost, the box office keeps selling) and go out on the first call after it is back."""

    def __init__(self, repo: ReservationRepo, bus: EventBus, outages: Outages | None = None):
        self.repo = repo
        self.bus = bus
        self.outages = outages or Outages()

    def run_once(self, limit: int = 500) -> int:
        """Publish up to ``limit`` events; returns how many went out."""
        published = False

        def publish(events: Sequence[Event]) -> None:
            nonlocal published
            self.bus.publish(events)
            published = True

        try:
            sent = self.repo.relay_outbox(publish, limit)
        except BackendUnavailable as error:
            self.outages.failed("broker", error)
            return 0
        # Only a publish the broker took says it is back: a pass with nothing to send touched
        # no broker, and saying "reachable again" then logged a false recovery every few
        # seconds of an outage the live feed and the consumers kept reporting.
        if published:
            self.outages.recovered("broker")
        return sent
