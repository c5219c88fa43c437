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

from cinema_core import events as event_types
from cinema_core.errors import BackendUnavailable
from cinema_core.outages import Outages
from cinema_core.ports import EventBus

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
        poll: float = 0.2,
    ):
        self._url = url
        self._local = local
        self.topology = topology or Topology()
        self._types = tuple(types)
        self.outages = outages or Outages()
        self._poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Set while this process's queue is bound and consumed: tests wait on it.
        self.listening = threading.Event()
        # Called (on the feed's thread) each time the queue is bound, first time included.
        self.on_listening: list[Callable[[], None]] = []

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cinema-live-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    close = stop

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                self._serve()
                delay = 0.5
            except BackendUnavailable as error:
                self.listening.clear()
                self.outages.failed("broker", error)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

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
            self.listening.set()
            for callback in self.on_listening:
                try:
                    callback()
                except Exception:
                    log.exception("an on_listening callback failed")
            while not self._stop.is_set():
                with translated("RabbitMQ live feed failed"):
                    connection.process_data_events(time_limit=self._poll)
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
