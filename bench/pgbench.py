"""The database's ceiling on this machine, in the same run: PostgreSQL's own pgbench.

``pgbench -N`` (its simple-update transaction: an UPDATE, a SELECT and an INSERT, then a commit
flushed to disk, as the box office's are) on a database of its own next to the run's, from the
same number of connections as the generator. Beside a scenario's PostgreSQL CPU per request it
says how far the box office's transactions are from the cheapest a transaction gets here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from urllib.parse import urlsplit

import attrs

from .options import Options
from .process_cpu import CpuMeter, database_backends
from .resources import create_database, drop_database

SECONDS = 10
SCALE = 10  # 1,000,000 accounts: the updates rarely meet on a row
# CPU is counted over the middle of the run, once every client is connected and before any
# has left (a backend that exits takes its CPU time with it).
_WARM, _COOL = 1.5, 1.0
_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)


@attrs.frozen
class Ceiling:
    transactions_per_second: float
    postgres_ms_per_transaction: float
    clients: int


def measure(
    options: Options,
    namespace: str,
    notes: list[str],
    *,
    seconds: int = SECONDS,
    scale: int = SCALE,
) -> Ceiling | None:
    """pgbench's rate and PostgreSQL's CPU per transaction; ``None`` (and a note) without it."""
    binary = shutil.which("pgbench")
    if binary is None:
        notes.append("database ceiling not measured: no pgbench on this machine")
        return None
    name = create_database(options.postgres_url, f"{namespace}_pgbench")
    try:
        url = urlsplit(options.postgres_url)
        connection = [
            f"--host={url.hostname or '127.0.0.1'}",
            f"--port={url.port or 5432}",
            f"--username={url.username or 'postgres'}",
        ]
        init = [binary, *connection, "-i", "-q", "-s", str(scale), name]
        subprocess.run(init, check=True, capture_output=True, timeout=300)
        clients = options.connections * options.generators
        run = [binary, *connection, "-N", "-n", "-c", str(clients), "-j", "2"]
        run += ["-T", str(seconds), name]
        spent: dict[str, float] = {}
        meter = CpuMeter({"PostgreSQL": lambda: database_backends(options.postgres_url, name)})
        timer = threading.Timer(_WARM, meter.start)
        stopper = threading.Timer(seconds - _COOL, lambda: spent.update(meter.stop()))
        timer.start()
        stopper.start()
        done = subprocess.run(run, check=True, capture_output=True, text=True, timeout=120)
        stopper.join()
        found = _TPS.search(done.stdout)
        if found is None:
            notes.append("database ceiling not measured: pgbench printed no rate")
            return None
        tps = float(found[1])
        window = seconds - _WARM - _COOL
        cpu = spent.get("PostgreSQL", 0.0)
        return Ceiling(tps, 1000 * cpu / (tps * window) if tps else 0.0, clients)
    except (OSError, subprocess.SubprocessError) as error:
        notes.append(f"database ceiling not measured: {error}")
        return None
    finally:
        drop_database(options.postgres_url, name)
