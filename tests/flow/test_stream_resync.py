"""A live seat map never stays wrong after a broker outage.

Two API processes on one PostgreSQL, each with an SSE client, reach RabbitMQ through a proxy
the test cuts. A hold made while the broker is away is published from the outbox when it is
back, possibly before a process's live feed has subscribed again, so that feed never hears it:
the stream must then send a fresh ``snapshot``, and the client's map must show the hold.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from entrypoints.config import Settings
from tests.conftest import new_session
from tests.flow.conftest import SECRET, LiveServer, token
from tests.proxy import Outage

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]


class SeatMapClient:
    """An SSE client that keeps the seat map as a browser would: each snapshot replaces it,
    each change is applied to it."""

    def __init__(self, url: str):
        self.seats: dict[str, str] = {}
        self.snapshots = 0
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self._sock.settimeout(None)
        self._sock.sendall(f"GET {parts.path} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = None
        try:
            # The file is closed with the loop: an open one would keep the socket open.
            with self._sock.makefile("rb") as stream:
                for raw in stream:
                    line = raw.decode().rstrip("\r\n")
                    if line.startswith("event: "):
                        event = line[len("event: ") :]
                    elif line.startswith("data: ") and event == "snapshot":
                        seats = json.loads(line[len("data: ") :])["seats"]
                        self.seats = {seat["label"]: seat["status"] for seat in seats}
                        self.snapshots += 1
                    elif line.startswith("data: ") and event == "seats":
                        for change in json.loads(line[len("data: ") :])["changes"]:
                            self.seats[change["label"]] = change["status"]
        except (OSError, ValueError):
            return

    def shows(self, label: str, status: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.seats.get(label) != status and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.seats.get(label) == status

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)


def test_streams_on_two_processes_show_a_change_made_while_the_broker_was_cut(
    clean_postgres_url: str,
    amqp_url: str,
    namespace: str,
    serve_with: Callable[..., LiveServer],
) -> None:
    """Cut the broker, hold A1 and B2 through process 1, restore: both streams show them held
    (by a fresh snapshot), and a change after that arrives as usual."""
    parts = urlsplit(amqp_url)
    with Outage(parts.hostname or "127.0.0.1", parts.port or 5672) as broker:
        through_proxy = amqp_url.replace(
            parts.netloc, f"{parts.username}:{parts.password}@127.0.0.1:{broker.port}"
        )
        settings = Settings(
            database_url=clean_postgres_url,
            amqp_url=through_proxy,
            namespace=namespace,
            auth_secret=SECRET,
            rate_per_user=0.0,
            rate_per_client=0.0,
        )
        lives = [serve_with(settings, run_worker=True) for _ in range(2)]
        session = new_session(lives[0].services.box, days=1).session
        clients = [
            SeatMapClient(f"{live.url}/sessions/{session.id}/seats/stream") for live in lives
        ]
        try:
            for client in clients:
                assert client.shows("A1", "available", 10), "no snapshot"

            broker.cut()
            buyer = {"Authorization": f"Bearer {token('u1')}"}
            held = httpx.post(
                f"{lives[0].url}/reservations",
                json={"session_id": str(session.id), "seats": ["A1", "B2"]},
                headers=buyer,
                timeout=15,
            )
            assert held.status_code == 201, held.text
            # Long enough for each live feed to back off past the relay's retries.
            time.sleep(4)
            broker.restore()

            for index, client in enumerate(clients):
                assert client.shows("A1", "held", 20), (index, client.seats)
                assert client.shows("B2", "held", 1), (index, client.seats)
                assert client.snapshots >= 2, "the map was not sent again"

            paid = httpx.post(
                f"{lives[1].url}/reservations/{held.json()['id']}/payment",
                headers=buyer,
                timeout=15,
            )
            assert paid.status_code == 201, paid.text
            for client in clients:
                assert client.shows("A1", "sold", 10), client.seats
        finally:
            for client in clients:
                client.close()
