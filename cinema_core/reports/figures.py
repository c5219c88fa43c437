"""Reports: how full a session is and what it earned, and sales per day, cinema and movie.

The store counts (``ReservationRepo.session_tally``, ``sales_by_day``: SQL aggregates on
PostgreSQL, a pass over its state in memory); the figures are assembled here, so both stores
answer alike. Every figure is net of refunds: a refunded seat is neither sold nor revenue, and
its price is counted in ``refunded``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from uuid import UUID

import attrs

from cinema_core.kernel.money import Money
from cinema_core.reports.goods import NO_GOODS, GoodsFigures, GoodsTally
from cinema_core.rooms.layout import Category
from cinema_core.sessions.session import Session


@attrs.frozen
class TicketGroup:
    """A session's tickets of one category and ticket type, as the store counts them."""

    category: Category
    ticket: str
    # Tickets not refunded, and what they cost.
    sold: int
    revenue_cents: int
    refunded_cents: int
    checked_in: int


@attrs.frozen
class SessionTally:
    """What the store counts for a session's report, all at one instant: the seats under a hold
    that has not lapsed, and the tickets by category and type."""

    held: int
    groups: tuple[TicketGroup, ...]


@attrs.frozen
class CategoryFigures:
    seats: int
    sold: int
    revenue: Money


@attrs.frozen
class TicketFigures:
    sold: int
    revenue: Money


@attrs.frozen
class SessionReport:
    """How full a session is and what it earned (``revenue`` is paid minus refunded)."""

    session_id: UUID
    seat_count: int
    available: int
    held: int
    sold: int
    blocked: int
    checked_in: int
    revenue: Money
    refunded: Money
    by_category: Mapping[Category, CategoryFigures]
    by_ticket: Mapping[str, TicketFigures]

    @classmethod
    def of(cls, session: Session, tally: SessionTally) -> SessionReport:
        currency = session.price.currency
        groups = tally.groups
        sold = sum(g.sold for g in groups)
        blocked = sum(1 for seat in session.room.plan.seats if seat.blocked)

        def money(cents: int) -> Money:
            return Money(cents, currency)

        by_category = {
            category: CategoryFigures(
                seats,
                sum(g.sold for g in groups if g.category is category),
                money(sum(g.revenue_cents for g in groups if g.category is category)),
            )
            for category, seats in session.room.categories.items()
        }
        by_ticket = {
            kind.code: TicketFigures(
                sum(g.sold for g in groups if g.ticket == kind.code),
                money(sum(g.revenue_cents for g in groups if g.ticket == kind.code)),
            )
            for kind in session.ticket_types
        }
        return cls(
            session_id=session.id,
            seat_count=session.seat_count,
            available=session.seat_count - tally.held - sold,
            held=tally.held,
            sold=sold,
            blocked=blocked,
            checked_in=sum(g.checked_in for g in groups),
            revenue=money(sum(g.revenue_cents for g in groups)),
            refunded=money(sum(g.refunded_cents for g in groups)),
            by_category=by_category,
            by_ticket=by_ticket,
        )


@attrs.frozen
class SalesFilter:
    """Which sales ``GET /reports/sales`` counts: paid in ``[paid_from, paid_before)``, of
    sessions of ``cinema`` (exact) if given."""

    paid_from: datetime | None = None
    paid_before: datetime | None = None
    cinema: str | None = None
    # Only sales of this session (the statement's goods), when set.
    session_id: UUID | None = None

    def admits(self, paid_at: datetime, cinema: str) -> bool:
        return (
            (self.paid_from is None or paid_at >= self.paid_from)
            and (self.paid_before is None or paid_at < self.paid_before)
            and (self.cinema is None or cinema == self.cinema)
        )

    def admits_sale(self, paid_at: datetime, cinema: str, session_id: UUID) -> bool:
        return self.admits(paid_at, cinema) and self.session_id in (None, session_id)


@attrs.frozen
class DailySales:
    """Sales paid on one day (UTC) for sessions of one movie in one cinema: how many sessions
    they were for, and the tickets and revenue that still stand (refunds taken out).

    The store counts tickets only (``revenue`` their prices); ``with_goods`` adds the products
    and discounts of those sales, and ``revenue`` becomes the money kept (``reports.goods``)."""

    date: date
    cinema: str
    movie: str
    sessions: int
    tickets: int
    revenue: Money
    # What the tickets alone earned, when goods changed ``revenue`` (None: they did not).
    tickets_only: Money | None = None
    products: Mapping[str, GoodsFigures] = attrs.field(factory=dict)
    discounts: Mapping[str, GoodsFigures] = attrs.field(factory=dict)

    @property
    def ticket_revenue(self) -> Money:
        return self.revenue if self.tickets_only is None else self.tickets_only

    def with_goods(self, goods: GoodsTally = NO_GOODS) -> DailySales:
        if goods == NO_GOODS:
            return self
        tickets = self.ticket_revenue
        return attrs.evolve(
            self,
            revenue=tickets + Money(goods.net_cents(), tickets.currency),
            tickets_only=tickets,
            products=goods.products,
            discounts=goods.discounts,
        )


def in_report_order(rows: Iterable[DailySales]) -> list[DailySales]:
    """By day, then cinema and movie in code-point order (as PostgreSQL's ``COLLATE "C"``)."""
    return sorted(rows, key=lambda row: (row.date, row.cinema, row.movie))
