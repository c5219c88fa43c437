"""SQL statements per request (``--profile``, PostgreSQL): each one is a round trip from an API
process to the database.

A stack of its own (a fresh database with ``log_statement = all``, one API process served
``--no-worker`` so that no sweep or relay pass is counted with a request) is sent each kind of
request a few times, one at a time; the statements PostgreSQL logged for the database in
between are that request's, BEGIN and COMMIT included.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import attrs
import orjson

from .admin import Admin
from .api import User, get, token
from .options import Options
from .servers import running

TRIES = 3
# What a request's statements may take to reach the log after its answer (the pool's reset
# of a returned connection comes after the answer).
_SETTLE = 0.1
_STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)")
# A line of its own in the log (the rest continue a multi-line message), as Debian's
# log_line_prefix ``%m [%p] %q%u@%d `` starts it.
_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@attrs.frozen
class Count:
    """One kind of request: statements per try, and those of the last try."""

    request: str
    counts: list[int]
    last: list[str]


def statements(text: str, database: str) -> list[str]:
    """The statements in a stretch of PostgreSQL's log (prefix ``%m [%p] %q%u@%d``) that ran
    on ``database``, whitespace folded, each cut at 90 characters."""
    found: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        if not _PREFIX.match(line):
            if inside:
                found[-1].append(line)
            continue
        match = _STATEMENT.search(line) if f"@{database} " in line else None
        inside = match is not None
        if match:
            found.append([match[1]])
    return [" ".join(" ".join(lines).split())[:90] for lines in found]


def count(options: Options, notes: list[str]) -> list[Count]:
    """Statements per kind of request, on a stack like the run's but for the layout above."""
    log = options.postgres_log
    try:
        log.open("rb").close()
    except OSError as error:
        notes.append(f"statements not counted: cannot read PostgreSQL's log ({error})")
        return []

    def log_everything(dsn: str) -> None:
        import psycopg

        database = dsn.rsplit("/", 1)[1]
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE \"{database}\" SET log_statement = 'all'")

    small = attrs.evolve(options, workers=1, worker=False)
    with running(small, serve_args=["--no-worker"], on_database=log_everything) as stack:
        assert stack.database is not None
        counts = asyncio.run(_measure(stack.host, stack.port, stack.secret, log, stack.database))
    if not any(c.last for c in counts):
        notes.append(f"no statement of the run's database found in {log} (--postgres-log)")
    return counts


async def _measure(host: str, port: int, secret: str, log: Path, database: str) -> list[Count]:
    found: dict[str, list[list[str]]] = {}
    async with Admin(host, port, secret, connections=1) as admin:
        session_id = await admin.create_session(10, 10, "25.00", "Statements")
        user = User("statements", token(secret, "statements"))

        async def one(name: str, raw: bytes, expect: int) -> bytes:
            await asyncio.sleep(_SETTLE)  # let the lines of what came before land
            before = log.stat().st_size
            status, body, _ = await admin.pool.request(raw)
            if status != expect:
                raise RuntimeError(f"{name}: expected {expect}, got {status}: {body[:200]!r}")
            await asyncio.sleep(_SETTLE)
            with log.open("rb") as f:
                f.seek(before)
                text = f.read().decode("utf-8", "replace")
            found.setdefault(name, []).append(statements(text, database))
            return body

        async def sale(seats: list[str]) -> None:
            body = await one("POST /reservations", user.reserve(session_id, seats), 201)
            reservation = orjson.loads(body)["id"]
            await one("POST /reservations/{id}/payment", user.pay(reservation), 201)
            await one("POST /reservations (409)", user.reserve(session_id, seats), 409)
            await one("GET /sessions/{id}/seats", get(f"/sessions/{session_id}/seats"), 200)
            await one("GET /health", get("/health"), 200)

        for i in range(TRIES):
            await sale([f"{chr(ord('A') + i)}{n}" for n in (1, 2)])
    return [Count(name, [len(t) for t in tries], tries[-1]) for name, tries in found.items()]
