"""The outbox relay: committed events go out in order; with the bus down they wait."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from cinema_core import BackendUnavailable, BoxOffice, Event, Outages, Relay, SessionView
from cinema_core.memory import InMemoryEventBus, InMemoryReservationRepo


class SwitchableBus:
    """A bus that can be taken down: while down, publishing raises BackendUnavailable."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[Event] = []

    def publish(self, events: Sequence[Event]) -> None:
        if self.down:
            raise BackendUnavailable("broker unreachable")
        self.sent.extend(events)


def stored(repo: InMemoryReservationRepo) -> list[Event]:
    return [e for _, e in reversed(repo.events(type=None, session_id=None, before=None, limit=99))]


def test_events_go_out_in_the_order_they_were_committed(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """The relay publishes the outbox oldest first, each event once."""
    bus = SwitchableBus()
    relay = Relay(repo, bus)
    reservation = box.reserve("u1", session.session.id, ["A1"])
    box.cancel(reservation.id, "u1")
    assert relay.run_once() == 4  # session.created, reservation.created, cancelled, released
    assert relay.run_once() == 0
    assert bus.sent == stored(repo)


def test_relay_sends_at_most_its_batch_limit(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """A batch is capped; the rest follows on the next run, still in order."""
    bus = SwitchableBus()
    relay = Relay(repo, bus)
    for label in ["A1", "A2"]:
        box.reserve("u1", session.session.id, [label])
    assert relay.run_once(limit=2) == 2
    assert relay.run_once(limit=2) == 1
    assert bus.sent == stored(repo)


def test_with_the_bus_down_events_wait_then_go_out(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """Selling goes on while the broker is down; nothing is lost or reordered."""
    bus = SwitchableBus()
    relay = Relay(repo, bus)
    bus.down = True
    reservation = box.reserve("u1", session.session.id, ["A1"])
    assert relay.run_once() == 0
    box.pay(reservation.id, "u1")
    assert relay.run_once() == 0
    assert repo.unpublished() == 3
    bus.down = False
    assert relay.run_once() == 3
    assert bus.sent == stored(repo)
    assert repo.unpublished() == 0


def test_relay_reports_the_broker_down_once_per_outage(
    box: BoxOffice,
    repo: InMemoryReservationRepo,
    session: SessionView,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One warning when the broker goes, one when it is back: not one per attempt."""
    bus = SwitchableBus()
    outages = Outages()
    relay = Relay(repo, bus, outages)
    box.reserve("u1", session.session.id, ["A1"])
    bus.down = True
    with caplog.at_level(logging.WARNING, logger="cinema.backends"):
        for _ in range(5):
            relay.run_once()
        assert outages.down() == {"broker": "broker unreachable"}
        bus.down = False
        relay.run_once()
        relay.run_once()
    assert [r.getMessage() for r in caplog.records] == [
        "broker unreachable; carrying on without it",
        "broker reachable again",
    ]
    assert outages.down() == {}


def test_relay_delivers_to_in_process_subscribers(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """With the in-memory bus, subscribers see each committed event."""
    bus = InMemoryEventBus()
    seen: list[str] = []
    bus.subscribe(lambda event: seen.append(event.type))
    box.reserve("u1", session.session.id, ["A1"])
    Relay(repo, bus).run_once()
    assert seen == ["session.created", "reservation.created"]


def test_relay_with_nothing_to_send_never_says_the_broker_is_back(
    box: BoxOffice,
    repo: InMemoryReservationRepo,
    session: SessionView,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the broker down and the outbox empty the relay claims nothing: one warning for the
    outage, and "reachable again" only once a publish has gone through."""
    bus = SwitchableBus()
    outages = Outages()
    relay = Relay(repo, bus, outages)
    relay.run_once()  # session.created goes out before the outage
    bus.down = True
    with caplog.at_level(logging.WARNING, logger="cinema.backends"):
        for _ in range(5):
            # The live feed and the consumers keep failing to connect meanwhile.
            outages.failed("broker", BackendUnavailable("cannot connect to RabbitMQ"))
            assert relay.run_once() == 0
        box.reserve("u1", session.session.id, ["A1"])
        assert relay.run_once() == 0
        assert outages.down() != {}
        bus.down = False
        assert relay.run_once() == 1
        assert relay.run_once() == 0
    assert [r.getMessage() for r in caplog.records] == [
        "broker unreachable; carrying on without it",
        "broker reachable again",
    ]
    assert outages.down() == {}
