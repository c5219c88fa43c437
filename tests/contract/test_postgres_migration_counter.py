"""Migration 0010 (shifts, each sale's channel and till) applies on a database of revision 0009
holding sales: each reads as sold online with no shift, and the counter works beside them. The
way back drops the shifts and the new columns, and refuses while a counter sale exists (0009
would keep it as an online sale, its till forgotten).

The data is stored by this code at the newest revision, then taken back to 0009 (whose schema
then holds exactly that data, in 0009's shape), and brought up again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from cinema_core import BoxOffice, ManualClock, Money
from cinema_core.counter.till import PaymentMethod
from cinema_core.counter.use_cases import CounterOrder
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated_postgres_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def sales_columns(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = 'sales'")
        )
        return set(found.scalars())


def test_0009_sales_read_as_online_and_the_counter_sells_beside_them(
    migrated_postgres_url: str, engine: sa.Engine, clock: ManualClock
) -> None:
    """Down to 0009 and up again: the sale is whole, online, with no shift; a shift opens and
    a counter sale lands in it."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))
        session_id = new_session(box, days=1).session.id
        sale, _ = box.pay(box.reserve("u1", session_id, ["A1", "A2"]).id, "u1")
    finally:
        repo.close()
    downgrade(url, "0009")
    assert "channel" not in sales_columns(engine)
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))
        kept = box.sale(sale.id)
        assert kept == sale
        assert (kept.channel, kept.counter) == ("online", None)
        shift = box.open_shift("ana", Money.parse("10.00"))
        order = CounterOrder(session_id, PaymentMethod.CASH, seats=["B1"], tendered=Money(2500))
        made = box.counter_sale("ana", order)
        assert [s.id for s in box.counter.holding.repo.shift_sales(shift.id)] == [made.id]
    finally:
        repo.close()


def test_the_way_back_refuses_while_a_counter_sale_exists(
    migrated_postgres_url: str, engine: sa.Engine, clock: ManualClock
) -> None:
    """A counter sale has no shape in 0009: the downgrade refuses, and changes nothing."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))
        session_id = new_session(box, days=1).session.id
        box.open_shift("ana", Money.parse("0.00"))
        box.counter_sale("ana", CounterOrder(session_id, PaymentMethod.CARD, seats=["A1"]))
    finally:
        repo.close()
    with pytest.raises(RuntimeError, match="counter"):
        downgrade(url, "0009")
    assert "channel" in sales_columns(engine)
