"""The ``EventBus`` port on RabbitMQ: persistent messages, in order, a batch taken in one commit."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

import pika
from pika.adapters.blocking_connection import BlockingChannel

from cinema_core.errors import BackendUnavailable
from cinema_core.events.consumers import Consumer
from cinema_core.events.envelopes import Event
from cinema_core.resilience.supervision import Supervisor

from .codec import encode
from .connection import HEARTBEAT, close_quietly, connect, translated
from .topology import Topology
from .tracing import NO_TRACING, MessageTracing

log = logging.getLogger("cinema.rabbitmq")


class RabbitEventBus:
    """Publishes to the topic exchange with routing key = event type, message id = event id.

    ``publish`` returns once the broker has taken every message of the batch (so the relay may
    mark them published), and raises ``BackendUnavailable`` for any failure, having dropped
    the connection: the next call connects afresh. A batch that fails halfway is published
    again whole by the relay; consumers skip the copies by event id.

    The queues of ``consumers`` are declared on connecting, so events published before any
    worker has ever run are kept for it. Thread-safe (one connection, behind a lock: pika
    connections must not be shared between threads unguarded).
    """

    def __init__(
        self,
        url: str,
        topology: Topology | None = None,
        consumers: Iterable[Consumer] = (),
        *,
        supervisor: Supervisor | None = None,
        tracing: MessageTracing = NO_TRACING,
    ):
        self._url = url
        self._tracing = tracing
        self.topology = topology or Topology()
        self._consumers = list(consumers)
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._closed = threading.Event()
        self._keepalive = (supervisor or Supervisor()).loop(
            "cinema-bus-heartbeats", self._keep_alive, every=HEARTBEAT / 3, stopping=self._closed
        )

    def register(self, consumer: Consumer) -> None:
        """Declare ``consumer``'s queues too (now if connected, else on connecting)."""
        with self._lock:
            self._consumers.append(consumer)
            if self._channel is not None:
                try:
                    with translated("cannot declare a consumer's queues"):
                        self.topology.declare_consumer(self._channel, consumer)
                except BackendUnavailable:
                    self._drop()

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        with self._lock:
            reused = self._channel is not None
            try:
                self._publish(events)
                return
            except BackendUnavailable:
                self._drop()
                if not reused:
                    raise
            # The broker closes a connection left idle past its heartbeats: that says nothing
            # about the broker now, so one fresh connection gets a second chance.
            try:
                self._publish(events)
            except BackendUnavailable:
                self._drop()
                raise

    def ping(self) -> None:
        """Raise ``BackendUnavailable`` unless the broker answers a round trip now.

        On a connection of its own: the publisher's may be held by a publish waiting on a
        stalled broker, and reading it without a round trip says nothing about a broker that
        accepts bytes and never answers.
        """
        connection = connect(self._url)
        try:
            with translated("RabbitMQ does not answer"):
                connection.channel().close()
        finally:
            close_quietly(connection)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._drop()

    def _keep_alive(self) -> None:
        # Between publications nothing reads the socket, so the broker would see no heartbeats
        # and drop the connection (pika then logs errors on the next use). Serve them here.
        with self._lock:
            if self._connection is None:
                return
            try:
                with translated("RabbitMQ heartbeat failed"):
                    self._connection.process_data_events(time_limit=0)
            except BackendUnavailable:
                self._drop()

    def _publish(self, events: Sequence[Event]) -> None:
        with translated("cannot publish to RabbitMQ"):
            channel = self._open()
            for event in events:
                with self._tracing.publishing(event, self.topology.exchange) as headers:
                    body, properties = encode(event, headers)
                    channel.basic_publish(
                        self.topology.exchange, event.type, body, properties=properties
                    )
            # The channel is transactional: the batch reaches the queues on this commit, which
            # returns once the broker has taken it (persisted and, on quorum queues, on a
            # majority). One round trip for the batch, where a confirm channel in pika's
            # blocking mode waits for each message (bench/FINDINGS.md 24); a connection lost
            # before it leaves none of the batch in the queues, and the relay sends it again.
            channel.tx_commit()

    def _open(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._drop()
        connection = connect(self._url)
        try:
            channel = connection.channel()
            channel.tx_select()
            self.topology.declare_exchange(channel)
            for consumer in self._consumers:
                self.topology.declare_consumer(channel, consumer)
        except BaseException:
            close_quietly(connection)
            raise
        self._connection, self._channel = connection, channel
        if not self._closed.is_set():
            self._keepalive.start()
        return channel

    def _drop(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        close_quietly(connection)
