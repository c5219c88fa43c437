"""CPU time spent by the servers and by PostgreSQL's backends while a scenario runs.

Throughput on a shared machine moves with everyone else's load; CPU milliseconds per request
move much less, and on two cores they bound the rate: at C ms of CPU per sale (servers, database
and generator together) no tuning elsewhere sells more than 2,000 / C a second.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

_TICKS = os.sysconf("SC_CLK_TCK")


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


@attrs.define
class CpuSpent:
    """CPU seconds over one scenario: the server processes and the database's backends."""

    servers: float = 0.0
    database: float = 0.0


class CpuMeter:
    """Snapshot before, snapshot after; processes that appear in between count from zero."""

    def __init__(self, server_pids: list[int], admin_url: str | None, database: str | None):
        self._servers = server_pids
        self._admin_url = admin_url
        self._database = database
        self._before: dict[int, float] = {}
        self._backends_before: dict[int, float] = {}

    def _backends(self) -> dict[int, float]:
        if not (self._admin_url and self._database):
            return {}
        pids = database_backends(self._admin_url, self._database)
        return {pid: cpu for pid in pids if (cpu := cpu_seconds(pid)) is not None}

    def start(self) -> None:
        self._before = {p: c for p in self._servers if (c := cpu_seconds(p)) is not None}
        self._backends_before = self._backends()

    def stop(self) -> CpuSpent:
        servers = sum(
            c - self._before.get(p, 0.0) for p in self._servers if (c := cpu_seconds(p)) is not None
        )
        after = self._backends()
        database = sum(c - self._backends_before.get(p, 0.0) for p, c in after.items())
        return CpuSpent(servers, database)
