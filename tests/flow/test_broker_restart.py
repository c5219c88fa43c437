"""The consumers' queues are quorum queues and keep their messages across a broker restart.

On a RabbitMQ node of the test's own (the machine's shared broker is never restarted): events
published with confirms wait in a consumer's work queue (a few of them delivered to a consumer
that has not acked them when the node stops), a retry and a dead letter wait in theirs; the
node is stopped and started again; everything is still there, and the consumer runner handles
each event once. The control: a transient queue beside them, with the same messages, is gone
after the restart, so the restart really forgets whatever is not kept.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pika
import pika.exceptions
import pytest

from adapters.rabbitmq import ConsumerRunner, RabbitEventBus, Topology, peek_dead_letters
from adapters.rabbitmq.codec import encode
from cinema_core.events.consumers import Consumer
from cinema_core.events.envelopes import Event
from tests import services
from tests.rabbitmq_node import BrokerNode

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

EVENTS = 50


@pytest.fixture(scope="module")
def node() -> Iterator[BrokerNode]:
    with BrokerNode(17672) as started:
        yield started


def _event(n: int) -> Event:
    return Event(
        id=uuid.uuid4(),
        type="reservation.created",
        occurred_at=datetime.now(UTC),
        data={"n": n},
    )


def test_queues_are_quorum_and_keep_their_messages_across_a_restart(node: BrokerNode) -> None:
    """50 confirmed events (5 of them delivered, unacked), a retry and a dead letter survive a
    stop and start of the node; the runner then handles the 50 once each; a transient queue's
    copies are gone."""
    topology = Topology(services.unique("cinema_test"))
    handled: list[Event] = []
    consumer = Consumer("ledger", ["#"], handle=handled.append)
    bus = RabbitEventBus(node.url, topology, [consumer])
    published = [_event(n) for n in range(EVENTS)]
    control = f"{topology.namespace}.control"
    consumer_prefix = topology.queue("ledger")
    connection = pika.BlockingConnection(pika.URLParameters(node.url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        topology.declare_exchange(channel)
        channel.queue_declare(control, durable=False)
        channel.queue_bind(control, topology.exchange, routing_key="#")
        bus.publish(published)
        body, properties = encode(_event(-1))
        channel.basic_publish("", topology.retry_queue("ledger", 125), body, properties)
        channel.basic_publish("", topology.dead_queue("ledger"), body, properties)
        for _ in range(5):
            method, _, _ = channel.basic_get(topology.queue("ledger"), auto_ack=False)
            assert method is not None
        assert ready(node, topology.queue("ledger")) == EVENTS - 5
        assert ready(node, control) == EVENTS
        types = {name: q["type"] for name, q in node.queues().items()}
        node.stop()  # with the five still unacked on this connection
    finally:
        bus.close()
        with contextlib.suppress(pika.exceptions.AMQPError):
            connection.close()

    assert {name: kind for name, kind in types.items() if name.startswith(consumer_prefix)} == {
        topology.queue("ledger"): "quorum",
        **{retry: "quorum" for _, retry in topology.retry_queues(consumer)},
        topology.dead_queue("ledger"): "quorum",
    }

    booted = node.start()
    print(f"\nthe node booted again in {booted:.1f} s")
    assert ready(node, control) is None, "the control queue survived: no real restart"
    assert ready(node, topology.queue("ledger")) == EVENTS
    assert ready(node, topology.retry_queue("ledger", 125)) == 1
    assert [d.event.data for d in peek_dead_letters(node.url, "ledger", topology)] == [{"n": -1}]

    runner = ConsumerRunner(node.url, [consumer], topology=topology, prefetch=10)
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while len(handled) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a duplicate, if any, would arrive now
    finally:
        runner.stop()
    assert sorted(e.id for e in handled) == sorted(e.id for e in published)
    assert len(handled) == EVENTS
    # The node, with its queues, is thrown away after the module.


def ready(node: BrokerNode, queue: str) -> int | None:
    """Messages ready in ``queue`` (not those delivered and unacked), or None if it is gone."""
    connection = pika.BlockingConnection(pika.URLParameters(node.url))
    try:
        declared = connection.channel().queue_declare(queue, passive=True)
        return int(declared.method.message_count)
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code == 404:
            return None
        raise
    finally:
        connection.close()
