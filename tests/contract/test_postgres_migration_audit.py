"""Migration 0013 (the audit trail is the outbox) applies on a database of revision 0012 whose
``audit_events`` holds the audit consumer's copies: the trail afterwards lists every event it
listed before, an event only ``audit_events`` held (its outbox row deleted by hand) included,
and ``audit_events`` is gone. The way back builds ``audit_events`` again from the published
outbox rows.

The data is stored by this code at the newest revision, then taken back to 0012 (whose schema
then holds exactly that data, in 0012's shape), and brought up again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from cinema_core import BoxOffice, ManualClock, Money
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated_postgres_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_0012_audit_trail_is_carried_into_the_outbox(
    migrated_postgres_url: str, engine: sa.Engine, clock: ManualClock
) -> None:
    """Down to 0012 (audit_events rebuilt from the published rows), one event kept only there,
    and up again: the trail lists each event once, that one too, and nothing waiting."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))
        for room in ("Sala 1", "Sala 2"):
            box.create_session(
                movie="Filme X",
                room=room,
                starts_at=clock.now() + timedelta(days=1),
                price=Money.parse("25.00"),
                rows=4,
                seats_per_row=4,
            )
        repo.relay_outbox(lambda events: None, 500)
        before = repo.events(type=None, session_id=None, before=None, limit=100)
    finally:
        repo.close()
    published = [e.id for _, e in before]
    assert published
    downgrade(url, "0012")
    assert "audit_events" in tables(engine)
    only_audited = uuid4()
    with engine.begin() as conn:
        copied = conn.execute(sa.text("SELECT id FROM audit_events ORDER BY seq")).scalars()
        assert list(copied) == published[::-1]
        conn.execute(
            sa.text(
                "INSERT INTO audit_events (id, type, occurred_at, session_id, data, recorded_at)"
                " VALUES (:id, 'session.cancelled', :at, NULL, CAST(:data AS jsonb), :at)"
            ),
            {
                "id": only_audited,
                "at": datetime(2026, 11, 1, 12, tzinfo=UTC),
                "data": json.dumps({"session_id": str(uuid4())}),
            },
        )
    upgrade(url)
    assert "audit_events" not in tables(engine)
    repo = PostgresReservationRepo(url)
    try:
        trail = repo.events(type=None, session_id=None, before=None, limit=100, published_only=True)
        assert [e.id for _, e in trail] == [only_audited, *published]
        assert repo.relay_outbox(lambda events: None, 500) == 0  # none of them goes out again
    finally:
        repo.close()
