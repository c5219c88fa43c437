"""Migration 0009 (products, promo codes, both on reservations and sales) applies on a database
of revision 0008 holding a hold and a sale: each keeps its seats and amount and carries no
products and no discount, and is paid, refunded and read as before; products and promo codes
then work on the same data. The way back drops the new tables and columns, and refuses while a
reservation carries products or a promo code (0008 could not say what it cost).

The data is stored by this code at the newest revision, then taken back to 0008 (whose schema
then holds exactly that data, in 0008's shape), and brought up again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from cinema_core import BoxOffice, ManualClock, Money
from cinema_core.goods.extras import Extras
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres

HOLD = timedelta(minutes=10)


def box_on(repo: PostgresReservationRepo, clock: ManualClock) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), clock, HOLD)


def new_session(box: BoxOffice) -> UUID:
    return box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=box.clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
        rows=4,
        seats_per_row=4,
    ).session.id


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated_postgres_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def columns(engine: sa.Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
            {"t": table},
        )
        return set(found.scalars())


def test_0008_holds_and_sales_carry_no_goods_and_keep_their_amounts(
    migrated_postgres_url: str, engine: sa.Engine, clock: ManualClock
) -> None:
    """Down to 0008 and up again: the hold and the sale as they were, payable and refundable;
    then a combo and a promo code on the same session."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = box_on(repo, clock)
        session_id = new_session(box)
        pending = box.reserve("u1", session_id, ["A1", "A2"])
        sold, _ = box.pay(box.reserve("u2", session_id, ["B1"]).id, "u2")
    finally:
        repo.close()
    downgrade(url, "0008")
    assert "products" not in columns(engine, "reservations")
    assert columns(engine, "products") == set()
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = box_on(repo, clock)
        held = box.reservation(pending.id, "u1")
        assert (held.products, held.discount, held.amount) == ((), None, Money(5000))
        sale = box.sale(sold.id)
        assert sale is not None
        assert (sale.products, sale.discount, sale.amount) == ((), None, Money(2500))
        paid, _ = box.pay(pending.id, "u1")
        assert paid.amount == Money(5000)
        assert box.refund(sold.id, "u2").amount == Money(2500)
        box.add_product(code="combo", name="Combo", price=Money(3000), stock=1)
        box.add_promo_code(code="DEZ", percent_off=10)
        made = box.reserve("u3", session_id, ["C1"], None, Extras.asked({"combo": 1}, "dez"))
        assert made.amount == Money(5500 - 550)
    finally:
        repo.close()


def test_the_way_back_refuses_while_a_reservation_carries_goods(
    migrated_postgres_url: str, engine: sa.Engine, clock: ManualClock
) -> None:
    """A hold with a combo would lose what it cost under 0008: the downgrade refuses, whole."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = box_on(repo, clock)
        box.add_product(code="combo", name="Combo", price=Money(3000), stock=None)
        box.reserve("u1", new_session(box), ["A1"], None, Extras.asked({"combo": 1}))
    finally:
        repo.close()
    with pytest.raises(RuntimeError, match="1 reservations carry products or a promo code"):
        downgrade(url, "0008")
    assert "products" in columns(engine, "reservations")
