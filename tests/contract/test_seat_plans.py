"""The seat statements touch a few pages, not the session, whatever PostgreSQL's statistics say.

The connections run generic plans (adapters/postgres/engine.py), so a statement's plan is chosen
once, from the statistics of the moment. A fresh database has none on its seats until
autovacuum's first ANALYZE; there, a seat statement written as a plain join of the labels with
the seats was planned as a hash join over every seat of the session (2,600 rows read to lock
one). Each test here plans a statement as the connections do, on a table with no statistics
(autovacuum is off in the test's own database), runs it, and counts the rows each step of the
plan went through. The control is that plain join, planned the same way: it reads the session
whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from adapters.postgres import PostgresReservationRepo
from adapters.postgres.sql import seats, sessions
from cinema_core import BoxOffice, Money
from cinema_core.memory import InMemorySeatLock
from tests import services, unguarded_postgres

pytestmark = pytest.mark.postgres

ROWS, SEATS_PER_ROW = 26, 100  # the bench's seat map: 2,600 seats
# Two seats are asked for; no step of a good plan goes through more rows than that.
FEW_ROWS = 2

PLAIN_JOIN = """
SELECT s."row", s.number, s.held_by, s.hold_expires_at, s.sale_id, s.ticket
FROM seats AS s JOIN unnest(%(rows)s::char(1)[], %(numbers)s::int[]) AS v("row", number)
    ON s."row" = v."row" AND s.number = v.number
WHERE s.session_id = %(session_id)s
ORDER BY s."row", s.number
FOR UPDATE OF s
"""


@pytest.fixture(scope="module")
def big_session(postgres_template: str) -> Iterator[tuple[str, UUID]]:
    """A database of three 2,600-seat sessions whose seats were never analyzed, and the
    middle session."""
    with services.database("cinema_plans", template=postgres_template) as (_, url):
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("ALTER TABLE seats SET (autovacuum_enabled = false)")
        repo = PostgresReservationRepo(url)
        box = BoxOffice(repo=repo, seat_lock=InMemorySeatLock())
        room = box.create_room(cinema="C", name="Big", layout=["s" * SEATS_PER_ROW] * ROWS)
        starts = datetime.now(UTC) + timedelta(days=1)
        ids = [
            box.create_session(
                movie="M",
                starts_at=starts + timedelta(hours=4 * n),
                room_id=room.id,
                price=Money.parse("20.00"),
            ).session.id
            for n in range(3)
        ]
        repo.close()
        yield url, ids[1]


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def rows_gone_through(url: str, statement: str, params: dict[str, Any]) -> int:
    """The most rows any step of the statement's generic plan went through (kept or filtered
    out, over all its loops), run in a transaction rolled back."""
    names: list[str] = []

    def positional(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    text = re.sub(r"%\((\w+)\)s", positional, statement)
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        stats = conn.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'seats'").fetchone()
        assert stats == (0,), "the seats have statistics: the test would not show the risk"
        conn.execute(sql.SQL("PREPARE probe AS {}").format(sql.SQL(text)))
        args = sql.SQL(", ").join(sql.Literal(params[name]) for name in names)
        explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE probe({})").format(args)
        (plan,) = conn.execute(explain).fetchone()  # type: ignore[misc]
        conn.rollback()
    return max(
        _rows(node)
        for node in _steps((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    )


def _steps(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _steps(child)


def _rows(node: dict[str, Any]) -> int:
    seen = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
    seen += node.get("Rows Removed by Index Recheck", 0) + node.get(
        "Rows Removed by Join Filter", 0
    )
    return int(seen * node["Actual Loops"])


def _labels(session: UUID) -> dict[str, Any]:
    return {"session_id": session, "rows": ["C", "Q"], "numbers": [7, 70]}


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(seats.LOCK_SEATS, id="LOCK_SEATS"),
        pytest.param(seats.TRY_LOCK_SEATS, id="TRY_LOCK_SEATS"),
        pytest.param(unguarded_postgres.READ_SEATS_UNLOCKED, id="READ_SEATS_UNLOCKED"),
        pytest.param(sessions.LOCK_SESSION_AND_SEATS, id="LOCK_SESSION_AND_SEATS"),
        pytest.param(sessions.TRY_LOCK_SESSION_AND_SEATS, id="TRY_LOCK_SESSION_AND_SEATS"),
        pytest.param(unguarded_postgres.LOCK_SESSION_READ_SEATS, id="LOCK_SESSION_READ_SEATS"),
    ],
)
def test_reading_two_seats_of_a_big_session_goes_through_two_rows(
    big_session: tuple[str, UUID], sql: str
) -> None:
    url, session = big_session
    assert rows_gone_through(url, sql, _labels(session)) <= FEW_ROWS


def test_saving_two_seats_of_a_big_session_goes_through_two_rows(
    big_session: tuple[str, UUID],
) -> None:
    url, session = big_session
    params = {
        **_labels(session),
        "held_by": [None, None],
        "hold_expires_at": [None, None],
        "sale_ids": [None, None],
        "tickets": [None, None],
    }
    assert rows_gone_through(url, seats.SAVE_SEATS, params) <= FEW_ROWS


def test_control_a_plain_join_reads_the_whole_session(big_session: tuple[str, UUID]) -> None:
    url, session = big_session
    assert rows_gone_through(url, PLAIN_JOIN, _labels(session)) > 1000


def test_reading_what_changed_in_a_big_session_since_a_read_goes_through_two_rows(
    big_session: tuple[str, UUID],
) -> None:
    """A kept seat map's check, with nothing changed since its snapshot, reads no seat."""
    url, session = big_session
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        (since,) = conn.execute("SELECT pg_current_snapshot()::text").fetchone()  # type: ignore[misc]
    params = {"session_id": session, "since": since}
    assert rows_gone_through(url, seats.CHANGED_SEATS, params) <= FEW_ROWS
