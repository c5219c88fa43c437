"""The EventBus port: published events reach subscribers in order, envelopes intact."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from cinema_core import Event
from cinema_core.memory import InMemoryEventBus
from tests.contract.conftest import BusUnderTest


def event(type: str = "reservation.created", n: int = 0) -> Event:
    return Event(
        uuid4(),
        type,
        datetime(2026, 11, 1, 12, 0, n, tzinfo=UTC),
        {"session_id": str(uuid4()), "seats": ["A1", "B2"], "n": n, "amount": "25.00"},
    )


def test_published_events_arrive_in_order_and_intact(event_bus: BusUnderTest) -> None:
    """Each event arrives with its id, type, instant and data, in the order published."""
    sent = [event("reservation.created", 0), event("payment.confirmed", 1)]
    sent.append(event("seat.released", 2))
    event_bus.bus.publish(sent[:2])
    event_bus.bus.publish(sent[2:])
    received = event_bus.received(3, 5.0)
    assert [e.envelope() for e in received] == [e.envelope() for e in sent]


def test_publishing_nothing_is_harmless(event_bus: BusUnderTest) -> None:
    """An empty batch publishes nothing and raises nothing."""
    event_bus.bus.publish([])
    event_bus.bus.publish([e := event()])
    assert [x.id for x in event_bus.received(1, 5.0)] == [e.id]


def test_a_failing_handler_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    """In process, a handler that raises is logged; the other handlers and events still run."""
    bus = InMemoryEventBus()
    seen: list[str] = []

    def broken(e: Event) -> None:
        raise RuntimeError("handler bug")

    bus.subscribe(broken)
    bus.subscribe(lambda e: seen.append(e.type))
    with caplog.at_level(logging.ERROR, logger="cinema.events"):
        bus.publish([event("a"), event("b")])
    assert seen == ["a", "b"]
    assert [r.getMessage() for r in caplog.records] == ["event handler failed"] * 2


def test_unsubscribed_handlers_hear_nothing_more() -> None:
    """In process, unsubscribe stops delivery to that handler only (twice is harmless)."""
    bus = InMemoryEventBus()
    first: list[Event] = []
    second: list[Event] = []
    bus.subscribe(first.append)
    bus.subscribe(second.append)
    bus.publish([event()])
    bus.unsubscribe(first.append)
    bus.unsubscribe(first.append)
    bus.publish([event()])
    assert (len(first), len(second)) == (1, 2)
