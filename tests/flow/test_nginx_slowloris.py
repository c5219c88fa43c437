"""deploy/nginx in front of two `cinema serve` processes: a slowloris crowd no longer starves
real buyers.

The crowd opens many connections from 127.0.0.2 and sends each request head a byte at a time,
never finishing it; any connection the server drops is opened again. The control run aims it at
a bare uvicorn process (httptools' protocol, as `cinema serve` ran before it bounded request
heads): it has no timeout for a request head, so the crowd holds every connection the process
allows and a buyer is turned away. The guarded run aims it at nginx,
started here from the shipped configuration (its own prefix, an unprivileged port): nginx cuts
each slow head after 5 s and never passes one on, and buyers hold and pay for seats through it
as usual while the crowd goes on.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import httpx
import jwt
import pytest

from tests import services

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
SECRET = "nginx-flow-secret-long-enough-for-hs256-signatures"
CINEMA = "import sys; from entrypoints.cli import main; sys.exit(main())"
# Connections each API process serves at once; the crowds are larger than that.
LIMIT = 200
CONTROL_CROWD = LIMIT + 100
GUARDED_CROWD = 1500
SEATS = ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "C1", "C2"]


def _token(user: str, role: str = "customer") -> str:
    return jwt.encode({"sub": user, "role": role, "exp": time.time() + 600}, SECRET)


def _free_port() -> int:
    """A free port outside the kernel's ephemeral range (which the crowd's own sockets use)."""
    for _ in range(200):
        port = random.randint(17_000, 19_999)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in 17000-19999")


def _wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{what} exited with {process.returncode}"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"{what} did not listen on {port} within 30 s")


def _stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(signum)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _descriptors(needed: int) -> int:
    """Raise this process's descriptor limit as far as allowed; how many it may open now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@attrs.define
class Crowd:
    """``size`` slow clients from ``source``: each sends an unfinished request head, a byte
    every ``every`` seconds; a connection the server closes is opened again."""

    port: int
    size: int
    source: str = "127.0.0.2"
    every: float = 1.0
    reopened: int = 0
    _stop: threading.Event = attrs.Factory(threading.Event)
    _thread: threading.Thread | None = None
    _open: dict[socket.socket, int] = attrs.Factory(dict)

    def __enter__(self) -> Crowd:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while len(self._open) < self.size:
            assert time.monotonic() < deadline, f"only {len(self._open)} of the crowd connected"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(15)

    def _connect(self) -> None:
        sock = socket.socket()
        sock.bind((self.source, 0))
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", self.port))
        self._open[sock] = 0

    def _run(self) -> None:
        head = b"GET /health HTTP/1.1\r\nHost: box-office\r\nX-Slow: " + b"a" * 10_000
        selector = selectors.DefaultSelector()
        try:
            while not self._stop.is_set():
                while len(self._open) < self.size:
                    self._connect()
                    selector.register(list(self._open)[-1], selectors.EVENT_READ)
                for sock in list(self._open):
                    sent = self._open[sock]
                    try:
                        self._open[sock] = sent + sock.send(head[sent : sent + 1])
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self._drop(selector, sock)
                # Whatever a server says to a slow client (an error, a close) ends it.
                for key, _ in selector.select(timeout=0):
                    self._drop(selector, key.fileobj)  # type: ignore[arg-type]
                self._stop.wait(self.every)
        finally:
            for sock in list(self._open):
                self._drop(selector, sock, reopen=False)
            selector.close()

    def _drop(
        self, selector: selectors.BaseSelector, sock: socket.socket, reopen: bool = True
    ) -> None:
        if sock in self._open:
            del self._open[sock]
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(sock)
            sock.close()
            if reopen:
                self.reopened += 1


@pytest.fixture
def api_ports(migrated_postgres_url: str) -> Iterator[list[int]]:
    """Two `cinema serve` processes on one database, serving LIMIT connections each."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CINEMA_")},
        "CINEMA_DATABASE_URL": migrated_postgres_url,
        "CINEMA_AUTH_SECRET": SECRET,
        "CINEMA_LOG_LEVEL": "ERROR",
        "CINEMA_RATE_LIMIT_USER_PER_SECOND": "0",
        "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND": "0",
    }
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CINEMA,
                "serve",
                "--port",
                str(port),
                "--limit-concurrency",
                str(LIMIT),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_listening(port, process, "cinema serve")
        yield ports
    finally:
        for process in processes:
            _stop(process)


@pytest.fixture(autouse=True)
def nginx_binary() -> str:
    """nginx on PATH, looked for before anything starts: without it these tests skip (or fail
    under CINEMA_REQUIRE_SERVICES=1) saying so."""
    return services.program("nginx", "apt-get install nginx; Debian puts it in /usr/sbin")


@pytest.fixture
def nginx(nginx_binary: str, api_ports: list[int], tmp_path: Path) -> Iterator[int]:
    """nginx from deploy/nginx, in its own prefix, on a port of its own, before api_ports."""
    binary = nginx_binary
    prefix = tmp_path / "nginx"
    shutil.copytree(DEPLOY, prefix)
    port = _free_port()
    (prefix / "upstream.conf").write_text(
        "".join(f"server 127.0.0.1:{p} max_fails=2 fail_timeout=5s;\n" for p in api_ports)
    )
    site = (prefix / "cinema.conf").read_text()
    assert "listen 8080 " in site
    (prefix / "cinema.conf").write_text(site.replace("listen 8080 ", f"listen 127.0.0.1:{port} "))
    if os.geteuid() == 0:
        # A root master hands its workers to `user` (nobody by default), which may not enter a
        # private temporary directory; as an unprivileged user the question does not arise.
        prefix.chmod(0o755)
        for parent in prefix.parents:
            if parent == Path("/tmp") or parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o005)
    directives = f"daemon off; pid {prefix / 'nginx.pid'};"
    process = subprocess.Popen(
        [binary, "-p", f"{prefix}/", "-c", "nginx.conf", "-e", "stderr", "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(port, process, "nginx")
        yield port
    finally:
        _stop(process, signal.SIGQUIT)
        assert process.stderr is not None
        with process.stderr:
            errors = process.stderr.read().decode()
        assert "[emerg]" not in errors, errors


def _sell_one(base: str, session_id: str, seat: str) -> float:
    """Hold and pay for one seat as a buyer; returns the slower of the two answers' times."""
    headers = {"Authorization": f"Bearer {_token(f'buyer-{seat}')}"}
    with httpx.Client(base_url=base, headers=headers, timeout=5, trust_env=False) as client:
        started = time.monotonic()
        held = client.post("/reservations", json={"session_id": session_id, "seats": [seat]})
        hold_took = time.monotonic() - started
        assert held.status_code == 201, held.text
        started = time.monotonic()
        paid = client.post(f"/reservations/{held.json()['id']}/payment")
        assert paid.status_code == 201, paid.text
        return max(hold_took, time.monotonic() - started)


def test_a_slowloris_crowd_starves_a_bare_api_process_but_not_buyers_behind_nginx(
    api_ports: list[int], nginx: int
) -> None:
    """Control: CONTROL_CROWD slow clients on an API process turn a buyer away. Guarded: a
    crowd five times larger on nginx, for longer than its header timeout, while ten buyers
    each hold and pay for a seat through it, every answer in under 2 s."""
    allowed = _descriptors(GUARDED_CROWD + 500)
    crowd = min(GUARDED_CROWD, allowed - 500)
    assert crowd > 2 * LIMIT, f"ulimit -n allows only {allowed} descriptors"
    direct = f"http://127.0.0.1:{api_ports[0]}"
    behind = f"http://127.0.0.1:{nginx}"
    admin = {"Authorization": f"Bearer {_token('admin-1', 'admin')}"}
    starts_at = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = httpx.post(
        f"{behind}/sessions",
        headers=admin,
        json={"movie": "Filme X", "room": "Sala 1", "starts_at": starts_at, "price": "25.00"}
        | {"rows": 4, "seats_per_row": 4},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]

    # The control is uvicorn as `cinema serve` ran it before it bounded request heads
    # (test_idle_connections): httptools' own protocol, the same limit, in memory.
    bare_port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "entrypoints.http.app:app_from_env", "--factory"]
    command += ["--http", "httptools", "--port", str(bare_port), "--log-level", "error"]
    command += ["--limit-concurrency", str(LIMIT)]
    bare = subprocess.Popen(
        command,
        env={
            name: value
            for name, value in os.environ.items()
            if name not in ("CINEMA_DATABASE_URL", "CINEMA_REDIS_URL", "CINEMA_AMQP_URL")
        }
        | {"CINEMA_AUTH_SECRET": SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(bare_port, bare, "bare uvicorn")
        with Crowd(bare_port, CONTROL_CROWD):
            time.sleep(0.5)
            try:
                answer = httpx.get(f"http://127.0.0.1:{bare_port}/health", timeout=2)
                starved = answer.status_code == 503
            except httpx.HTTPError:
                starved = True
            assert starved, "the control crowd did not starve the bare API process"
    finally:
        _stop(bare)
    assert httpx.get(f"{direct}/health", timeout=2).status_code == 200

    with Crowd(nginx, crowd) as slow:
        started = time.monotonic()
        slowest = 0.0
        for number, seat in enumerate(SEATS, start=1):
            slowest = max(slowest, _sell_one(behind, session_id, seat))
            health = httpx.get(f"{behind}/health", timeout=2)
            assert health.status_code == 200
            time.sleep(max(0.0, started + 0.7 * number - time.monotonic()))
        assert slowest < 2.0, f"a buyer waited {slowest:.2f} s behind nginx"
        # The crowd lived past nginx's 5 s header timeout: its heads were cut, and reopened.
        assert time.monotonic() - started > 6
        assert slow.reopened >= crowd // 2, f"nginx cut only {slow.reopened} slow heads"
    seats = httpx.get(f"{behind}/sessions/{session_id}/seats", timeout=5).json()
    assert seats["sold"] == 10


def test_nginx_answers_in_the_api_error_shape(api_ports: list[int], nginx: int) -> None:
    """What nginx refuses itself (a body over 64 KiB) is JSON in the contract's shape, with a
    request id; what it passes on keeps the API's own answer and id."""
    behind = f"http://127.0.0.1:{nginx}"
    big = httpx.post(f"{behind}/reservations", content=b"x" * 70_000, timeout=5)
    assert big.status_code == 413
    assert big.headers["content-type"] == "application/json"
    assert big.json()["error"]["code"] == "payload_too_large"
    assert big.headers["x-request-id"]
    passed = httpx.get(f"{behind}/health", headers={"X-Request-Id": "trace-1"}, timeout=5)
    assert (passed.status_code, passed.headers["x-request-id"]) == (200, "trace-1")
