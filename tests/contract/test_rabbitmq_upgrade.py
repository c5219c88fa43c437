"""Upgrading onto a broker that still holds a consumer's old classic queues: the bus refuses
to publish (``BackendUnavailable`` naming PRECONDITION_FAILED), so the relay keeps the events in
the outbox, until the operator has removed the classic queues; then the next publication
declares the quorum queues and goes out (TOPOLOGY.md, "Upgrading"). The queue types themselves
are checked on a node of the test's own (tests/flow/test_broker_restart.py).

Every queue here is in a namespace of this test's own, made fresh and deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pika
import pika.exceptions
import pytest

from adapters.rabbitmq import RabbitEventBus, Topology
from cinema_core import BackendUnavailable, Event
from cinema_core.events.consumers import Consumer
from tests import services

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def topology(amqp_url: str) -> Iterator[Topology]:
    made = Topology(services.unique("cinema_test"))
    yield made
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        made.delete(connection.channel(), [CONSUMER])
    finally:
        connection.close()


CONSUMER = Consumer("mailer", ["payment.confirmed"], handle=print, backoff=(1.0, 5.0))


def _event() -> Event:
    return Event(uuid.uuid4(), "payment.confirmed", datetime.now(UTC), {"n": 1})


def _declare(url: str, queue: str, arguments: dict[str, Any] | None) -> bool:
    """Whether the broker accepts declaring ``queue`` with exactly these arguments."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().queue_declare(queue, durable=True, arguments=arguments)
        return True
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code != 406:  # PRECONDITION_FAILED: other arguments
            raise
        return False
    finally:
        connection.close()


def test_old_classic_queues_hold_publishing_back_until_removed(amqp_url, topology):
    """On a broker with the consumer's queue still classic, publishing raises
    BackendUnavailable (the events stay in the outbox); once the classic queue is deleted the
    same bus declares the quorum queues and publishes."""
    assert _declare(amqp_url, topology.queue("mailer"), None)  # as the old version did
    bus = RabbitEventBus(amqp_url, topology, [CONSUMER])
    try:
        with pytest.raises(BackendUnavailable, match="PRECONDITION_FAILED"):
            bus.publish([_event()])

        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        try:
            connection.channel().queue_delete(topology.queue("mailer"))
        finally:
            connection.close()
        bus.publish([_event()])
    finally:
        bus.close()
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        declared = connection.channel().queue_declare(topology.queue("mailer"), passive=True)
        assert declared.method.message_count == 1
    finally:
        connection.close()
