"""The events wiring: where the relay publishes, which consumers run, and what runs them.

Without a broker, an in-process ``Dispatcher`` is the bus: the consumers and this process's live
seat maps are fed as the relay publishes, with the same retry and dead-letter rules as on
RabbitMQ. With ``CINEMA_AMQP_URL``, the relay publishes to RabbitMQ only; the worker's
``ConsumerRunner`` runs the durable consumers, and each API process's ``LiveFeed`` brings every
process's seat events into its own ``local_events`` (so SSE clients never see one twice).

The audit trail is no consumer: it is the outbox's published rows (``ReservationRepo.events``).

A library user adds a consumer in a line, before the worker starts::

    services.events.register(Consumer("mailer", ["payment.confirmed"], handle=send_receipt))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cinema_core import Clock, Outages
from cinema_core.events.consumers import Consumer, DeadLetter, Dispatcher
from cinema_core.memory import InMemoryEventBus, InMemoryProcessedEvents
from cinema_core.ports import EventBus, ProcessedEvents
from cinema_core.resilience.supervision import Loop, Supervisor

from .config import Settings

# How often the in-process dispatcher looks for retries that have come due.
RETRY_POLL = 0.2
LIVE_FEED_WAIT = 3.0
# local_events carries every type, as it did when the relay fed it directly: the SSE hub picks
# the seat events, the demo and the event log read the rest. The volume is one message per
# event per API process.
LOCAL_TYPES = ("#",)


def _forward_to(local: InMemoryEventBus) -> Consumer:
    # Showing a seat change twice is harmless, so no handled-ids bookkeeping.
    return Consumer("live", LOCAL_TYPES, handle_batch=local.publish, idempotent=True)


@attrs.define
class InProcessEvents:
    """Events in this process: the ``Dispatcher`` is the bus."""

    dispatcher: Dispatcher
    processed: ProcessedEvents
    supervisor: Supervisor = attrs.Factory(Supervisor)
    _retries: Loop | None = None

    @property
    def bus(self) -> EventBus:
        return self.dispatcher

    @property
    def consumers(self) -> list[Consumer]:
        return self.dispatcher.consumers

    def register(self, consumer: Consumer) -> None:
        """Run ``consumer`` on every event published from now on."""
        self.dispatcher.register(consumer)

    def dead_letters(self, consumer: str) -> list[DeadLetter]:
        return [d for d in self.dispatcher.dead_letters if d.consumer == consumer]

    def lag(self) -> dict[str, int]:
        """Events waiting for each consumer: none, each is handed its events as they are
        published."""
        return {}

    def start_consumers(self) -> None:
        """Drive retries that come due (first attempts run as the relay publishes)."""
        if self._retries is None:
            dispatcher = self.dispatcher

            def run_due() -> None:
                dispatcher.run_due()

            self._retries = self.supervisor.loop("cinema-retries", run_due, every=RETRY_POLL)
        self._retries.start()

    def stop_consumers(self) -> None:
        if self._retries is not None:
            self._retries.stop(5)

    def start_live_feed(self, on_listening: Callable[[], None] | None = None) -> None:
        """Nothing to do: the dispatcher feeds ``local_events`` directly, and never misses."""

    def stop_live_feed(self) -> None:
        """Nothing to do."""

    def close(self) -> None:
        self.stop_consumers()


@attrs.define
class BrokerEvents:
    """Events through RabbitMQ."""

    bus: Any  # adapters.rabbitmq.RabbitEventBus
    consumers: list[Consumer]
    url: str
    topology: Any  # adapters.rabbitmq.Topology
    processed: ProcessedEvents
    outages: Outages
    local_events: InMemoryEventBus
    supervisor: Supervisor = attrs.Factory(Supervisor)
    # The consumers' spans (adapters.rabbitmq.tracing.MessageTracing; None: no tracing).
    tracing: Any = None
    _runner: Any = None
    _feed: Any = None

    def register(self, consumer: Consumer) -> None:
        """Run ``consumer`` in the worker, on its own durable queue (declared at once)."""
        if self._runner is not None:
            raise RuntimeError("register consumers before the worker starts")
        self.consumers.append(consumer)
        self.bus.register(consumer)

    def dead_letters(self, consumer: str) -> list[DeadLetter]:
        from adapters.rabbitmq import peek_dead_letters

        return peek_dead_letters(self.url, consumer, self.topology)

    def lag(self) -> dict[str, int]:
        """Events waiting in each consumer's queue."""
        from adapters.rabbitmq import queue_depths

        return queue_depths(self.url, [c.name for c in self.consumers], self.topology)

    def start_consumers(self) -> None:
        from adapters.rabbitmq import ConsumerRunner

        if self._runner is None:
            self._runner = ConsumerRunner(
                self.url,
                self.consumers,
                topology=self.topology,
                processed=self.processed,
                outages=self.outages,
                supervisor=self.supervisor,
                **({} if self.tracing is None else {"tracing": self.tracing}),
            )
            self._runner.start()

    def stop_consumers(self) -> None:
        if self._runner is not None:
            self._runner.stop()
            self._runner = None

    def start_live_feed(self, on_listening: Callable[[], None] | None = None) -> None:
        """Bring every process's events into ``local_events``; ``on_listening`` runs each time
        the feed (re)subscribes, after which changes published while it was away are lost."""
        from adapters.rabbitmq import LiveFeed

        if self._feed is None:
            self._feed = LiveFeed(
                self.url,
                self.local_events,
                topology=self.topology,
                types=LOCAL_TYPES,
                outages=self.outages,
                supervisor=self.supervisor,
            )
            if on_listening is not None:
                self._feed.on_listening.append(on_listening)
            self._feed.start()
            # Serve SSE only once this process hears the broker's events (or give up waiting:
            # the feed keeps reconnecting, and /ready names the broker meanwhile).
            self._feed.listening.wait(LIVE_FEED_WAIT)

    def stop_live_feed(self) -> None:
        if self._feed is not None:
            self._feed.stop()
            self._feed = None

    def close(self) -> None:
        self.stop_live_feed()
        self.stop_consumers()
        self.bus.close()


Events = InProcessEvents | BrokerEvents


def build_events(
    settings: Settings,
    clock: Clock,
    outages: Outages,
    local_events: InMemoryEventBus,
    engine: Any = None,
    supervisor: Supervisor | None = None,
    tracing: Any = None,
) -> Events:
    """The events wiring for these settings; ``engine`` is the PostgreSQL engine, if any;
    the threads it runs are ``supervisor``'s loops."""
    supervisor = supervisor or Supervisor(outages=outages)
    processed: ProcessedEvents = InMemoryProcessedEvents()
    if engine is not None:
        from adapters.postgres.processed import PostgresProcessedEvents

        processed = PostgresProcessedEvents(engine)
    if not settings.amqp_url:
        dispatcher = Dispatcher(clock, [_forward_to(local_events)], processed)
        return InProcessEvents(dispatcher, processed, supervisor)

    from adapters.rabbitmq import RabbitEventBus, Topology
    from adapters.rabbitmq.tracing import NO_TRACING

    topology = Topology(settings.namespace)
    tracing = tracing or NO_TRACING
    bus = RabbitEventBus(settings.amqp_url, topology, supervisor=supervisor, tracing=tracing)
    return BrokerEvents(
        bus,
        [],
        settings.amqp_url,
        topology,
        processed,
        outages,
        local_events,
        supervisor,
        tracing=tracing,
    )
