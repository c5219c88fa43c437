"""Each published event is logged once, by the relay that published it, however many API
processes hear of it again from the broker."""

from __future__ import annotations

import logging
import time

import pytest
from starlette.testclient import TestClient

from cinema_core import Event
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from tests.conftest import new_session

pytestmark = pytest.mark.rabbitmq


def test_an_event_heard_back_from_the_broker_is_not_logged_again(
    amqp_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two API apps on one broker: the event one of them relays reaches both live feeds, and
    the log has it once."""
    caplog.set_level(logging.INFO, "cinema.events")
    settings = Settings(amqp_url=amqp_url, namespace=namespace, auth_secret="s" * 32)
    first, second = bootstrap(settings), bootstrap(settings)
    heard: list[Event] = []
    second.local_events.subscribe(heard.append)
    with (
        TestClient(create_app(first, run_worker=False)),
        TestClient(create_app(second, run_worker=False)),
    ):
        session = new_session(first.box, days=1).session
        reservation = first.box.reserve("u1", session.id, ["A1"])
        deadline = time.monotonic() + 10
        while not any(e.data.get("reservation_id") == str(reservation.id) for e in heard):
            first.relay.run_once()
            assert time.monotonic() < deadline, "the event never came back from the broker"
            time.sleep(0.05)
    logged = [r for r in caplog.records if getattr(r, "event_type", None) == "reservation.created"]
    assert len(logged) == 1
