"""Live seat maps across processes: three ``cinema serve`` processes on one PostgreSQL and one
RabbitMQ; SSE clients on two of them both see, once each, a change made through the third."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from tests.flow.processes import stop

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

SECRET = "sse-flow-secret-long-enough-for-hs256-signatures"
SERVE = "import sys; from entrypoints.cli import main; sys.exit(main())"


def _token(user: str, role: str = "customer") -> str:
    return jwt.encode({"sub": user, "role": role}, SECRET, algorithm="HS256")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def api_processes(migrated_postgres_url: str, amqp_url: str, namespace: str) -> Iterator[list[str]]:
    """Three `cinema serve` processes sharing the database and the broker; their base URLs."""
    env = {
        **os.environ,
        "CINEMA_DATABASE_URL": migrated_postgres_url,
        "CINEMA_AMQP_URL": amqp_url,
        "CINEMA_NAMESPACE": namespace,
        "CINEMA_AUTH_SECRET": SECRET,
        "CINEMA_LOG_LEVEL": "ERROR",
    }
    ports = [_free_port() for _ in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 30
        for url, process in zip(urls, processes, strict=True):
            while True:
                assert process.poll() is None, f"cinema serve at {url} exited"
                assert time.monotonic() < deadline, f"cinema serve at {url} did not start"
                try:
                    if httpx.get(f"{url}/ready", timeout=1).json()["status"] == "ok":
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        yield urls
    finally:
        stop(processes)


class StreamReader:
    """An SSE client on a thread, keeping each ``event: seats`` payload it receives.

    Plain HTTP/1.0 on a socket (so the body is not chunked), because a socket can be shut from
    another thread: ``close()`` hangs up at once and the server need not wait for the stream.
    """

    def __init__(self, url: str):
        self.snapshot = threading.Event()
        self.changes: list[dict[str, Any]] = []
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self._sock.settimeout(None)
        self._sock.sendall(
            f"GET {parts.path} HTTP/1.0\r\nHost: {parts.netloc}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = None
        try:
            for raw in self._sock.makefile("rb"):
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: ") and event == "snapshot":
                    self.snapshot.set()
                elif line.startswith("data: ") and event == "seats":
                    self.changes.extend(json.loads(line[len("data: ") :])["changes"])
        except (OSError, ValueError):
            # Shut by close(), or by the server going away: either ends the stream.
            return

    def close(self) -> None:
        """Hang up."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)

    def wait_for(self, change: dict[str, Any], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while change not in self.changes and time.monotonic() < deadline:
            time.sleep(0.02)
        return change in self.changes


def test_seat_changes_reach_sse_clients_of_every_api_process_once(
    api_processes: list[str],
) -> None:
    """A hold and a sale made through process 3 reach SSE clients on processes 1 and 2,
    each change exactly once per client."""
    first, second, third = api_processes
    admin = {"Authorization": f"Bearer {_token('admin-1', 'admin')}"}
    buyer = {"Authorization": f"Bearer {_token('u1')}"}
    starts_at = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    created = httpx.post(
        f"{third}/sessions",
        headers=admin,
        json={
            "movie": "Filme X",
            "room": "Sala 1",
            "starts_at": starts_at,
            "price": "25.00",
            "rows": 4,
            "seats_per_row": 4,
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    readers = [StreamReader(f"{url}/sessions/{session_id}/seats/stream") for url in (first, second)]
    for reader in readers:
        assert reader.snapshot.wait(10), "no snapshot"

    reserved = httpx.post(
        f"{third}/reservations",
        headers=buyer,
        json={"session_id": session_id, "seats": ["A1", "B2"]},
        timeout=10,
    )
    assert reserved.status_code == 201, reserved.text
    for reader in readers:
        assert reader.wait_for({"label": "B2", "status": "held"}), reader.changes

    paid = httpx.post(
        f"{third}/reservations/{reserved.json()['id']}/payment", headers=buyer, timeout=10
    )
    assert paid.status_code == 201, paid.text
    for reader in readers:
        assert reader.wait_for({"label": "A1", "status": "sold"}), reader.changes

    time.sleep(1.0)  # any duplicate would have arrived by now
    for reader in readers:
        assert reader.changes == [
            {"label": "A1", "status": "held"},
            {"label": "B2", "status": "held"},
            {"label": "A1", "status": "sold"},
            {"label": "B2", "status": "sold"},
        ]
    for reader in readers:
        reader.close()
