"""The box office under a browser test: ``cinema serve`` processes on free ports, the links a
person opens (signed in through ``#token=…``), and API shortcuts for the other buyers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import httpx
import jwt

from tests import services
from tests.flow.processes import stop

SECRET = "browser-tests-secret-long-enough-for-hs256-signatures"
_BACKENDS = ("CINEMA_DATABASE_URL", "CINEMA_REDIS_URL", "CINEMA_AMQP_URL")


def token(user: str, role: str = "customer") -> str:
    return jwt.encode({"sub": user, "role": role}, SECRET, algorithm="HS256")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@attrs.define
class Site:
    """Running ``cinema serve`` processes (one URL each) and how to reach them."""

    urls: list[str]

    def page(self, path: str, user: str | None = None, role: str = "customer", via: int = 0) -> str:
        """The address of a page, signed in as ``user`` when given, through process ``via``."""
        fragment = f"#token={token(user, role)}" if user else ""
        return f"{self.urls[via]}{path}{fragment}"

    @contextlib.contextmanager
    def api(self, user: str = "boss", role: str = "admin", via: int = 0) -> Iterator[httpx.Client]:
        with httpx.Client(
            base_url=self.urls[via],
            headers={"Authorization": f"Bearer {token(user, role)}"},
            timeout=10,
            trust_env=False,
        ) as client:
            yield client

    def new_room(self, layout: list[str], cinema: str = "Centro", name: str | None = None) -> str:
        """A room of a cinema (named, or with a name of its own), made by an admin; its id."""
        body = {"cinema": cinema, "name": name or services.unique("Sala"), "layout": layout}
        with self.api() as admin:
            answer = admin.post("/rooms", json=body)
        assert answer.status_code == 201, answer.text
        room_id: str = answer.json()["id"]
        return room_id

    def new_session(
        self,
        movie: str = "Filme X",
        rows: int = 4,
        seats_per_row: int = 6,
        price: str = "25.00",
        starts_at: datetime | None = None,
        room_id: str | None = None,
        prices: dict[str, str] | None = None,
    ) -> str:
        """A session made by an admin: in ``room_id`` at ``prices``, or else in a plain room of
        its own (the first version's shape)."""
        starts_at = starts_at or datetime.now(UTC) + timedelta(days=1)
        body: dict[str, Any] = {"movie": movie, "starts_at": instant(starts_at)}
        if room_id is not None:
            body.update({"room_id": room_id, "prices": prices or {}})
        else:
            body.update(
                {"room": "Sala 1", "price": price, "rows": rows, "seats_per_row": seats_per_row}
            )
        with self.api() as admin:
            answer = admin.post("/sessions", json=body)
        assert answer.status_code == 201, answer.text
        session_id: str = answer.json()["id"]
        return session_id

    def hold(
        self,
        user: str,
        session_id: str,
        seats: list[str],
        via: int = 0,
        tickets: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """Another buyer holds seats through the API."""
        body: dict[str, Any] = {"session_id": session_id, "seats": seats}
        if tickets:
            body["tickets"] = tickets
        with self.api(user, "customer", via) as client:
            answer = client.post("/reservations", json=body)
        assert answer.status_code == 201, answer.text
        reservation: dict[str, Any] = answer.json()
        return reservation

    def buy(self, user: str, session_id: str, seats: list[str], via: int = 0) -> dict[str, Any]:
        reservation = self.hold(user, session_id, seats, via)
        with self.api(user, "customer", via) as client:
            answer = client.post(f"/reservations/{reservation['id']}/payment")
        assert answer.status_code == 201, answer.text
        sale: dict[str, Any] = answer.json()
        return sale

    def pending_payments(self) -> list[dict[str, Any]]:
        """The sandbox's payments waiting for the bank (``GET /sandbox/payments``)."""
        with self.api() as admin:
            answer = admin.get("/sandbox/payments")
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    def reservation(self, user: str, reservation_id: str) -> dict[str, Any]:
        with self.api(user, "customer") as client:
            answer = client.get(f"/reservations/{reservation_id}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def statuses(self, session_id: str, via: int = 0) -> dict[str, str]:
        answer = httpx.get(f"{self.urls[via]}/sessions/{session_id}/seats", timeout=10)
        assert answer.status_code == 200, answer.text
        return {seat["label"]: seat["status"] for seat in answer.json()["seats"]}


@contextlib.contextmanager
def start_site(
    *,
    processes: int = 1,
    hold_seconds: float = 30.0,
    database_url: str | None = None,
    redis_url: str | None = None,
    amqp_url: str | None = None,
    payment_provider: str | None = None,
) -> Iterator[Site]:
    """``cinema serve`` processes sharing the given backends (none: one process in memory),
    taking money through ``payment_provider`` (``CINEMA_PAYMENT_PROVIDER``; none: instant)."""
    namespace = services.unique("cinema_browser")
    env = {k: v for k, v in os.environ.items() if k not in _BACKENDS}
    env.update(
        {
            "CINEMA_AUTH_SECRET": SECRET,
            "CINEMA_LOG_LEVEL": "WARNING",
            "CINEMA_RESERVATION_TTL_SECONDS": str(hold_seconds),
            "CINEMA_NAMESPACE": namespace,
            # Every browser of a test comes from 127.0.0.1: one client as far as limits go.
            "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND": "0",
            "CINEMA_RATE_LIMIT_USER_PER_SECOND": "0",
        }
    )
    env.pop("CINEMA_PAYMENT_PROVIDER", None)
    if payment_provider:
        env["CINEMA_PAYMENT_PROVIDER"] = payment_provider
    for name, url in zip(_BACKENDS, (database_url, redis_url, amqp_url), strict=True):
        if url:
            env[name] = url
    ports = [free_port() for _ in range(processes)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in ports]
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            for port, log in zip(ports, logs, strict=True)
        ]
        try:
            for url, process, log in zip(urls, running, logs, strict=True):
                _wait_ready(url, process, log)
            yield Site(urls)
        finally:
            stop(running)
            if amqp_url:
                services.drop_amqp_namespace(amqp_url, namespace)
            if redis_url:
                services.drop_redis_keys(redis_url, namespace + ":")


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(f"cinema serve at {url} exited: {log.read().decode()[-2000:]}")
        assert time.monotonic() < deadline, f"cinema serve at {url} did not get ready in 30 s"
        try:
            if httpx.get(f"{url}/ready", timeout=1, trust_env=False).json()["status"] == "ok":
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.1)
