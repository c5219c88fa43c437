"""Events in memory (no broker): the live seat stream, the audit trail and a library user's own
consumer, with its retries and dead letters, all work in one process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cinema_core import Event
from cinema_core.events.consumers import Consumer
from entrypoints.bootstrap import Services
from tests.flow.conftest import LiveServer
from tests.flow.test_events_sse import StreamReader


def test_stream_audit_and_own_consumers_work_without_a_broker(
    serve: Callable[..., LiveServer],
) -> None:
    """An SSE client sees the hold and the sale; /admin/events lists them newest first; a
    consumer the user registered that always fails is retried, then dead-lettered with why."""
    receipts: list[Event] = []

    def refuse(event: Event) -> None:
        receipts.append(event)
        raise RuntimeError("mail server says no")

    def prepare(services: Services) -> None:
        assert services.events is not None
        services.events.register(
            Consumer("mailer", ["payment.confirmed"], handle=refuse, max_attempts=3, backoff=[0.05])
        )

    server = serve(prepare=prepare)
    session_id = server.new_session()
    reader = StreamReader(f"{server.url}/sessions/{session_id}/seats/stream")
    assert reader.snapshot.wait(10)

    with server.client("u1") as buyer:
        reserved = buyer.post("/reservations", json={"session_id": session_id, "seats": ["C3"]})
        assert reserved.status_code == 201, reserved.text
        paid = buyer.post(f"/reservations/{reserved.json()['id']}/payment")
        assert paid.status_code == 201, paid.text

    assert reader.wait_for({"label": "C3", "status": "sold"})
    reader.close()
    assert reader.changes == [
        {"label": "C3", "status": "held"},
        {"label": "C3", "status": "sold"},
    ]
    assert [e["type"] for e in server.events(session_id)] == [
        "payment.confirmed",
        "reservation.created",
        "session.created",
    ]
    assert [e["type"] for e in server.events(session_id, "payment.confirmed")] == [
        "payment.confirmed"
    ]

    events: Any = server.services.events
    deadline = time.monotonic() + 10
    while not events.dead_letters("mailer") and time.monotonic() < deadline:
        time.sleep(0.02)
    (dead,) = events.dead_letters("mailer")
    assert dead.event.type == "payment.confirmed"
    assert (dead.attempts, dead.reason) == (3, "RuntimeError: mail server says no")
    assert [e.id for e in receipts] == [dead.event.id] * 3
