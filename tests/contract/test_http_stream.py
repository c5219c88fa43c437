"""HTTP contract: live seat changes over Server-Sent Events, on a real server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx2 as httpx
import orjson
import pytest
import uvicorn

from cinema_core import Event, ManualClock, Money
from cinema_core.memory import InMemoryEventBus
from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from entrypoints.http.routes.sessions.stream import SeatFeed
from tests.contract.http_app import SECRET, check


class _Server:
    def __init__(self, services: Services):
        self.services = services
        self.app = create_app(services, run_worker=False)
        self.app.state.feed.keepalive = 0.3
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_config=None, timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 5
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)

    @property
    def feed(self) -> SeatFeed:
        feed: SeatFeed = self.app.state.feed
        return feed


@pytest.fixture
def server(clock: ManualClock) -> Iterator[_Server]:
    with _Server(bootstrap(Settings(auth_secret=SECRET), clock)) as running:
        yield running


def _session(services: Services) -> str:
    view = services.box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=datetime(2026, 12, 1, 19, tzinfo=UTC),
        price=Money.parse("25.00"),
        rows=4,
        seats_per_row=4,
    )
    return str(view.session.id)


def _next_message(lines: Iterator[str]) -> dict[str, Any]:
    message: dict[str, Any] = {}
    for line in lines:
        if line == "":
            if message:
                return message
            continue
        field, _, value = line.partition(":")
        message.setdefault(field, value.lstrip())
    raise AssertionError("the stream ended")


def _wait(condition: Any, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_stream_sends_the_map_then_each_change(server: _Server, clock: ManualClock) -> None:
    """Snapshot first, then one seats event per change (held, sold, available), keepalives."""
    services = server.services
    session_id = _session(services)
    with (
        httpx.Client(base_url=server.url, timeout=5) as client,
        client.stream("GET", f"/sessions/{session_id}/seats/stream") as response,
    ):
        check(response)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        snapshot = _next_message(lines)
        assert snapshot["event"] == "snapshot"
        seat_map = orjson.loads(snapshot["data"])
        assert (seat_map["session_id"], seat_map["available"]) == (session_id, 16)

        paid = services.box.reserve("alice", UUID(session_id), ["A1", "A2"])
        services.relay.run_once()
        held = _next_message(lines)
        assert held["event"] == "seats"
        assert orjson.loads(held["data"]) == {
            "session_id": session_id,
            "changes": [{"label": "A1", "status": "held"}, {"label": "A2", "status": "held"}],
        }
        services.box.pay(paid.id, "alice")
        lapsing = services.box.reserve("bob", paid.session_id, ["B1"])
        clock.advance(31)
        services.box.expire_due()
        services.relay.run_once()
        changes = [orjson.loads(_next_message(lines)["data"])["changes"] for _ in range(3)]
        assert changes == [
            [{"label": "A1", "status": "sold"}, {"label": "A2", "status": "sold"}],
            [{"label": "B1", "status": "held"}],
            [{"label": "B1", "status": "available"}],
        ]
        assert lapsing.seats
        assert next(line for line in lines if line.startswith(":")) == ": keepalive"
        assert server.feed.listening == 1
    _wait(lambda: server.feed.listening == 0)


def test_stream_of_unknown_session_is_404(server: _Server) -> None:
    """A malformed or unknown session id is a JSON 404, and no listener is left behind."""
    unknown = "00000000-0000-0000-0000-000000000000"
    for path in ("/sessions/nope/seats/stream", f"/sessions/{unknown}/seats/stream"):
        response = httpx.get(server.url + path, timeout=5)
        check(response)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "session_not_found"
    assert server.feed.listening == 0


def _event(session_id: str, n: int) -> Event:
    data = {"session_id": session_id, "seats": [f"A{n}"], "reservation_id": "r"}
    return Event(uuid4(), "reservation.created", datetime.now(UTC), data)


def test_a_slow_listener_is_dropped_without_blocking_others() -> None:
    """A listener whose queue is full is dropped; the publisher never waits; others get all."""

    async def scenario() -> tuple[bool, int, float]:
        bus = InMemoryEventBus()
        feed = SeatFeed(bus, queue_size=2)
        slow = feed.listen("s1")
        fast = feed.listen("s1")
        other = feed.listen("s2")
        received = 0

        async def drain() -> None:
            nonlocal received
            while received < 5:
                await fast.queue.get()
                received += 1

        drainer = asyncio.create_task(drain())
        started = time.monotonic()
        for n in range(1, 6):
            await asyncio.to_thread(bus.publish, [_event("s1", n)])
            await asyncio.sleep(0.01)
        publishing = time.monotonic() - started
        await asyncio.wait_for(drainer, 2)
        assert other.queue.empty()
        feed.close()
        return slow.dropped, received, publishing

    dropped, received, publishing = asyncio.run(scenario())
    assert dropped
    assert received == 5
    assert publishing < 1.0


def test_a_refunded_seat_turns_available_on_the_stream(server: _Server) -> None:
    """A refund's seat.released (reason refunded) reaches the stream as the seat available."""
    services = server.services
    session_id = _session(services)
    reservation = services.box.reserve("alice", UUID(session_id), ["C1", "C2"])
    sale, _ = services.box.pay(reservation.id, "alice")
    services.relay.run_once()
    with (
        httpx.Client(base_url=server.url, timeout=5) as client,
        client.stream("GET", f"/sessions/{session_id}/seats/stream") as response,
    ):
        lines = response.iter_lines()
        snapshot = orjson.loads(_next_message(lines)["data"])
        assert (snapshot["sold"], snapshot["available"]) == (2, 14)
        services.box.refund(sale.id, "alice", ["C2"])
        services.relay.run_once()
        assert orjson.loads(_next_message(lines)["data"]) == {
            "session_id": session_id,
            "changes": [{"label": "C2", "status": "available"}],
        }
