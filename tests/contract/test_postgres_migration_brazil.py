"""Migration 0008 (quota groups, documents, ratings) applies on a database of revision 0007
holding sessions with their own ticket types and holds: each session keeps its types, a type
with a quota becomes its own group (named by its code), every session is rated L, and the
quota still counts what was held. The way back drops the new keys and the rating, and refuses
while two types share a group (0007 would count them apart).

The data is stored by this code at the newest revision, then taken back to 0007 (whose schema
then holds exactly that data, in 0007's shape), and brought up again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from cinema_core import BoxOffice, ManualClock, Money, TicketQuotaExhausted, TicketType
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres

HOLD = timedelta(minutes=10)
OLD_TYPES = (TicketType("full", "Inteira", 100), TicketType("half", "Meia-entrada", 50, 40))


def box_on(repo: PostgresReservationRepo, clock: ManualClock) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), clock, HOLD)


def new_session(box: BoxOffice, *types: TicketType) -> UUID:
    return box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=box.clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
        rows=4,
        seats_per_row=4,
        ticket_types=types,
    ).session.id


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated_postgres_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def stored_types(engine: sa.Engine, session_id: UUID) -> object:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT ticket_types FROM sessions WHERE id = :id"), {"id": session_id}
        )


def columns(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'sessions'"
            )
        )
        return set(found.scalars())


def test_0007_sessions_keep_their_types_as_their_own_groups_and_are_rated_L(
    migrated_postgres_url: str, engine: sa.Engine, clock: ManualClock
) -> None:
    """Down to 0007 and up again: same types, half its own group, rating L, holds counted."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = box_on(repo, clock)
        session_id = new_session(box, *OLD_TYPES)
        box.reserve("u1", session_id, ["A1", "A2", "A3", "A4", "B1"], {"half": 5})
    finally:
        repo.close()
    downgrade(url, "0007")
    assert "rating" not in columns(engine)
    assert stored_types(engine, session_id) == [
        {"code": "full", "name": "Inteira", "percent": 100},
        {"code": "half", "name": "Meia-entrada", "percent": 50, "quota_percent": 40},
    ]
    upgrade(url)
    assert stored_types(engine, session_id) == [
        {"code": "full", "name": "Inteira", "percent": 100},
        {
            "code": "half",
            "name": "Meia-entrada",
            "percent": 50,
            "quota_percent": 40,
            "quota_group": "half",
        },
    ]
    repo = PostgresReservationRepo(url)
    try:
        box = box_on(repo, clock)
        view = box.session(session_id)
        assert view.session.ticket_types == OLD_TYPES
        assert view.session.rating == "L"
        assert (view.quotas["half"].limit, view.quotas["half"].used) == (6, 5)
        box.reserve("u2", session_id, ["B2"], {"half": 1})
        with pytest.raises(TicketQuotaExhausted):
            box.reserve("u3", session_id, ["B3"], {"half": 1})
        rated = box.change_session(session_id, rating="16")
        assert box.session(session_id).session.rating == rated.session.rating == "16"
    finally:
        repo.close()


def test_the_way_back_refuses_while_two_types_share_a_group(
    migrated_postgres_url: str, engine: sa.Engine, clock: ManualClock
) -> None:
    """Types of one group would each count alone under 0007: the downgrade refuses, whole."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        shared = new_session(
            box_on(repo, clock),
            TicketType("full", "Inteira", 100),
            TicketType("student", "Estudante", 50, 40, "meia"),
            TicketType("pcd", "PcD", 50, 40, "meia"),
        )
    finally:
        repo.close()
    with pytest.raises(RuntimeError, match="1 sessions have ticket types in shared quota groups"):
        downgrade(url, "0007")
    assert "rating" in columns(engine)
    assert [kind["quota_group"] for kind in stored_types(engine, shared)[1:]] == ["meia"] * 2  # type: ignore[index]
