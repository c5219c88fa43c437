"""CPU time spent while a scenario runs, by kind of process: the API processes, a `cinema
worker`, PostgreSQL's backends serving the run's database, RabbitMQ and Redis.

Throughput on a shared machine moves with everyone else's load; CPU milliseconds per request
move much less, and on two cores they bound the rate: at C ms of CPU per request, all kinds
together, no tuning elsewhere answers more than 2,000 / C requests a second.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

_TICKS = os.sysconf("SC_CLK_TCK")
_LOCAL = {"127.0.0.1", "localhost", "::1", ""}
_LISTEN = "0A"  # TCP state in /proc/net/tcp

# Which processes a kind is made of, asked again when the meter stops (backends come and go).
Finder = Callable[[], Iterable[int]]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of the process so far, or ``None`` once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def database_backends(admin_url: str, database: str) -> list[int]:
    """PostgreSQL's backend processes serving ``database`` now."""
    import psycopg

    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def shared_servers(env: dict[str, str], notes: list[str]) -> dict[str, int]:
    """The pids of the local RabbitMQ and Redis the servers' settings name, by kind; a remote
    one is not measured, and ``notes`` says so."""
    found = {}
    for kind, variable, port, name in (
        ("RabbitMQ", "CINEMA_AMQP_URL", 5672, "beam.smp"),
        ("Redis", "CINEMA_REDIS_URL", 6379, "redis-server"),
    ):
        if variable not in env:
            continue
        pid = server_of(env[variable], port, name)
        if pid is None:
            notes.append(f"{kind} is not a process of this machine: its CPU is not measured")
        else:
            found[kind] = pid
    return found


def server_of(url: str, default_port: int, name: str) -> int | None:
    """The pid of the local server ``url`` points at: the process listening on its port, or
    else (its sockets unreadable without privileges) the only process called ``name``."""
    parts = urlsplit(url)
    if parts.hostname not in _LOCAL:
        return None
    port = parts.port or default_port
    found = _listening(port)
    if found is not None:
        return found
    named = [pid for pid in _pids() if _command(pid) == name]
    return named[0] if len(named) == 1 else None


def _listening(port: int) -> int | None:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in _pids():
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    return None


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class CpuMeter:
    """CPU seconds per kind between ``start`` and ``stop``. Processes that appear in between
    count from zero; one that ends in between loses what it spent (the pools keep theirs)."""

    def __init__(self, kinds: dict[str, Finder]):
        self._kinds = kinds
        self._before: dict[str, dict[int, float]] = {}

    def _now(self) -> dict[str, dict[int, float]]:
        return {
            kind: {pid: cpu for pid in find() if (cpu := cpu_seconds(pid)) is not None}
            for kind, find in self._kinds.items()
        }

    def start(self) -> None:
        self._before = self._now()

    def stop(self) -> dict[str, float]:
        return {
            kind: sum(cpu - self._before.get(kind, {}).get(pid, 0.0) for pid, cpu in found.items())
            for kind, found in self._now().items()
        }
