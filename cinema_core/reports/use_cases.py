"""The use cases of reports: a session's figures and statement, and the sales per day (admin).

Each is one read of the store, through the ``Holding`` it is handed (the session cache).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from cinema_core.reports.figures import DailySales, SalesFilter, SessionReport
from cinema_core.reports.goods import NO_GOODS, GoodsTally, by_day
from cinema_core.reports.statement import SessionStatement
from cinema_core.selling.holding import Holding


@attrs.define
class Reports:
    """What an admin's reports read (``BoxOffice.session_report`` and ``sales_report``)."""

    holding: Holding

    def session_report(self, session_id: UUID) -> SessionReport:
        """How full the session is and what it earned, net of refunds."""
        session = self.holding.session(session_id)
        return SessionReport.of(
            session, self.holding.repo.session_tally(session.id, self.holding.clock.now())
        )

    def session_statement(self, session_id: UUID) -> SessionStatement:
        """The session's borderô: every ticket sold, refunded and checked in, by ticket type,
        seat category and payment method."""
        session = self.holding.session(session_id)
        repo = self.holding.repo
        sold = repo.sales_with_goods(SalesFilter(session_id=session.id))
        goods = GoodsTally.of([one.sale for one in sold], session.price.currency)
        return SessionStatement.of(session, repo.statement_groups(session.id), goods)

    def sales_report(
        self,
        *,
        paid_from: datetime | None = None,
        paid_before: datetime | None = None,
        cinema: str | None = None,
    ) -> list[DailySales]:
        """Sales per day (UTC) of payment, cinema and movie, net of refunds, with their products
        and discounts."""
        where = SalesFilter(paid_from, paid_before, cinema)
        # Two reads, not one snapshot: a sale paid between them is in one and not the other
        # until the report is asked again (an admin's report, not a ledger).
        rows = self.holding.repo.sales_by_day(where)
        goods = by_day(self.holding.repo.sales_with_goods(where))
        return [
            row.with_goods(
                GoodsTally.of(goods[key], row.revenue.currency)
                if (key := (row.date, row.cinema, row.movie)) in goods
                else NO_GOODS
            )
            for row in rows
        ]
