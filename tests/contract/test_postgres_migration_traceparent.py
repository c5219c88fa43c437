"""Migration 0012 (the outbox's traceparent) applies on a database of revision 0011 holding
events, published and waiting: every event keeps its row and is relayed as before, with no
traceparent; events recorded afterwards carry the one of their trace. The way back drops the
column and keeps the events.

The data is stored by this code at the newest revision, then taken back to 0011 (whose schema
then holds exactly that data, in 0011's shape), and brought up again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from cinema_core import BoxOffice, ManualClock, Money
from cinema_core.events.envelopes import Event
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated_postgres_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def outbox_columns(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'outbox'"
            )
        )
        return set(found.scalars())


def relayed(repo: PostgresReservationRepo) -> list[Event]:
    sent: list[Event] = []

    def publish(events: Sequence[Event]) -> None:
        sent.extend(events)

    repo.relay_outbox(publish, 500)
    return sent


def new_session(box: BoxOffice, room: str) -> None:
    box.create_session(
        movie="Filme X",
        room=room,
        starts_at=box.clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
        rows=4,
        seats_per_row=4,
    )


def test_0011_events_keep_their_rows_and_relay_without_a_traceparent(
    migrated_postgres_url: str, engine: sa.Engine, clock: ManualClock
) -> None:
    """Down to 0011 and up again: published and waiting events kept, relayed untraced;
    a new event carries its trace's traceparent."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))
        new_session(box, "Sala 1")
        published = relayed(repo)
        repo.traceparent = lambda: TRACEPARENT
        new_session(box, "Sala 2")  # waits in the outbox, with a traceparent 0011 cannot keep
    finally:
        repo.close()
    downgrade(url, "0011")
    assert "traceparent" not in outbox_columns(engine)
    upgrade(url)
    assert "traceparent" in outbox_columns(engine)
    repo = PostgresReservationRepo(url)
    try:
        waiting = relayed(repo)
        assert [e.type for e in waiting] == ["session.created"]
        assert waiting[0].id not in {e.id for e in published}
        assert waiting[0].traceparent is None
        repo.traceparent = lambda: TRACEPARENT
        new_session(BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10)), "Sala 3")
        assert [e.traceparent for e in relayed(repo)] == [TRACEPARENT]
    finally:
        repo.close()
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM outbox")) == 3
