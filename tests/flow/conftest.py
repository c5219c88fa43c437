"""Flow fixtures: the real HTTP service on a real socket, driven by real HTTP clients.

``serve(...)`` starts uvicorn in a background thread on a free 127.0.0.1 port over an
in-memory ``bootstrap(Settings(...))`` (rate limits out of the way, the hold as asked), with
the background worker running unless told otherwise; the server stops after the test.
Tokens are made here with PyJWT, as any client of the contract would make them.
"""

from __future__ import annotations

import functools
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import httpx
import jwt
import pytest
import uvicorn

from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from tests import services as test_services
from tests.flow.processes import created_id, session_json

# Long enough for HS256 (PyJWT warns about shorter HMAC keys, and warnings are errors here).
SECRET = "flow-tests-secret-long-enough-for-hs256-signatures"


def token(user: str, role: str = "customer") -> str:
    """A bearer token for ``user`` signed with the server's secret."""
    return jwt.encode({"sub": user, "role": role}, SECRET, algorithm="HS256")


@attrs.define
class LiveServer:
    """A running box office: its address, and its services for setting up control runs."""

    url: str
    services: Services

    def client(
        self, user: str = "u1", role: str = "customer", timeout: float = 10.0
    ) -> httpx.Client:
        """An HTTP client acting as ``user`` (close it, or use it in a ``with``)."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token(user, role)}"},
            timeout=timeout,
            verify=_tls(),
        )

    def new_session(self, rows: int = 4, seats_per_row: int = 4, **extra: Any) -> str:
        """Create a session (as an admin) starting tomorrow, see ``session_json``; its id."""
        with self.client("admin-1", "admin") as admin:
            return created_id(
                admin.post("/sessions", json=session_json(rows, seats_per_row, **extra))
            )

    def seat_statuses(self, session_id: str) -> dict[str, str]:
        """label → status, as anyone reads the seat map."""
        answer = httpx.get(f"{self.url}/sessions/{session_id}/seats", timeout=10)
        assert answer.status_code == 200, answer.text
        return {seat["label"]: seat["status"] for seat in answer.json()["seats"]}

    def events(self, session_id: str, type: str | None = None) -> list[dict[str, Any]]:
        """The session's published events, newest first, as an admin reads them."""
        params = {"session_id": session_id, "limit": "200"}
        if type:
            params["type"] = type
        with self.client("admin-1", "admin") as admin:
            answer = admin.get("/admin/events", params=params)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items


@functools.cache
@functools.cache
def _tls() -> ssl.SSLContext:
    # Plain HTTP only, but httpx builds a TLS context per client unless given one, and that
    # costs ~40 ms of CPU: a race with 100 clients would spend its time there. One, shared.
    return ssl.create_default_context()


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    """Start a live server: ``serve(hold_seconds=0.5, run_worker=True, prepare=None)``.

    ``prepare(services)`` runs before the app is built: the place to swap in other parts.
    """
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(
        *,
        hold_seconds: float = 30.0,
        run_worker: bool = True,
        prepare: Callable[[Services], None] | None = None,
    ) -> LiveServer:
        settings = Settings(
            hold_seconds=hold_seconds,
            auth_secret=SECRET,
            rate_per_user=100_000.0,
            burst_per_user=100_000,
            rate_per_client=100_000.0,
            burst_per_client=100_000,
        )
        services = bootstrap(settings)
        if prepare is not None:
            prepare(services)
        app = create_app(services, run_worker=run_worker)
        sock = _free_socket()
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", ws="none", http="h11", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "the server thread died while starting"
            assert time.monotonic() < deadline, "the server did not start within 10 s"
            time.sleep(0.01)
        host, port = sock.getsockname()
        return LiveServer(f"http://{host}:{port}", services)

    yield start
    for server, _ in running:
        server.should_exit = True
    for _, thread in running:
        thread.join(10)


@pytest.fixture
def serve_with() -> Iterator[Callable[..., LiveServer]]:
    """A live server over services built from exactly these settings (real backends, say):
    ``serve_with(settings, run_worker=False)``; uvicorn on a real socket, in a thread."""
    running: list[tuple[uvicorn.Server, threading.Thread, Services]] = []

    def start(settings: Settings, *, run_worker: bool = False) -> LiveServer:
        services = bootstrap(settings)
        app = create_app(services, run_worker=run_worker)
        sock = _free_socket()
        server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive(), "the server thread died"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        running.append((server, thread, services))
        host, port = sock.getsockname()
        return LiveServer(f"http://{host}:{port}", services)

    yield start
    for server, _, _ in running:
        server.should_exit = True
    for _, thread, _ in running:
        thread.join(15)


@pytest.fixture
def namespace(amqp_url: str) -> Iterator[str]:
    """A namespace for this test's exchange and the webhooks consumer's queues, deleted after."""
    name = test_services.unique("cinema_test")
    yield name
    test_services.drop_amqp_namespace(amqp_url, name)
