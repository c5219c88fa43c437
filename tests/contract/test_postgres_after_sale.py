"""PostgreSQL after the sale: migration 0005 gives earlier sales their tickets, the way back
refuses to lose refunds, and the report aggregates run on their indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from adapters.postgres.sql.reports import SALES_BY_DAY, SESSION_TALLY
from cinema_core import BoxOffice, ManualClock, Money, TicketStatus
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres


def _box(url: str, clock: ManualClock) -> tuple[BoxOffice, PostgresReservationRepo]:
    repo = PostgresReservationRepo(url)
    return BoxOffice(repo, NoSeatLock(), clock, timedelta(seconds=30)), repo


def test_sales_made_before_0005_get_a_ticket_per_seat(
    postgres_url: str, clock: ManualClock
) -> None:
    """Back to 0004 (no tickets), forward again: every sold seat has one valid ticket with an
    unguessable code of its own, which the door admits once."""
    upgrade(postgres_url)
    box, repo = _box(postgres_url, clock)
    try:
        view = new_session(box, days=1)
        held = box.reserve("u1", view.session.id, ["A1", "B3"], {"half": 1})
        sale, _ = box.pay(held.id, "u1")
        repo.close()
        downgrade(postgres_url, "0004")
        upgrade(postgres_url)
        box, repo = _box(postgres_url, clock)
        tickets = box.tickets(sale.id, "u1")
        assert [(str(t.seat), t.ticket, str(t.price)) for t in tickets] == [
            ("A1", "half", "12.50"),
            ("B3", "full", "25.00"),
        ]
        assert {t.status for t in tickets} == {TicketStatus.VALID}
        assert all(len(t.code) == 64 and int(t.code, 16) for t in tickets)
        assert len({t.code for t in tickets}) == 2
        assert box.check_in(tickets[0].code).seat == tickets[0].seat
        assert box.session_report(view.session.id).revenue == Money(3750)
    finally:
        repo.close()


def test_the_way_back_from_0005_refuses_to_forget_refunds(
    postgres_url: str, clock: ManualClock
) -> None:
    """With a refund made, downgrading to 0004 raises and changes nothing."""
    upgrade(postgres_url)
    box, repo = _box(postgres_url, clock)
    try:
        view = new_session(box, days=1)
        sale, _ = box.pay(box.reserve("u1", view.session.id, ["A1"]).id, "u1")
        box.refund(sale.id, "u1")
        with pytest.raises(RuntimeError, match="refunds"):
            downgrade(postgres_url, "0004")
        assert box.owned_sale(sale.id, "u1").refunded_amount == Money(2500)
    finally:
        repo.close()


@pytest.mark.parametrize(
    ("sql", "index"),
    [(SESSION_TALLY, "tickets_session_id_idx"), (SALES_BY_DAY, "tickets_paid_at_idx")],
)
def test_report_aggregates_run_on_their_indexes(
    clean_postgres_url: str, sql: str, index: str
) -> None:
    """The plan of each report statement reads tickets through its index (sequential scans
    disallowed, as a large table would make them lose), not by loading every sale."""
    engine = sa.create_engine(clean_postgres_url, poolclass=sa.pool.NullPool)
    params = {
        "session_id": uuid4(),
        "now": datetime.now(UTC),
        "from": datetime(2026, 12, 1, tzinfo=UTC),
        "before": datetime(2026, 12, 2, tzinfo=UTC),
        "cinema": None,
    }
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql, params))
    finally:
        engine.dispose()
    assert index in plan, plan
