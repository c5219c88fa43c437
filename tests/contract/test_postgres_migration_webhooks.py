"""Migration 0011 (webhooks) applies on a database of revision 0010 holding sales: every
session, sale and event stays as it was, and the webhook tables start empty and work. The way
back drops the webhooks and their log, and leaves the rest as it found it.

The data is stored by this code at the newest revision, then taken back to 0010 (whose schema
then holds exactly that data) and brought up again.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from adapters.postgres.webhooks import PostgresWebhookStore
from cinema_core import BoxOffice, ManualClock
from cinema_core.events.envelopes import Event
from cinema_core.webhooks.use_cases import Webhooks
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock
from tests.webhook_senders import ScriptedSender

pytestmark = pytest.mark.postgres


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = {
            table: int(conn.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)
            for table in ("sessions", "sales", "tickets", "outbox")
        }
        found["webhook tables"] = int(
            conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_tables "
                    "WHERE tablename IN ('webhooks', 'webhook_deliveries')"
                )
            )
            or 0
        )
    engine.dispose()
    return found


def test_0011_keeps_the_sales_and_adds_empty_webhook_tables(
    migrated_postgres_url: str, clock: ManualClock
) -> None:
    """Down to 0010 and up again: the sales and events are kept; webhooks start empty and the
    store works on them; down again drops only them."""
    url = migrated_postgres_url
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))
        session = new_session(box)
        for seat in ("A1", "A2"):
            box.pay(box.reserve("alice", session.session.id, [seat]).id, "alice")
    finally:
        repo.close()
    downgrade(url, "0010")
    before = counts(url)
    assert before["webhook tables"] == 0
    assert before["sales"] == 2
    applied = upgrade(url, "0011")
    assert [revision for revision, _ in applied.revisions] == ["0011"]
    upgrade(url)
    after = counts(url)
    assert after == {**before, "webhook tables": 2}
    store = PostgresWebhookStore(url)
    try:
        webhooks = Webhooks(store, ScriptedSender(), clock)
        assert webhooks.all() == []
        hook = webhooks.register("https://hooks.example.com/x", ["*"])
        assert webhooks.fan_out([Event(uuid4(), "session.created", clock.now(), {})]) == 1
        assert webhooks.send_due() == 1
        assert webhooks.deliveries(hook.id, None, 5)[0].status == "delivered"
    finally:
        store.close()
    downgrade(url, "0010")
    assert counts(url) == before
