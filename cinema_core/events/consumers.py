"""Consumers of the published events, and the retry and dead-letter rules they all follow.

A ``Consumer`` names a durable group, the event types it wants and its handler. Whatever runs
it (the in-process ``Dispatcher`` here, or the RabbitMQ runner in ``adapters.rabbitmq``) gives
it the same guarantees:

- each event is handled at least once, and a redelivery of an event already handled is skipped
  (the handler is idempotent by event id, or the runner records handled ids for it);
- a handler that raises is tried again after ``backoff[0]``, ``backoff[1]`` … seconds;
- after ``max_attempts`` failures the event is set aside as a dead letter, with the last error
  and the number of attempts, and the events behind it go on flowing.

>>> from cinema_core import ManualClock
>>> seen = []
>>> dispatcher = Dispatcher(ManualClock())
>>> dispatcher.register(Consumer("mailer", ["payment.confirmed"], handle=seen.append))
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

import attrs

from cinema_core.events.envelopes import Event
from cinema_core.kernel.clock import Clock
from cinema_core.ports import ProcessedEvents

log = logging.getLogger("cinema.consumers")

Handler = Callable[[Event], None]
BatchHandler = Callable[[Sequence[Event]], None]

DEFAULT_MAX_ATTEMPTS: Final = 5
# Seconds to wait before the 2nd, 3rd … attempt: each step five times the one before.
DEFAULT_BACKOFF: Final = (1.0, 5.0, 25.0, 125.0)


# Patterns and event types are a handful of fixed strings, and every event published asks each
# consumer again: remembering the answers takes the matching off the relay's path.
@functools.lru_cache(maxsize=4096)
def topic_matches(pattern: str, routing_key: str) -> bool:
    """RabbitMQ topic matching: words split on ``.``, ``*`` is one word, ``#`` zero or more."""

    def match(p: Sequence[str], k: Sequence[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        if not k:
            return False
        return (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), routing_key.split("."))


def _tuple_of_str(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _tuple_of_float(values: Iterable[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@attrs.frozen
class Consumer:
    """A durable consumer group: what it wants, what it does, how hard it tries.

    Give either ``handle`` (one event at a time) or ``handle_batch`` (a list of events, in the
    order published, for handlers that save per round trip). A batch that fails is retried one
    event at a time, so one poison event never holds the others back.

    ``idempotent`` says the handler itself records the event ids along with its effect (say,
    in the same database transaction), so the runner need not keep a list of handled ids.
    """

    name: str
    types: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    handle: Handler | None = attrs.field(default=None, kw_only=True)
    handle_batch: BatchHandler | None = attrs.field(default=None, kw_only=True)
    max_attempts: int = attrs.field(default=DEFAULT_MAX_ATTEMPTS, kw_only=True)
    backoff: tuple[float, ...] = attrs.field(
        default=DEFAULT_BACKOFF, converter=_tuple_of_float, kw_only=True
    )
    idempotent: bool = attrs.field(default=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if (self.handle is None) == (self.handle_batch is None):
            raise ValueError("a Consumer needs exactly one of handle or handle_batch")
        if not self.name or any(c in self.name for c in " #*"):
            raise ValueError(f"consumer name {self.name!r} must be a plain word")
        if not self.types:
            raise ValueError("a Consumer needs at least one event type (or '#')")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_attempts > 1 and not self.backoff:
            raise ValueError("a Consumer that retries needs a backoff schedule")
        if any(delay < 0 for delay in self.backoff):
            raise ValueError("backoff delays cannot be negative")

    def wants(self, event_type: str) -> bool:
        """Whether an event of this type is for this consumer."""
        return any(topic_matches(pattern, event_type) for pattern in self.types)

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (the last step repeats)."""
        return self.backoff[min(failures, len(self.backoff)) - 1]

    @property
    def retry_delays(self) -> tuple[float, ...]:
        """The distinct waits used between attempts, in order: one retry queue each."""
        return self.backoff[: max(0, self.max_attempts - 1)]

    def run(self, events: Sequence[Event]) -> None:
        """Hand the events to the handler, in order."""
        if self.handle_batch is not None:
            self.handle_batch(events)
            return
        assert self.handle is not None
        for event in events:
            self.handle(event)


@attrs.frozen
class DeadLetter:
    """An event a consumer gave up on: why, and after how many attempts."""

    consumer: str
    event: Event
    reason: str
    attempts: int


def failure_reason(error: BaseException) -> str:
    """What a dead letter says about the error that killed it."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@attrs.define(order=True)
class _Delivery:
    due: datetime
    seq: int
    consumer: Consumer = attrs.field(order=False)
    event: Event = attrs.field(order=False)
    failures: int = attrs.field(default=0, order=False)


class Dispatcher:
    """Runs consumers in process, with the retry and dead-letter rules of the RabbitMQ runner.

    It is an ``EventBus``: ``publish`` queues each event for every consumer that wants it and
    runs whatever is due. Retries wait on the ``Clock``, not on ``sleep``: ``run_due`` (called
    by the worker loop, or by a test after turning a ``ManualClock``) runs those that are due.
    Thread-safe; one consumer's events are handled by one thread at a time, in order.
    """

    def __init__(
        self,
        clock: Clock,
        consumers: Iterable[Consumer] = (),
        processed: ProcessedEvents | None = None,
    ):
        self._clock = clock
        self._consumers: list[Consumer] = []
        self._processed = processed
        self._queue: list[_Delivery] = []
        self._seq = itertools.count()
        self._mutex = threading.Lock()
        self._running = threading.Lock()
        self.dead_letters: list[DeadLetter] = []
        for consumer in consumers:
            self.register(consumer)

    def register(self, consumer: Consumer) -> None:
        """Add a consumer; it receives events published from now on."""
        with self._mutex:
            if any(c.name == consumer.name for c in self._consumers):
                raise ValueError(f"a consumer named {consumer.name!r} is already registered")
            self._consumers.append(consumer)

    @property
    def consumers(self) -> list[Consumer]:
        with self._mutex:
            return list(self._consumers)

    def publish(self, events: Sequence[Event]) -> None:
        """Queue the events for every consumer that wants them, then run what is due."""
        now = self._clock.now()
        with self._mutex:
            for event in events:
                for consumer in self._consumers:
                    if consumer.wants(event.type):
                        heapq.heappush(
                            self._queue, _Delivery(now, next(self._seq), consumer, event)
                        )
        self.run_due()

    def pending(self) -> int:
        """How many deliveries wait (for their first attempt or a retry)."""
        with self._mutex:
            return len(self._queue)

    def next_due(self) -> datetime | None:
        """When the earliest waiting delivery is due, if any waits."""
        with self._mutex:
            return self._queue[0].due if self._queue else None

    def run_due(self) -> int:
        """Handle every delivery due by now; returns how many were attempted."""
        attempted = 0
        # One runner at a time keeps each consumer's events in publication order.
        with self._running:
            while True:
                batch = self._take_due()
                if not batch:
                    return attempted
                attempted += len(batch)
                self._deliver(batch)

    def _take_due(self) -> list[_Delivery]:
        now = self._clock.now()
        with self._mutex:
            if not self._queue or self._queue[0].due > now:
                return []
            first = heapq.heappop(self._queue)
            batch = [first]
            # Events due for the same consumer go together, as a batch handler would get them.
            while (
                self._queue
                and self._queue[0].due <= now
                and self._queue[0].consumer is first.consumer
                and len(batch) < 100
            ):
                batch.append(heapq.heappop(self._queue))
            return batch

    def _deliver(self, batch: list[_Delivery]) -> None:
        consumer = batch[0].consumer
        fresh = self._unseen(consumer, batch)
        if consumer.handle_batch is None or len(fresh) < 2:
            self._one_by_one(consumer, fresh)
            return
        try:
            self._attempt(consumer, fresh)
        except Exception:
            # Pin the failure on the events that cause it: the others go through.
            self._one_by_one(consumer, fresh)
        except BaseException:
            # A crash, not a failure: as with an unacked message, the events stay queued.
            self._requeue(fresh)
            raise

    def _one_by_one(self, consumer: Consumer, deliveries: list[_Delivery]) -> None:
        for i, delivery in enumerate(deliveries):
            try:
                self._attempt(consumer, [delivery])
            except Exception as error:
                self._failed(delivery, error)
            except BaseException:
                self._requeue(deliveries[i:])
                raise

    def _attempt(self, consumer: Consumer, deliveries: list[_Delivery]) -> None:
        consumer.run([d.event for d in deliveries])
        # Marked as soon as handled, so a crash later in the batch does not undo it.
        self._mark(consumer, [d.event.id for d in deliveries])

    def _unseen(self, consumer: Consumer, batch: list[_Delivery]) -> list[_Delivery]:
        if self._processed is None or consumer.idempotent:
            return batch
        seen = self._processed.seen(consumer.name, [d.event.id for d in batch])
        return [d for d in batch if d.event.id not in seen]

    def _mark(self, consumer: Consumer, ids: list[UUID]) -> None:
        if self._processed is not None and not consumer.idempotent:
            self._processed.mark(consumer.name, ids)

    def _requeue(self, deliveries: list[_Delivery]) -> None:
        with self._mutex:
            for delivery in deliveries:
                heapq.heappush(self._queue, delivery)

    def _failed(self, delivery: _Delivery, error: Exception) -> None:
        reason = failure_reason(error)
        delivery.failures += 1
        consumer = delivery.consumer
        if delivery.failures >= consumer.max_attempts:
            log.error(
                "event dead-lettered",
                extra={
                    "consumer": consumer.name,
                    "event_id": str(delivery.event.id),
                    "attempts": delivery.failures,
                    "reason": reason,
                },
            )
            with self._mutex:
                self.dead_letters.append(
                    DeadLetter(consumer.name, delivery.event, reason, delivery.failures)
                )
            return
        delay = consumer.delay_after(delivery.failures)
        delivery.due = self._clock.now() + timedelta(seconds=delay)
        with self._mutex:
            delivery.seq = next(self._seq)
            heapq.heappush(self._queue, delivery)
