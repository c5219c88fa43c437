"""A thousand idle connections to one `cinema serve` process: requests still answered at once,
the idle sockets closed after the timeout.

900 sockets are opened and send nothing; 100 more send half a request head. The guarded run is
`cinema serve`; the control run is uvicorn with the settings `cinema serve` used before (the
same limit and keep-alive timeout, httptools' own protocol): there ``/health`` is a 503 while the
crowd is connected, and the crowd is never closed.
"""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import attrs
import httpx
import pytest

from tests.flow.test_nginx_slowloris import _free_port, _wait_listening

pytestmark = [pytest.mark.slow]

SECRET = "idle-connections-secret-long-enough-for-hs256"
CINEMA = "import sys; from entrypoints.cli import main; sys.exit(main())"
LIMIT = 1000
IDLE, HALF_HEAD = 900, 100
TIMEOUT = 2


@attrs.frozen
class Seen:
    health: int
    health_took: float
    sessions: int
    sessions_took: float
    still_open: int


def _descriptors(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= needed, "too few descriptors"


@contextlib.contextmanager
def _server(command: list[str], port: int) -> Iterator[None]:
    env = {**os.environ, "CINEMA_AUTH_SECRET": SECRET, "CINEMA_LOG_LEVEL": "ERROR"}
    for name in ("CINEMA_DATABASE_URL", "CINEMA_REDIS_URL", "CINEMA_AMQP_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_listening(port, process, "the server")
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _crowd(port: int) -> list[socket.socket]:
    crowd = []
    for number in range(IDLE + HALF_HEAD):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if number >= IDLE:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: box-office\r\nX-Half: ")
        crowd.append(sock)
    return crowd


def _still_open(crowd: list[socket.socket], within: float) -> int:
    """How many of the crowd's sockets the server has not closed after ``within`` seconds."""
    selector = selectors.DefaultSelector()
    for sock in crowd:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    open_ = set(crowd)
    deadline = time.monotonic() + within
    while open_ and (left := deadline - time.monotonic()) > 0:
        for key, _ in selector.select(timeout=left):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                selector.unregister(sock)
                open_.discard(sock)
    selector.close()
    return len(open_)


def _timed_get(base: str, path: str) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx.get(base + path, timeout=10)
    return response.status_code, time.monotonic() - started


def _observe(command: list[str], port: int) -> Seen:
    _descriptors(2 * (IDLE + HALF_HEAD) + 500)
    base = f"http://127.0.0.1:{port}"
    with _server(command, port):
        crowd = _crowd(port)
        try:
            health, health_took = _timed_get(base, "/health")
            sessions, sessions_took = _timed_get(base, "/sessions")
            still_open = _still_open(crowd, TIMEOUT + 4.0)
        finally:
            for sock in crowd:
                sock.close()
    return Seen(health, health_took, sessions, sessions_took, still_open)


def test_control_idle_connections_make_uvicorn_refuse_everything_and_stay_open() -> None:
    """Control: uvicorn as `cinema serve` ran it before: /health 503 while a thousand idle
    connections are held, and none of them is closed."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "entrypoints.http.app:app_from_env"]
    command += ["--factory", "--http", "httptools", "--port", str(port), "--log-level", "error"]
    command += ["--limit-concurrency", str(LIMIT), "--timeout-keep-alive", str(TIMEOUT)]
    seen = _observe(command, port)
    assert seen.health == 503
    assert seen.sessions == 503
    assert seen.still_open == IDLE + HALF_HEAD


def test_idle_connections_neither_block_requests_nor_stay_open() -> None:
    """`cinema serve`: with a thousand idle or half-sent connections, /health and a listing
    answer 200 within 2 s, and every idle connection is closed after the timeout."""
    port = _free_port()
    command = [sys.executable, "-c", CINEMA, "serve", "--port", str(port)]
    command += ["--limit-concurrency", str(LIMIT), "--timeout-keep-alive", str(TIMEOUT)]
    seen = _observe(command, port)
    assert seen.health == 200
    assert seen.health_took < 2.0
    assert seen.sessions == 200
    assert seen.sessions_took < 2.0
    assert seen.still_open == 0
