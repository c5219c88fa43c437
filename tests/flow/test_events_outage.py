"""A burst of sales while RabbitMQ is unreachable: the box office keeps selling, readiness says
``degraded`` naming the broker, and once the broker is back every event goes out, once each.

The outage is a forwarder the test cuts and restores; the real broker stays up for others.
"""

from __future__ import annotations

import time
from typing import Any

import pika
import pytest

from adapters.rabbitmq.codec import decode
from cinema_core import SeatsUnavailable
from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from tests.concurrency import run_together
from tests.conftest import new_session
from tests.proxy import Outage

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

AMQP = "amqp://guest:guest@127.0.0.1:{port}/%2F"


class Tap:
    """Everything published to the exchange, as a subscriber sees it."""

    def __init__(self, url: str, exchange: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, exchange, routing_key="#")
        self.ids: list[str] = []

    def drain(self, want: int, timeout: float = 15.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.ids) < want and time.monotonic() < deadline:
            method, _, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                time.sleep(0.02)
                continue
            self.ids.append(str(decode(body).id))
        # Anything more would be a duplicate: give it a moment to show up.
        time.sleep(0.3)
        while (got := self.channel.basic_get(self.queue, auto_ack=True))[0] is not None:
            self.ids.append(str(decode(got[2]).id))
        return self.ids

    def close(self) -> None:
        self.connection.close()


def _sell(services: Services, session_id: Any, buyer: int) -> int:
    """Reserve a pair of seats and pay for every other reservation; returns events made."""
    box = services.box
    row = "ABCDEFGHIJ"[buyer // 5]
    seats = [f"{row}{2 * (buyer % 5) + 1}", f"{row}{2 * (buyer % 5) + 2}"]
    try:
        reservation = box.reserve(f"u{buyer}", session_id, seats)
    except SeatsUnavailable:
        return 0
    if buyer % 2 == 0:
        box.pay(reservation.id, f"u{buyer}")
        return 2
    if buyer % 3 == 0:
        box.cancel(reservation.id, f"u{buyer}")
        return 3
    return 1


def test_events_sold_during_a_broker_outage_all_go_out_once_it_is_back(
    migrated_postgres_url: str, amqp_url: str, namespace: str
) -> None:
    """Sales go on while the broker is cut; /ready is degraded naming it; when it is back,
    the relay publishes every event, each id once, and the audit trail lists them all."""
    with Outage("127.0.0.1", 5672) as outage:
        settings = Settings(
            database_url=migrated_postgres_url,
            amqp_url=outage.url(AMQP),
            namespace=namespace,
            auth_secret="x" * 40,
        )
        services = bootstrap(settings)
        tap = Tap(amqp_url, f"{namespace}.events")
        assert services.events is not None
        try:
            services.events.start_consumers()
            session = new_session(services.box, rows=10, seats_per_row=10, days=1)
            assert services.relay.run_once() == 1  # session.created, before the outage
            assert services.readiness()[0] == "ok"

            outage.cut()
            made = run_together(
                8, lambda i: [_sell(services, session.session.id, 8 * k + i) for k in range(5)]
            )
            assert not any(isinstance(r, Exception) for r in made), made
            made_in_outage = sum(sum(r) for r in made)
            assert made_in_outage > 40
            expected = made_in_outage + 1
            for _ in range(3):
                assert services.relay.run_once() == 0
            status, checks = services.readiness()
            assert (status, checks["broker"], checks["database"]) == ("degraded", "down", "ok")
            assert "broker" in services.outages.down()

            outage.restore()
            deadline = time.monotonic() + 15
            while services.box.repo.unpublished() and time.monotonic() < deadline:  # type: ignore[attr-defined]
                services.relay.run_once()
            # The background loops come back by themselves, each after its backoff (10 s at most).
            healthy = (
                "ok",
                {"database": "ok", "redis": "in-process", "broker": "ok", "workers": "ok"},
            )
            deadline = time.monotonic() + 20
            while services.readiness() != healthy and time.monotonic() < deadline:
                time.sleep(0.2)
            assert services.readiness() == healthy

            outbox = services.box.repo.events(type=None, session_id=None, before=None, limit=10_000)
            assert len(outbox) == expected
            received = tap.drain(expected)
            assert sorted(received) == sorted(str(e.id) for _, e in outbox)
            assert len(set(received)) == len(received), "an event went out twice"

            recorded = services.box.repo.events(
                type=None, session_id=None, before=None, limit=10_000, published_only=True
            )
            assert sorted(str(e.id) for _, e in recorded) == sorted(received)
        finally:
            tap.close()
            services.close()
