"""Count the SQL statements each request costs: ``python -m bench.round_trips``.

Starts one server process on a fresh database with ``log_statement = all`` (without the
background worker, whose polling would blur the count, unless ``--with-worker``), sends each kind
of request a few times, and counts the statements PostgreSQL logged for the database in
between, BEGIN, COMMIT and the pool's pre-ping included: each one is a round trip from the
server to the database. With ``--with-worker`` it first counts what the idle worker (sweeper and
relay polling) sends in two seconds, and the counts per request include the relay's work.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import Counter
from pathlib import Path

import attrs

from .admin import Admin
from .api import User, get, token
from .options import Options
from .servers import running

POSTGRES_LOG = Path("/var/log/postgresql/postgresql-15-main.log")
_STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)")


def _log_size(log: Path) -> int:
    return log.stat().st_size


def _statements(log: Path, since: int, database: str) -> list[str]:
    with log.open("rb") as f:
        f.seek(since)
        text = f.read().decode("utf-8", "replace")
    found = []
    for line in text.splitlines():
        if f"@{database} " not in line:
            continue
        match = _STATEMENT.search(line)
        if match:
            found.append(" ".join(match[1].split())[:90])
    return found


async def _measure(
    stack_host: str, port: int, secret: str, log: Path, database: str, times: int
) -> dict[str, list[list[str]]]:
    async with Admin(stack_host, port, secret, connections=1) as admin:
        counts: dict[str, list[list[str]]] = {}
        before = _log_size(log)
        await asyncio.sleep(2.0)
        counts["(idle, 2 s)"] = [_statements(log, before, database)]
        session_id = await admin.create_session(10, 10, "25.00", "Round trips")
        user = User("rt", token(secret, "rt"))

        async def one(name: str, raw: bytes, expect: int) -> bytes:
            await asyncio.sleep(0.3)  # let anything earlier reach the log
            before = _log_size(log)
            status, body, _ = await admin.pool.request(raw)
            if status != expect:
                raise RuntimeError(f"{name}: {status} {body[:200]!r}")
            await asyncio.sleep(0.3)
            counts.setdefault(name, []).append(_statements(log, before, database))
            return body

        import orjson

        for i in range(times):
            seats = [f"{chr(ord('A') + i)}{n}" for n in (1, 2)]
            body = await one("POST /reservations", user.reserve(session_id, seats), 201)
            reservation = orjson.loads(body)["id"]
            await one("POST /reservations/{id}/payment", user.pay(reservation), 201)
            await one("POST /reservations (409)", user.reserve(session_id, seats), 409)
            await one("GET /sessions/{id}/seats", get(f"/sessions/{session_id}/seats"), 200)
            await one("GET /health", get("/health"), 200)
        return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.round_trips", description=__doc__)
    parser.add_argument("--times", type=int, default=5)
    parser.add_argument("--log", type=Path, default=POSTGRES_LOG)
    parser.add_argument("--show", action="store_true", help="print the statements themselves")
    parser.add_argument("--with-worker", action="store_true", help="keep the background worker")
    args = parser.parse_args(argv)
    options = attrs.evolve(Options(), workers=1, log_level="WARNING")

    def log_everything(dsn: str) -> None:
        import psycopg

        database = dsn.rsplit("/", 1)[1]
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE \"{database}\" SET log_statement = 'all'")

    serve_args = [] if args.with_worker else ["--no-worker"]
    with running(options, serve_args=serve_args, on_database=log_everything) as stack:
        assert stack.database is not None
        time.sleep(0.5)
        counts = asyncio.run(
            _measure(stack.host, stack.port, stack.secret, args.log, stack.database, args.times)
        )
    print(f"SQL statements per request (server → PostgreSQL round trips), {args.times} tries each")
    for name, tries in counts.items():
        numbers = [len(t) for t in tries]
        print(f"  {name:35} {min(numbers)}–{max(numbers)}  (last: {numbers[-1]})")
        if args.show:
            for statement, n in Counter(tries[-1]).items():
                print(f"      {n}× {statement}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
