"""Every process's own copy of the seat events, for its live seat maps (Server-Sent Events).

Each API process binds an exclusive, auto-delete queue of its own to the exchange, so a change
made through any process reaches the SSE clients of all of them. The queue dies with the
connection: whatever is published while the feed is away (a broker outage, and the outbox's
backlog that the relay sends as soon as the broker is back, maybe before this feed is) never
reaches it. So each time the queue is bound again, ``on_listening`` callbacks run: the SSE hub
sends every open stream a fresh seat map, read after the queue was bound, so no change falls
between the two. Nothing here needs to be durable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from cinema_core.events import envelopes as event_types
from cinema_core.ports import EventBus
from cinema_core.resilience.outages import Outages
from cinema_core.resilience.supervision import Supervisor

from .codec import decode
from .connection import close_quietly, connect, translated
from .topology import Topology

log = logging.getLogger("cinema.rabbitmq")

SEAT_EVENT_TYPES = (
    event_types.RESERVATION_CREATED,
    event_types.RESERVATION_CHANGED,
    event_types.PAYMENT_CONFIRMED,
    event_types.SEAT_RELEASED,
)


class LiveFeed:
    """Re-publishes the broker's seat events into ``local`` (this process's in-memory bus)."""

    def __init__(
        self,
        url: str,
        local: EventBus,
        *,
        topology: Topology | None = None,
        types: Iterable[str] = SEAT_EVENT_TYPES,
        outages: Outages | None = None,
        supervisor: Supervisor | None = None,
        poll: float = 0.2,
    ):
        self._url = url
        self._local = local
        self.topology = topology or Topology()
        self._types = tuple(types)
        self.outages = outages or Outages()
        self._poll = poll
        # A supervised thread: it outlives any failure, reconnecting with backoff (0.5 s
        # doubling to 5 s), and readiness names it while it cannot get through.
        supervisor = supervisor or Supervisor(outages=self.outages)
        self._loop = supervisor.loop(
            "cinema-live-feed", self._serve, backend="broker", max_backoff=5.0
        )
        # Set while this process's queue is bound and consumed: tests wait on it.
        self.listening = threading.Event()
        # Called (on the feed's thread) each time the queue is bound, first time included.
        self.on_listening: list[Callable[[], None]] = []

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._loop.stop(timeout)

    close = stop

    def _serve(self) -> None:
        connection = connect(self._url)
        try:
            with translated("RabbitMQ live feed failed"):
                channel = connection.channel()
                self.topology.declare_exchange(channel)
                declared = channel.queue_declare("", exclusive=True, auto_delete=True)
                queue = declared.method.queue
                for event_type in self._types:
                    channel.queue_bind(queue, self.topology.exchange, routing_key=event_type)
                channel.basic_consume(queue, self._on_message, auto_ack=True)
            self._loop.beat()
            self.listening.set()
            for callback in self.on_listening:
                try:
                    callback()
                except Exception:
                    log.exception("an on_listening callback failed")
            while not self._loop.stopping.is_set():
                with translated("RabbitMQ live feed failed"):
                    connection.process_data_events(time_limit=self._poll)
                self._loop.beat()
        finally:
            self.listening.clear()
            close_quietly(connection)

    def _on_message(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        try:
            event = decode(body)
        except ValueError:
            log.warning("live feed dropped a message that is not an event")
            return
        self._local.publish([event])
