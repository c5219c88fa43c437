"""Consumer contract: delivery, redelivery after a crash, dedup by event id, backoff, dead letters.

Held against the in-process ``Dispatcher`` (time turned on a ManualClock) and the RabbitMQ
runner (real time, short TTLs, a namespace of its own deleted afterwards).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import uuid4

import pytest

from cinema_core import Event, ManualClock
from cinema_core.events.consumers import Consumer, DeadLetter, Dispatcher
from cinema_core.memory import InMemoryProcessedEvents
from tests import services

BACKOFF = (0.2, 0.4, 0.8)


class Crash(BaseException):
    """A process dying mid-handler: not an error the runner may catch and retry."""


def event(type: str = "reservation.created", **data: Any) -> Event:
    return Event(uuid4(), type, datetime(2026, 11, 1, 12, tzinfo=UTC), {"n": 0, **data})


class Harness(Protocol):
    def start(self, consumers: Sequence[Consumer]) -> None: ...
    def publish(self, events: Sequence[Event]) -> None: ...
    def wait_for(self, done: Callable[[], bool], timeout: float = 10.0) -> bool: ...
    def now(self) -> float: ...
    def dead_letters(self, consumer: str) -> list[DeadLetter]: ...
    def crashed(self) -> bool: ...
    def restart(self) -> None: ...


class MemoryHarness:
    """The Dispatcher; waiting turns the clock to the next retry instead of sleeping."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.processed = InMemoryProcessedEvents()
        self.dispatcher: Dispatcher | None = None
        self._crashed = False

    def start(self, consumers: Sequence[Consumer]) -> None:
        self.dispatcher = Dispatcher(self.clock, consumers, self.processed)

    def _guarded(self, run: Callable[[], object]) -> None:
        try:
            run()
        except Crash:
            self._crashed = True

    def publish(self, events: Sequence[Event]) -> None:
        assert self.dispatcher is not None
        dispatcher = self.dispatcher
        self._guarded(lambda: dispatcher.publish(events))

    def wait_for(self, done: Callable[[], bool], timeout: float = 10.0) -> bool:
        assert self.dispatcher is not None
        dispatcher = self.dispatcher
        for _ in range(1000):
            if done():
                return True
            if self._crashed:
                return False
            due = dispatcher.next_due()
            if due is None:
                return done()
            if due > self.clock.now():
                self.clock.set(due)
            self._guarded(dispatcher.run_due)
        return done()

    def now(self) -> float:
        return self.clock.now().timestamp()

    def dead_letters(self, consumer: str) -> list[DeadLetter]:
        assert self.dispatcher is not None
        return [d for d in self.dispatcher.dead_letters if d.consumer == consumer]

    def crashed(self) -> bool:
        return self._crashed

    def restart(self) -> None:
        self._crashed = False
        self.wait_for(lambda: False)


class RabbitHarness:
    """The RabbitMQ runner on a thread, in a namespace of its own."""

    def __init__(self, url: str):
        from adapters.rabbitmq import RabbitEventBus, Topology

        self.url = url
        self.topology = Topology(services.unique("cinema_test"))
        self.processed = InMemoryProcessedEvents()
        self.consumers: list[Consumer] = []
        self.bus: Any = None
        self._runner: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._crashed = threading.Event()
        self._bus_class = RabbitEventBus

    def start(self, consumers: Sequence[Consumer]) -> None:
        self.consumers = list(consumers)
        self.bus = self._bus_class(self.url, self.topology, self.consumers)
        self._launch()

    def _launch(self) -> None:
        from adapters.rabbitmq import ConsumerRunner

        self._stop = threading.Event()
        self._crashed.clear()
        runner = ConsumerRunner(
            self.url,
            self.consumers,
            topology=self.topology,
            processed=self.processed,
            poll=0.05,
            reconnect_delay=0.2,
        )
        self._runner = runner

        def run() -> None:
            try:
                runner.run(self._stop)
            except Crash:
                # The runner's connection is closed with the batch unacked, as in a real crash.
                self._crashed.set()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert runner.consuming.wait(10), "the runner did not start consuming"

    def publish(self, events: Sequence[Event]) -> None:
        self.bus.publish(events)

    def wait_for(self, done: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            if self._crashed.is_set():
                return done()
            time.sleep(0.02)
        return done()

    def now(self) -> float:
        return time.monotonic()

    def dead_letters(self, consumer: str) -> list[DeadLetter]:
        from adapters.rabbitmq import peek_dead_letters

        return peek_dead_letters(self.url, consumer, self.topology)

    def crashed(self) -> bool:
        return self._crashed.wait(5)

    def restart(self) -> None:
        self.stop()
        self._launch()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def close(self) -> None:
        import pika

        self.stop()
        if self.bus is not None:
            self.bus.close()
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            self.topology.delete(connection.channel(), self.consumers)
        finally:
            connection.close()


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("rabbitmq", id="rabbitmq", marks=pytest.mark.rabbitmq),
    ]
)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "memory":
        yield MemoryHarness()
        return
    rabbit = RabbitHarness(request.getfixturevalue("amqp_url"))
    yield rabbit
    rabbit.close()


class Recorder:
    """A handler that keeps what it got, and fails or crashes when told to."""

    def __init__(self, harness: Harness):
        self.harness = harness
        self.handled: list[Event] = []
        self.calls: list[tuple[float, Event]] = []
        self.fail: Callable[[Event, int], bool] = lambda event, attempt: False
        self.crash_once: set[Any] = set()
        self._mutex = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._mutex:
            self.calls.append((self.harness.now(), event))
            attempt = sum(1 for _, e in self.calls if e.id == event.id)
        if event.id in self.crash_once:
            self.crash_once.discard(event.id)
            raise Crash()
        if self.fail(event, attempt):
            raise ValueError(f"cannot handle event {event.data['n']} (attempt {attempt})")
        with self._mutex:
            self.handled.append(event)

    def batch(self, events: Sequence[Event]) -> None:
        """All or nothing, as a batch handler writing in one transaction would be."""
        with self._mutex:
            now = self.harness.now()
            self.calls.extend((now, e) for e in events)
            attempts = {e.id: sum(1 for _, c in self.calls if c.id == e.id) for e in events}
        for e in events:
            if self.fail(e, attempts[e.id]):
                raise ValueError(f"cannot handle event {e.data['n']} (attempt {attempts[e.id]})")
        with self._mutex:
            self.handled.extend(events)

    def handled_ns(self) -> list[int]:
        with self._mutex:
            return [e.data["n"] for e in self.handled]


def test_each_consumer_gets_the_types_it_asked_for_in_order(harness: Harness) -> None:
    """Every event reaches each consumer that wants its type, in publication order."""
    seats, payments = Recorder(harness), Recorder(harness)
    harness.start(
        [
            Consumer("seats", ["reservation.*", "seat.released"], handle=seats),
            Consumer("payments", ["payment.confirmed"], handle=payments),
        ]
    )
    published = [
        event("reservation.created", n=1),
        event("payment.confirmed", n=2),
        event("seat.released", n=3),
        event("reservation.expired", n=4),
    ]
    harness.publish(published)

    assert harness.wait_for(lambda: len(seats.handled) == 3 and len(payments.handled) == 1)
    assert seats.handled_ns() == [1, 3, 4]
    assert payments.handled_ns() == [2]
    assert harness.wait_for(lambda: False, timeout=0.3) is False
    assert seats.handled_ns() == [1, 3, 4], "nothing is delivered twice"


def test_an_event_is_delivered_again_after_a_crash_before_its_ack(harness: Harness) -> None:
    """A handler that dies mid-way (no ack) sees the event again once a runner is back."""
    recorder = Recorder(harness)
    harness.start([Consumer("audit", ["#"], handle=recorder)])
    first = event(n=1)
    recorder.crash_once.add(first.id)

    harness.publish([first])

    assert harness.crashed()
    assert recorder.handled == []
    harness.restart()
    assert harness.wait_for(lambda: recorder.handled_ns() == [1])
    assert [e.id for _, e in recorder.calls] == [first.id, first.id]


def test_a_redelivered_event_has_no_second_effect(harness: Harness) -> None:
    """The same event id published twice (a relay retrying a batch) is handled once."""
    recorder = Recorder(harness)
    harness.start([Consumer("mailer", ["#"], handle=recorder)])
    once, other = event(n=1), event(n=2)

    harness.publish([once])
    harness.publish([once, other])

    assert harness.wait_for(lambda: len(recorder.handled) >= 2)
    harness.wait_for(lambda: False, timeout=0.3)
    assert recorder.handled_ns() == [1, 2]


def test_after_a_crash_handled_events_are_not_applied_again(harness: Harness) -> None:
    """A batch redelivered after a crash skips the events already handled before it."""
    recorder = Recorder(harness)
    harness.start([Consumer("ledger", ["#"], handle=recorder)])
    events = [event(n=n) for n in range(1, 6)]
    harness.publish(events[:2])
    assert harness.wait_for(lambda: len(recorder.handled) == 2)
    recorder.crash_once.add(events[3].id)

    harness.publish(events[2:])
    assert harness.crashed()
    harness.restart()

    assert harness.wait_for(lambda: len(recorder.handled) == 5)
    harness.wait_for(lambda: False, timeout=0.3)
    assert recorder.handled_ns() == [1, 2, 3, 4, 5]


def test_a_failing_event_is_retried_after_each_backoff_delay(harness: Harness) -> None:
    """Attempts are spaced by the backoff schedule, step by step, until one succeeds."""
    recorder = Recorder(harness)
    recorder.fail = lambda event, attempt: attempt <= 3
    harness.start([Consumer("retrying", ["#"], handle=recorder, backoff=BACKOFF)])

    harness.publish([event(n=1)])

    assert harness.wait_for(lambda: len(recorder.handled) == 1, timeout=15)
    times = [at for at, _ in recorder.calls]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 3
    for gap, delay in zip(gaps, BACKOFF, strict=True):
        assert delay - 0.001 <= gap < delay + 0.5, (gaps, BACKOFF)
    assert harness.dead_letters("retrying") == []


def test_after_max_attempts_the_event_is_dead_lettered_with_the_reason(harness: Harness) -> None:
    """A poison event ends in the dead letters with its error and attempt count; the events
    behind it are handled meanwhile, and it is not retried any more."""
    recorder = Recorder(harness)
    recorder.fail = lambda event, attempt: event.data["n"] == 1
    harness.start([Consumer("strict", ["#"], handle=recorder, max_attempts=3, backoff=(0.1, 0.2))])
    poison, good = event(n=1), event(n=2)

    harness.publish([poison, good])

    assert harness.wait_for(lambda: len(harness.dead_letters("strict")) == 1, timeout=15)
    (dead,) = harness.dead_letters("strict")
    assert dead.event == poison
    assert dead.attempts == 3
    assert "ValueError: cannot handle event 1 (attempt 3)" in dead.reason
    assert recorder.handled_ns() == [2]
    first_good = next(at for at, e in recorder.calls if e.id == good.id)
    last_poison = max(at for at, e in recorder.calls if e.id == poison.id)
    assert first_good < last_poison, "the poison event did not block the one behind it"
    harness.wait_for(lambda: False, timeout=0.5)
    assert sum(1 for _, e in recorder.calls if e.id == poison.id) == 3


def test_a_failing_batch_is_split_so_only_the_poison_event_retries(harness: Harness) -> None:
    """A batch handler that fails is retried one event at a time: the good events go through
    at once and only the bad one waits for its retries."""
    recorder = Recorder(harness)
    harness.start([Consumer("batched", ["#"], handle_batch=recorder.batch, backoff=BACKOFF)])

    # Let the retry fail on attempt 2 too, so the split is what saves 1, 3 and 4.
    recorder.fail = lambda event, attempt: event.data["n"] == 2 and attempt <= 2
    harness.publish([event(n=n) for n in range(1, 5)])

    assert harness.wait_for(lambda: len(recorder.handled) >= 4, timeout=15)
    harness.wait_for(lambda: False, timeout=0.3)
    assert recorder.handled_ns() == [1, 3, 4, 2], "only the failed event waited for a retry"
    assert harness.dead_letters("batched") == []
