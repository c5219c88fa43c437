"""A real Redis Cluster for tests: six ``redis-server`` processes of the test's own (3 masters,
a replica each) on ports nobody else uses, made with ``redis-cli --cluster create``; and one
plain ``redis-server`` of a test's own, for the server's counters.

The machine's shared Redis (6379) is never touched. Without ``redis-server`` the tests that need
a cluster are skipped, or fail under ``CINEMA_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest

from tests import services
from tests.flow.processes import stop

MASTERS = 3
# A node is judged failed after this many ms, and its replica promoted soon after; Redis'
# default (15 s) would make a failover test wait a quarter of a minute.
NODE_TIMEOUT_MS = 1000
# The cluster bus of a node listens on its port + 10000.
BUS_OFFSET = 10000


def _die_with_parent() -> None:
    """Run in the child before exec: SIGKILL it when the test process dies, so a test run
    killed without its teardown leaves no redis-server behind (Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def need_binaries() -> None:
    """Skip (or, when services are required, fail) unless redis-server and redis-cli exist."""
    missing = [name for name in ("redis-server", "redis-cli") if shutil.which(name) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not found on PATH: no Redis Cluster can be started"
    if services.services_required():
        pytest.fail(f"{reason}, and CINEMA_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(f"{reason} (set CINEMA_REQUIRE_SERVICES=1 to make this a failure)")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as redis-server does
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(first: int, count: int) -> list[int]:
    """``count`` consecutive ports from ``first`` on (or the next free block), each with its
    bus port free too."""
    for start in range(first, first + 2000, count):
        ports = list(range(start, start + count))
        if all(_free(p) and _free(p + BUS_OFFSET) for p in ports):
            return ports
    raise RuntimeError(f"no {count} free ports (and bus ports) from {first}")


class RedisCluster:
    """Six nodes in a temporary directory; ``url`` names one of them as the box office would."""

    def __init__(self, first_port: int, replicas: int = 1):
        need_binaries()
        self.ports = free_ports(first_port, MASTERS * (1 + replicas))
        self._dir = Path(tempfile.mkdtemp(prefix="cinema-redis-cluster-"))
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        try:
            for port in self.ports:
                self.start_node(port)
            for port in self.ports:
                self._wait_answering(port)
            created = subprocess.run(
                ["redis-cli", "--cluster", "create"]
                + [f"127.0.0.1:{port}" for port in self.ports]
                + ["--cluster-replicas", str(replicas), "--cluster-yes"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            if created.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout!r}")
            self.wait_healthy()
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start_node(self, port: int) -> None:
        """Start (or restart, with its saved cluster config) the node on ``port``."""
        self._processes[port] = _spawn(
            port,
            self._dir,
            "--cluster-enabled", "yes",
            "--cluster-config-file", f"nodes-{port}.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            # A replica may take over however long its link was down (a test kills
            # masters at will), and starts syncing at once rather than after 5 s.
            "--cluster-replica-validity-factor", "0",
            "--repl-diskless-sync-delay", "0",
        )  # fmt: skip

    def kill(self, port: int) -> None:
        """SIGKILL the node on ``port``: no goodbye to the cluster or the clients."""
        process = self._processes[port]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def cli(self, port: int, *args: str) -> str:
        return _cli(port, *args)

    def masters(self) -> dict[int, list[tuple[int, int]]]:
        """Live masters by port, with the slot ranges each serves (as a live node sees them)."""
        for port in self._running():
            answer = self.cli(port, "cluster", "nodes")
            if not answer:
                continue
            found: dict[int, list[tuple[int, int]]] = {}
            for line in answer.splitlines():
                fields = line.split()
                if len(fields) < 8 or "master" not in fields[2] or "fail" in fields[2]:
                    continue
                node_port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
                ranges = []
                for part in fields[8:]:
                    if part.startswith("["):
                        continue  # a slot being migrated
                    low, _, high = part.partition("-")
                    ranges.append((int(low), int(high or low)))
                if ranges:
                    found[node_port] = ranges
            return found
        return {}

    def master_of(self, slot: int) -> int:
        """The port of the master serving ``slot``."""
        for port, ranges in self.masters().items():
            if any(low <= slot <= high for low, high in ranges):
                return port
        raise LookupError(f"no master serves slot {slot}")

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until every running node says ``cluster_state:ok``, three masters cover the slots and
        every replica is in sync with its master (else it could not take over)."""
        deadline = time.monotonic() + timeout
        while True:
            states = [self.cli(port, "cluster", "info") for port in self._running()]
            covered = sum(high - low + 1 for r in self.masters().values() for low, high in r)
            links = [self.cli(port, "info", "replication") for port in self._running()]
            replicas_synced = all(
                "master_link_status:up" in link for link in links if "role:slave" in link
            )
            if (
                all("cluster_state:ok" in s for s in states)
                and covered == 16384
                and replicas_synced
            ):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test Redis Cluster is not healthy: {states}")
            time.sleep(0.1)

    def close(self) -> None:
        _stop(list(self._processes.values()), self._dir)

    def __enter__(self) -> RedisCluster:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _running(self) -> list[int]:
        return [port for port, p in self._processes.items() if p.poll() is None]

    def _wait_answering(self, port: int) -> None:
        _wait_answering(port, self._processes[port], self._dir)


class RedisServer:
    """One plain ``redis-server`` of the test's own: its counters (``INFO commandstats``) count
    the commands of the test alone, which the shared Redis mixes with every other run's."""

    def __init__(self, first_port: int):
        need_binaries()
        (self.port,) = free_ports(first_port, 1)
        self._dir = Path(tempfile.mkdtemp(prefix="cinema-redis-"))
        self._process = _spawn(self.port, self._dir)
        try:
            _wait_answering(self.port, self._process, self._dir)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def commands(self) -> dict[str, int]:
        """How many times each command has run, those of scripts included, by lower-case
        name (``evalsha``, ``hset`` …), as ``INFO commandstats`` counts them."""
        counts: dict[str, int] = {}
        for line in _cli(self.port, "info", "commandstats").splitlines():
            name, _, stats = line.strip().partition(":")
            if name.startswith("cmdstat_"):
                fields = dict(field.split("=", 1) for field in stats.split(","))
                counts[name.removeprefix("cmdstat_")] = int(fields["calls"])
        return counts

    def close(self) -> None:
        _stop([self._process], self._dir)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def _spawn(port: int, directory: Path, *options: str) -> subprocess.Popen[bytes]:
    """A ``redis-server`` on ``port`` keeping nothing on disk, its log in ``directory``."""
    log = (directory / f"{port}.log").open("ab")
    try:
        return subprocess.Popen(
            [
                "redis-server",
                "--port", str(port),
                "--bind", "127.0.0.1",
                *options,
                "--dir", str(directory),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
    finally:
        log.close()


def _cli(port: int, *args: str) -> str:
    done = subprocess.run(
        ["redis-cli", "-p", str(port), *args], capture_output=True, timeout=10, check=False
    )
    return done.stdout.decode(errors="replace")


def _wait_answering(port: int, process: subprocess.Popen[bytes], directory: Path) -> None:
    deadline = time.monotonic() + 10
    while "PONG" not in _cli(port, "ping"):
        if process.poll() is not None:
            log = (directory / f"{port}.log").read_text(errors="replace")
            raise RuntimeError(f"redis-server on {port} exited: {log[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on {port} did not answer within 10 s")
        time.sleep(0.05)


def _stop(processes: list[subprocess.Popen[bytes]], directory: Path) -> None:
    stop(processes)
    shutil.rmtree(directory, ignore_errors=True)
