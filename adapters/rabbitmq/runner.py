"""Running consumers on RabbitMQ: manual acks, batches, dedup by event id, retries, dead letters.

One connection, one channel per consumer (acks are per channel, so a batch is acked with one
``multiple`` ack without touching another consumer's messages), one thread. Per batch:

1. decode; a message that is not an event envelope goes straight to the dead queue;
2. skip events the consumer has already handled (by event id), unless it is ``idempotent``;
3. run a batch handler on the whole batch, and if it raises, one event at a time, so the
   failure is pinned on the events that cause it; a per-event handler gets them one at a time,
   each marked handled as soon as it is;
4. a failed event is republished (with confirms) to the retry queue of its next delay, or after
   ``max_attempts`` failures to the dead queue with the reason and attempt count in headers;
5. only then ack the batch. A crash anywhere before leaves the messages unacked: the broker
   gives them to the next runner, which skips those already handled.

A handler that raises ``BackendUnavailable`` or ``StoreUnavailable`` is not blamed: the batch
goes back to the queue (handled events stay marked) and the runner pauses, so a database
outage does not send every event to the dead queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from cinema_core.errors import BackendUnavailable, StoreUnavailable
from cinema_core.events.consumers import Consumer, failure_reason
from cinema_core.events.envelopes import Event
from cinema_core.ports import ProcessedEvents
from cinema_core.resilience.outages import Outages
from cinema_core.resilience.supervision import Supervisor

from .codec import PERSISTENT, decode
from .connection import DRIVER_ERRORS, close_quietly, connect, translated
from .topology import ATTEMPTS_HEADER, CONSUMER_HEADER, REASON_HEADER, Topology
from .tracing import NO_TRACING, MessageTracing

log = logging.getLogger("cinema.consumers")

DEFAULT_PREFETCH = 100
# How long a batch is gathered once its first event is in: a consumer hears of an event up to
# this much later, and under load handles tens of events per transaction instead of one.
LINGER = 0.05
_INFRASTRUCTURE = (BackendUnavailable, StoreUnavailable)


@attrs.define
class _Message:
    tag: int
    properties: BasicProperties
    body: bytes
    event: Event | None = None

    @property
    def failures(self) -> int:
        headers = self.properties.headers or {}
        try:
            return int(headers.get(ATTEMPTS_HEADER, 0))
        except (TypeError, ValueError):
            return 0


@attrs.define
class _Lane:
    """One consumer's channel and the messages it has received and not yet settled."""

    consumer: Consumer
    channel: BlockingChannel
    pending: list[_Message] = attrs.Factory(list)

    def on_message(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        self.pending.append(_Message(method.delivery_tag, properties, body))


class _Pause(Exception):
    """A backend the handler needs is down: put the batch back and wait a little."""


class ConsumerRunner:
    """Runs registered ``Consumer``s against their RabbitMQ queues until stopped.

    ``start()`` runs it on a supervised daemon thread (``cinema-consumers``, see
    ``cinema_core.resilience.supervision``) that survives any failure and reconnects with
    backoff, an outage reported to ``outages`` as ``broker``; ``run(stop)`` runs it in the
    calling thread.
    """

    def __init__(
        self,
        url: str,
        consumers: Iterable[Consumer],
        *,
        topology: Topology | None = None,
        processed: ProcessedEvents | None = None,
        outages: Outages | None = None,
        supervisor: Supervisor | None = None,
        prefetch: int = DEFAULT_PREFETCH,
        poll: float = 0.2,
        linger: float = LINGER,
        reconnect_delay: float = 1.0,
        tracing: MessageTracing = NO_TRACING,
    ):
        self._url = url
        self._tracing = tracing
        self.consumers = list(consumers)
        self.topology = topology or Topology()
        self._processed = processed
        self.outages = outages or Outages()
        self._prefetch = prefetch
        self._poll = poll
        self._linger = linger
        self._outer_stop: threading.Event | None = None
        supervisor = supervisor or Supervisor(outages=self.outages)
        self._loop = supervisor.loop(
            "cinema-consumers",
            self._attempt,
            backend="broker",
            every=reconnect_delay,
            first_backoff=reconnect_delay,
        )
        # Set while connected with every consumer subscribed: tests and readiness wait on it.
        self.consuming = threading.Event()
        names = [c.name for c in self.consumers]
        if len(set(names)) != len(names):
            raise ValueError(f"consumer names must be unique: {names}")

    def start(self) -> None:
        """Run on a background thread."""
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the batch in hand; unacked messages go back to their queues."""
        self._loop.stop(timeout)

    close = stop

    def run(self, stop: threading.Event | None = None) -> None:
        """Consume until ``stop`` (or ``self.stop()``), reconnecting after outages."""
        self._outer_stop = stop
        self._loop.run(stop)

    def _attempt(self) -> None:
        try:
            self._serve()
        except _Pause:
            # A backend the handlers need is down: the loop waits reconnect_delay, then
            # connects again and gets the batch back.
            self.consuming.clear()

    def _stopping(self) -> bool:
        outer = self._outer_stop
        return self._loop.stopping.is_set() or (outer is not None and outer.is_set())

    def _serve(self) -> None:
        connection = connect(self._url)
        try:
            with translated("RabbitMQ consumer connection failed"):
                publisher = connection.channel()
                publisher.confirm_delivery()
                lanes = [self._subscribe(connection, consumer) for consumer in self.consumers]
                self.topology.retire(publisher, keep={c.name for c in self.consumers})
            self._loop.beat()
            self.consuming.set()
            while not self._stopping():
                with translated("RabbitMQ consumer connection failed"):
                    connection.process_data_events(time_limit=self._poll)
                    # Events come a few at a time, over several reads: gather them for a
                    # moment (up to the prefetch) so that the handlers get real batches, one
                    # transaction and one ack for many events instead of one each.
                    deadline = time.monotonic() + self._linger
                    while any(lane.pending for lane in lanes) and not all(
                        len(lane.pending) >= self._prefetch for lane in lanes if lane.pending
                    ):
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        connection.process_data_events(time_limit=left)
                for lane in lanes:
                    if lane.pending:
                        self._settle(lane, publisher)
                self._loop.beat()
        finally:
            self.consuming.clear()
            close_quietly(connection)

    def _subscribe(self, connection: pika.BlockingConnection, consumer: Consumer) -> _Lane:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=self._prefetch)
        self.topology.declare_consumer(channel, consumer)
        lane = _Lane(consumer, channel)
        channel.basic_consume(self.topology.queue(consumer.name), lane.on_message)
        return lane

    # -- one batch ------------------------------------------------------------------------

    def _settle(self, lane: _Lane, publisher: BlockingChannel) -> None:
        batch, lane.pending = lane.pending, []
        consumer = lane.consumer
        try:
            good: list[_Message] = []
            for message in batch:
                try:
                    message.event = decode(message.body, message.properties.headers)
                except ValueError as error:
                    self._dead(publisher, consumer, message, f"undecodable: {error}", 1)
                    continue
                good.append(message)
            fresh = self._unseen(consumer, good)
            if fresh:
                self._handle(consumer, publisher, fresh)
        except _Pause:
            with translated("RabbitMQ consumer connection failed"):
                lane.channel.basic_nack(batch[-1].tag, multiple=True, requeue=True)
            raise
        with translated("RabbitMQ consumer connection failed"):
            lane.channel.basic_ack(batch[-1].tag, multiple=True)

    def _handle(
        self, consumer: Consumer, publisher: BlockingChannel, fresh: Sequence[_Message]
    ) -> None:
        if consumer.handle_batch is None or len(fresh) < 2:
            self._one_by_one(consumer, publisher, fresh)
            return
        try:
            self._run(consumer, fresh)
        except _Pause:
            raise
        except Exception:
            # Pin the failure on the events that cause it: the others go through.
            self._one_by_one(consumer, publisher, fresh)

    def _one_by_one(
        self, consumer: Consumer, publisher: BlockingChannel, messages: Sequence[_Message]
    ) -> None:
        for message in messages:
            try:
                self._run(consumer, [message])
            except _Pause:
                raise
            except Exception as error:
                self._failed(publisher, consumer, message, error)

    def _run(self, consumer: Consumer, messages: Sequence[_Message]) -> None:
        events = [m.event for m in messages if m.event is not None]
        try:
            with self._tracing.consuming(consumer.name, events):
                consumer.run(events)
        except _INFRASTRUCTURE as error:
            log.warning(
                "consumer paused: a backend it needs is down",
                extra={"consumer": consumer.name, "error": str(error)},
            )
            raise _Pause(str(error)) from error
        self._mark(consumer, events)

    def _unseen(self, consumer: Consumer, messages: list[_Message]) -> list[_Message]:
        if self._processed is None or consumer.idempotent or not messages:
            return messages
        ids = [m.event.id for m in messages if m.event is not None]
        try:
            seen = set(self._processed.seen(consumer.name, ids))
        except _INFRASTRUCTURE as error:
            raise _Pause(str(error)) from error
        # Two copies of one event (a relay that published a batch again) can arrive in one
        # batch, both unseen so far: only the first is handled.
        fresh = []
        for message in messages:
            if message.event is not None and message.event.id not in seen:
                seen.add(message.event.id)
                fresh.append(message)
        return fresh

    def _mark(self, consumer: Consumer, events: Sequence[Event]) -> None:
        if self._processed is None or consumer.idempotent:
            return
        try:
            self._processed.mark(consumer.name, [e.id for e in events])
        except _INFRASTRUCTURE as error:
            raise _Pause(str(error)) from error

    def _failed(
        self,
        publisher: BlockingChannel,
        consumer: Consumer,
        message: _Message,
        error: Exception,
    ) -> None:
        failures = message.failures + 1
        reason = failure_reason(error)
        if failures >= consumer.max_attempts:
            self._dead(publisher, consumer, message, reason, failures)
            return
        delay = consumer.delay_after(failures)
        log.warning(
            "event handler failed; will retry",
            extra={
                "consumer": consumer.name,
                "event_id": message.properties.message_id,
                "attempts": failures,
                "retry_in": delay,
                "reason": reason,
            },
        )
        self._republish(
            publisher,
            self.topology.retry_queue(consumer.name, delay),
            message,
            {ATTEMPTS_HEADER: failures, REASON_HEADER: reason[:1000]},
        )

    def _dead(
        self,
        publisher: BlockingChannel,
        consumer: Consumer,
        message: _Message,
        reason: str,
        attempts: int,
    ) -> None:
        log.error(
            "event dead-lettered",
            extra={
                "consumer": consumer.name,
                "event_id": message.properties.message_id,
                "attempts": attempts,
                "reason": reason,
            },
        )
        self._republish(
            publisher,
            self.topology.dead_queue(consumer.name),
            message,
            {
                ATTEMPTS_HEADER: attempts,
                REASON_HEADER: reason[:1000],
                CONSUMER_HEADER: consumer.name,
            },
        )

    @staticmethod
    def _republish(
        publisher: BlockingChannel, queue: str, message: _Message, headers: dict[str, Any]
    ) -> None:
        old = message.properties
        properties = pika.BasicProperties(
            content_type=old.content_type,
            content_encoding=old.content_encoding,
            delivery_mode=PERSISTENT,
            message_id=old.message_id,
            type=old.type,
            headers={**(old.headers or {}), **headers},
        )
        with translated("cannot republish to RabbitMQ"):
            publisher.basic_publish("", queue, message.body, properties=properties)


__all__ = ["DEFAULT_PREFETCH", "DRIVER_ERRORS", "ConsumerRunner"]
