"""The RabbitMQ event bus: the contract's messages, confirms, outages, redelivery, topology.

``make_rabbit_bus`` also enrols the bus in the shared EventBus suite (tests/contract/conftest.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from cinema_core import BackendUnavailable, Event, ManualClock
from cinema_core.events.consumers import Consumer
from tests import services
from tests.contract.conftest import BusUnderTest
from tests.proxy import Outage

pytestmark = pytest.mark.rabbitmq


def _event(type: str = "reservation.created", n: int = 0) -> Event:
    return Event(uuid4(), type, datetime(2026, 11, 1, 12, tzinfo=UTC), {"n": n, "seats": ["A1"]})


class Tap:
    """An exclusive queue bound to the exchange with ``#``: what any subscriber would get."""

    def __init__(self, url: str, topology: Any):
        import pika

        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        topology.declare_exchange(self.channel)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, topology.exchange, routing_key="#")
        self.messages: list[tuple[Any, Any, bytes]] = []

    def get(self, count: int, timeout: float = 5.0, *, ack: bool = True) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=ack)
            if method is None:
                time.sleep(0.02)
                continue
            self.messages.append((method, properties, body))
        return self.messages

    def events(self, count: int, timeout: float = 5.0) -> list[Event]:
        from adapters.rabbitmq.codec import decode

        return [decode(body) for _, _, body in self.get(count, timeout)]

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


def _delete(url: str, topology: Any, consumers: list[Consumer]) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        topology.delete(connection.channel(), consumers)
    finally:
        connection.close()


def make_rabbit_bus(request: pytest.FixtureRequest, clock: ManualClock) -> BusUnderTest:
    """The shared EventBus suite's entry: a bus in a namespace of its own and a tap on it."""
    from adapters.rabbitmq import RabbitEventBus, Topology

    url = request.getfixturevalue("amqp_url")
    topology = Topology(services.unique("cinema_test"))
    bus = RabbitEventBus(url, topology)
    tap = Tap(url, topology)

    def cleanup() -> None:
        bus.close()
        tap.close()
        _delete(url, topology, [])

    request.addfinalizer(cleanup)
    return BusUnderTest(bus, lambda count, timeout: tap.events(count, timeout))


@pytest.fixture
def topology() -> Any:
    from adapters.rabbitmq import Topology

    return Topology(services.unique("cinema_test"))


@pytest.fixture
def tap(amqp_url: str, topology: Any) -> Iterator[Tap]:
    tap = Tap(amqp_url, topology)
    yield tap
    tap.close()
    _delete(amqp_url, topology, [])


def test_events_go_out_as_the_contract_says(amqp_url: str, topology: Any, tap: Tap) -> None:
    """Routing key = type, persistent JSON, message id = event id, envelope as in API.md."""
    from adapters.rabbitmq import RabbitEventBus

    bus = RabbitEventBus(amqp_url, topology)
    sent = _event("payment.confirmed")
    try:
        bus.publish([sent])
    finally:
        bus.close()

    ((method, properties, body),) = tap.get(1)
    assert method.routing_key == "payment.confirmed"
    assert method.exchange == topology.exchange
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    assert properties.message_id == str(sent.id)
    assert json.loads(body) == {
        "id": str(sent.id),
        "type": "payment.confirmed",
        "occurred_at": "2026-11-01T12:00:00.000Z",
        "data": {"n": 0, "seats": ["A1"]},
    }


def test_production_exchange_is_cinema_events() -> None:
    """Without a namespace the exchange is exactly the contract's ``cinema.events``."""
    from adapters.rabbitmq import Topology

    assert Topology().exchange == "cinema.events"
    assert Topology().queue("audit") == "cinema.audit"
    assert Topology().dead_queue("audit") == "cinema.audit.dead"


def test_retry_queues_follow_the_backoff_schedule_in_order() -> None:
    """One retry queue per distinct delay, in schedule order, the last step not repeated."""
    from adapters.rabbitmq import Topology

    consumer = Consumer("audit", ["#"], handle=print, max_attempts=5, backoff=(1, 5, 25))
    assert Topology().retry_queues(consumer) == [
        (1.0, "cinema.audit.retry.1s"),
        (5.0, "cinema.audit.retry.5s"),
        (25.0, "cinema.audit.retry.25s"),
    ]
    assert [consumer.delay_after(n) for n in range(1, 5)] == [1.0, 5.0, 25.0, 25.0]


def test_a_batch_arrives_whole_and_in_order(amqp_url: str, topology: Any, tap: Tap) -> None:
    """Publish returns after the broker confirmed every message; they arrive in order."""
    from adapters.rabbitmq import RabbitEventBus

    bus = RabbitEventBus(amqp_url, topology)
    sent = [_event(n=n) for n in range(200)]
    try:
        bus.publish(sent)
    finally:
        bus.close()
    assert [e.id for e in tap.events(200)] == [e.id for e in sent]


def test_unreachable_broker_is_backend_unavailable_and_fast(topology: Any) -> None:
    """A dead broker is BackendUnavailable within the short connect timeout, never a hang."""
    from adapters.rabbitmq import RabbitEventBus

    with Outage("127.0.0.1", 5672) as outage:
        outage.cut()
        bus = RabbitEventBus(outage.url("amqp://guest:guest@127.0.0.1:{port}/%2F"), topology)
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            bus.publish([_event()])
        assert time.monotonic() - started < 5
        bus.close()


def test_bus_reconnects_by_itself_after_an_outage(amqp_url: str, topology: Any, tap: Tap) -> None:
    """Cut mid-life: the publish fails with BackendUnavailable; once back, the next succeeds."""
    from adapters.rabbitmq import RabbitEventBus

    with Outage("127.0.0.1", 5672) as outage:
        bus = RabbitEventBus(outage.url("amqp://guest:guest@127.0.0.1:{port}/%2F"), topology)
        try:
            first, during, after = _event(n=1), _event(n=2), _event(n=3)
            bus.publish([first])
            outage.cut()
            with pytest.raises(BackendUnavailable):
                bus.publish([during])
            outage.restore()
            bus.publish([during, after])
        finally:
            bus.close()
    assert [e.data["n"] for e in tap.events(3)] == [1, 2, 3]


def test_an_unacked_message_comes_back_when_its_channel_closes(
    amqp_url: str, topology: Any
) -> None:
    """A consumer that dies before acking leaves the message for the next, flagged redelivered,
    with the same message id."""
    import pika

    from adapters.rabbitmq import RabbitEventBus

    consumer = Consumer("crashy", ["#"], handle=print)
    bus = RabbitEventBus(amqp_url, topology, [consumer])
    sent = _event()
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        bus.publish([sent])
        channel = connection.channel()
        method, properties, _ = channel.basic_get(topology.queue("crashy"), auto_ack=False)
        assert method is not None
        assert not method.redelivered
        channel.close()  # no ack: the "crash"

        channel = connection.channel()
        method, again, _ = channel.basic_get(topology.queue("crashy"), auto_ack=True)
        assert method is not None
        assert method.redelivered
        assert again.message_id == properties.message_id == str(sent.id)
    finally:
        bus.close()
        connection.close()
        _delete(amqp_url, topology, [consumer])


def test_consumer_queues_declared_by_the_bus_keep_events_before_any_worker_runs(
    amqp_url: str, topology: Any
) -> None:
    """Events published before a consumer's first start wait in its durable queue."""
    import pika

    from adapters.rabbitmq import RabbitEventBus

    consumer = Consumer("late", ["seat.released"], handle=print)
    bus = RabbitEventBus(amqp_url, topology, [consumer])
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        bus.publish([_event("seat.released"), _event("reservation.created")])
        declared = connection.channel().queue_declare(topology.queue("late"), passive=True)
        assert declared.method.message_count == 1
    finally:
        bus.close()
        connection.close()
        _delete(amqp_url, topology, [consumer])


def test_a_consumer_runner_deletes_the_retired_audit_consumers_queues(
    amqp_url: str, topology: Any
) -> None:
    """The audit trail is the outbox now: the queues a former ``audit`` consumer left bound to
    the exchange (which would keep every event forever) go when a consumer runner connects;
    its dead letters stay, and a runner that has a consumer of that name of its own keeps it."""
    import pika

    from adapters.rabbitmq import ConsumerRunner

    retired = Consumer("audit", ["#"], handle=print)
    names = [topology.queue("audit")] + [q for _, q in topology.retry_queues(retired)]
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))

    def exists(queue: str) -> bool:
        channel = connection.channel()
        try:
            channel.queue_declare(queue, passive=True)
        except pika.exceptions.ChannelClosedByBroker:
            return False
        channel.close()
        return True

    def run(consumer: Consumer) -> None:
        runner = ConsumerRunner(amqp_url, [consumer], topology=topology)
        runner.start()
        try:
            assert runner.consuming.wait(10)
        finally:
            runner.stop()

    mailer = Consumer("mailer", ["payment.confirmed"], handle=print)
    try:
        topology.declare_consumer(connection.channel(), retired)
        run(retired)
        assert all(exists(name) for name in names), "a runner's own consumer was retired"
        run(mailer)
        assert [name for name in names if exists(name)] == []
        assert exists(topology.dead_queue("audit"))
    finally:
        topology.delete(connection.channel(), [retired, mailer])
        connection.close()
