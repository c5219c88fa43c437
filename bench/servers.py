"""The stack under test: a fresh database, then ``cinema migrate`` and ``cinema serve`` (and
``cinema worker`` with ``--worker``) as subprocesses configured only through CINEMA_* variables,
torn down (database dropped, Redis keys and RabbitMQ queues deleted) at the end whatever happens."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import attrs

from .options import Options
from .process_cpu import Finder, database_backends, shared_servers
from .process_memory import descendants
from .resources import (
    create_database,
    database_dsn,
    drop_database,
    forget_rabbitmq,
    forget_redis_keys,
    server_url,
)

HOST = "127.0.0.1"
# The generator is one client address, and thousands of buyers share a handful of users'
# worth of it: at the default rates they would be throttled, not measured. A rate no run
# reaches keeps every request paying for the limiter (its Redis call) as users' requests do.
UNREACHABLE_RATE = "1000000000"
RATE_LIMIT_VARIABLES = ("CINEMA_RATE_LIMIT_USER_PER_SECOND", "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND")


class StackError(RuntimeError):
    """The servers could not be started; the message says why and where their log is."""


@attrs.define
class Stack:
    """The running servers, and what the report says about how they were set up."""

    options: Options
    port: int
    secret: str
    namespace: str
    workers: int
    env: dict[str, str]
    log: Path
    database: str | None = None
    process: subprocess.Popen[bytes] | None = None
    # `cinema worker`, when the run has one (--worker).
    worker: subprocess.Popen[bytes] | None = None
    # The machine's shared servers the run uses (RabbitMQ, Redis), by kind: their pid.
    shared: dict[str, int] = attrs.Factory(dict)
    notes: list[str] = attrs.Factory(list)

    @property
    def host(self) -> str:
        return HOST

    @property
    def label(self) -> str:
        if self.options.backend == "memory":
            return "in-memory"
        return "PostgreSQL + Redis" + (" + RabbitMQ" if self.options.broker else "")

    @property
    def layout(self) -> str:
        """Which process runs what, in a phrase for the report's head."""
        if self.worker is not None:
            return f"cinema serve --workers {self.workers} --no-worker + cinema worker"
        return f"cinema serve --workers {self.workers} (sweeper and relay inside its processes)"

    def server_pids(self) -> list[int]:
        """The processes that answer requests: uvicorn's workers, or the server itself when it
        runs a single process."""
        assert self.process is not None
        return self.worker_children() or [self.process.pid]

    def worker_children(self) -> list[int]:
        assert self.process is not None
        return [pid for pid in descendants(self.process.pid) if _is_worker(pid)]

    def python_processes(self) -> dict[str, list[int]]:
        """The box office's own processes by kind (what py-spy samples, whose memory is
        shown): the API's uvicorn workers and, with --worker, `cinema worker`."""
        kinds = {"API": self.server_pids()}
        if self.worker is not None:
            kinds["worker"] = [self.worker.pid]
        return kinds

    def cpu_kinds(self) -> dict[str, Finder]:
        """What the CPU meter measures, by kind, in the report's order: every process of
        cinema serve (its supervisor included) and of cinema worker, the run database's
        backends, the shared servers."""
        assert self.process is not None
        kinds: dict[str, Finder] = {}
        for kind, process in (("API", self.process), ("worker", self.worker)):
            if process is not None:
                kinds[kind] = partial(list, [process.pid, *descendants(process.pid)])
        if self.database is not None:
            kinds["PostgreSQL"] = partial(
                database_backends, self.options.postgres_url, self.database
            )
        for kind, pid in self.shared.items():
            kinds[kind] = partial(list, [pid])
        return kinds


def _is_worker(pid: int) -> bool:
    # uvicorn spawns its workers with multiprocessing; its resource tracker is not one.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"resource_tracker" not in cmdline


def server_runtime() -> str:
    """What uvicorn will run on: it picks uvloop and httptools up when they are installed, and
    they about double what one process answers (bench/FINDINGS.md)."""
    from importlib.util import find_spec

    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    parser = "httptools" if find_spec("httptools") else "h11"
    hint = (
        "" if loop == "uvloop" and parser == "httptools" else " (uvicorn[standard] not installed)"
    )
    return f"servers run uvicorn on {loop} + {parser}{hint}"


def cinema_command() -> list[str]:
    """``cinema``, from the interpreter's own environment (the nox session's or the venv's)."""
    beside = Path(sys.executable).parent / "cinema"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("cinema")
    if found:
        return [found]
    return [sys.executable, "-c", "from entrypoints.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(
    options: Options,
    *,
    serve_args: Sequence[str] = (),
    on_database: Callable[[str], None] | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """Create the database, migrate, serve; yield the stack once it answers; tear it all down.

    ``on_database`` is called with the fresh database's libpq URL before the servers connect;
    ``serve_args`` are added to ``cinema serve``'s; ``settings`` are CINEMA_* variables of a
    stack that is not the default one (a scenario's own, ``bench/scenarios/pay.py``)."""
    namespace = f"bench_{uuid.uuid4().hex[:10]}"
    workdir = Path(tempfile.mkdtemp(prefix="cinema-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CINEMA_")}
    rate = UNREACHABLE_RATE if options.rate_limits else "0"
    env.update(dict.fromkeys(RATE_LIMIT_VARIABLES, rate))
    secret = secrets.token_urlsafe(32)
    env.update(CINEMA_AUTH_SECRET=secret, CINEMA_NAMESPACE=namespace)
    if options.log_level:
        env["CINEMA_LOG_LEVEL"] = options.log_level
    env.update(settings or {})
    workers = options.workers
    stack = Stack(options, free_port(), secret, namespace, workers, env, workdir / "server.log")
    stack.notes.append(
        f"rate limits on at {int(UNREACHABLE_RATE):,} requests/s per user and per client "
        "(each request goes through the limiter and its leases, none is refused)"
        if options.rate_limits
        else "rate limits switched off (--no-rate-limits)"
    )
    stack.notes.append(server_runtime())
    level = options.log_level or "INFO, the default"
    stack.notes.append(f"server log level {level}; log: {stack.log}")
    if options.backend == "memory" and workers > 1:
        # Each process of the in-memory mode has its own store: two of them would sell the
        # same seat, so the in-memory mode is one process by design.
        stack.workers = 1
        stack.notes.append(f"in-memory mode runs one server process (asked for {workers})")
    try:
        if options.backend == "postgres":
            stack.database = create_database(options.postgres_url, namespace)
            env["CINEMA_DATABASE_URL"] = server_url(options.postgres_url, stack.database)
            env["CINEMA_REDIS_URL"] = options.redis_url
            if options.broker:
                env["CINEMA_AMQP_URL"] = options.amqp_url
            stack.notes.append(f"fresh database {stack.database}, namespace {namespace}")
            _run([*cinema_command(), "migrate"], env, stack.log, "cinema migrate")
            if on_database is not None:
                on_database(database_dsn(options.postgres_url, stack.database))
        elif options.broker:
            stack.notes.append("in memory there is no broker: events stay in the process")
        if options.worker:
            serve_args = [*serve_args, "--no-worker"]
            stack.worker = _start([*cinema_command(), "worker"], env, workdir / "worker.log")
        _serve(stack, serve_args)
        stack.shared = shared_servers(env, stack.notes)
        yield stack
    finally:
        _stop(stack.process)
        _stop(stack.worker)
        if options.broker and options.backend == "postgres":
            forget_rabbitmq(env, options.amqp_url, namespace, stack.notes)
        if stack.database:
            drop_database(options.postgres_url, stack.database)
        if options.backend == "postgres":
            forget_redis_keys(options.redis_url, namespace)


def _serve(stack: Stack, extra: Sequence[str]) -> None:
    command = [
        *cinema_command(),
        "serve",
        "--host",
        HOST,
        "--port",
        str(stack.port),
        "--workers",
        str(stack.workers),
        *extra,
    ]
    stack.process = _start(command, stack.env, stack.log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name, process in (("serve", stack.process), ("worker", stack.worker)):
            if process is not None and process.poll() is not None:
                raise StackError(
                    f"cinema {name} exited with {process.returncode}; see {stack.log.parent}"
                )
        if answers(stack.port) and (
            stack.workers == 1 or len(stack.worker_children()) >= stack.workers
        ):
            return
        time.sleep(0.2)
    raise StackError(f"cinema serve did not answer within 60 s; see {stack.log}")


def answers(port: int, path: str = "/health") -> bool:
    try:
        with socket.create_connection((HOST, port), 1) as sock:
            head = f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
            sock.sendall(head.encode())
            return sock.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        # The whole group: uvicorn's workers too (each was started in a session of its own).
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def _run(command: list[str], env: dict[str, str], log: Path, what: str) -> None:
    with log.open("ab") as out:
        done = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise StackError(f"{what} failed ({done.returncode}); see {log}")
