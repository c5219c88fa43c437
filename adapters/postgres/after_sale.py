"""After the sale on PostgreSQL: ``AfterSaleStatements``, the statements of tickets, refunds and
check-ins (which ``PostgresTransaction`` hands its calls to, on its executor), and of the reads and
report aggregates (which ``PostgresReservationRepo`` runs on each read's executor). The SQL is in
``sql.tickets``, ``sql.refunds`` and ``sql.reports``, which say what makes "never twice" hold
there whatever the code above does (migration 0005).

Locks: a refund locks the sale's seats (``lock_seats``, label order) and then its tickets
(``LOCK_TICKETS``, label order), the one order every transaction takes them in; a check-in locks
one ticket (``LOCK_TICKET``) and nothing after it. So a refund and a check-in of a seat queue on
its ticket row, and no wait closes a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID

from cinema_core.after_sale.admissions import Ticket
from cinema_core.after_sale.refunds import Refund
from cinema_core.errors import AlreadyCheckedIn, AlreadyRefunded, TicketRefunded, TicketUsed
from cinema_core.kernel.money import Money
from cinema_core.kernel.times import iso
from cinema_core.reports.figures import DailySales, SalesFilter, SessionTally, TicketGroup
from cinema_core.reports.statement import INSTANT, StatementGroup
from cinema_core.rooms.layout import Category
from cinema_core.rooms.seats import SeatLabel

from . import rows
from .executor import Executor
from .sql import refunds, reports
from .sql import tickets as ticket_sql

_CATEGORIES = {category.value: category for category in Category}


def ticket_from_row(row: rows.Row) -> Ticket:
    return Ticket(
        id=row["id"],
        code=row["code"],
        sale_id=row["sale_id"],
        session_id=row["session_id"],
        seat=SeatLabel(row["row"], row["number"]),
        category=_CATEGORIES[row["category"]],
        ticket=row["ticket"],
        price=Money(row["price_cents"], row["currency"]),
        paid_at=row["paid_at"],
        checked_in_at=row["checked_in_at"],
        refund_id=row["refund_id"],
    )


class AfterSaleStatements:
    """The statements after the sale (see the module's docstring) on one executor: a
    transaction's, or one autocommit read's. The statements that lock or guard are class
    attributes, as ``PostgresTransaction``'s are."""

    LOCK_TICKETS: ClassVar[str] = ticket_sql.LOCK_TICKETS
    LOCK_TICKET: ClassVar[str] = ticket_sql.LOCK_TICKET
    REFUND: ClassVar[str] = refunds.REFUND
    CHECK_IN: ClassVar[str] = ticket_sql.CHECK_IN

    def __init__(self, db: Executor):
        self._db = db

    # -- in a transaction -------------------------------------------------------------------

    def add_tickets(self, tickets: Sequence[Ticket]) -> None:
        if not tickets:
            return
        first = tickets[0]
        # Rides along with the next statement (the outbox INSERT). A refusal by
        # tickets_live_seat_key or tickets_code_key comes back as ValueError from there.
        self._db.ride(
            "tickets",
            ticket_sql.ADD_TICKETS,
            {
                "sale_id": first.sale_id,
                "session_id": first.session_id,
                "currency": first.price.currency,
                "paid_at": first.paid_at,
                "ids": rows.array(t.id for t in tickets),
                "codes": rows.array(t.code for t in tickets),
                "rows": rows.array(t.seat.row for t in tickets),
                "numbers": rows.array(t.seat.number for t in tickets),
                "categories": rows.array(t.category.value for t in tickets),
                "tickets": rows.array(t.ticket for t in tickets),
                "prices": rows.array(t.price.cents for t in tickets),
            },
        )

    def lock_tickets(self, sale_id: UUID) -> list[Ticket]:
        found = self._db.execute(self.LOCK_TICKETS, {"sale_id": sale_id}, mapped=True)
        return [ticket_from_row(row) for row in found]

    def add_refund(self, refund: Refund, *, used_too: bool = False) -> None:
        labels = sorted(refund.seats)
        params = {
            "id": refund.id,
            "sale_id": refund.sale_id,
            "session_id": refund.session_id,
            "user_id": refund.user_id,
            "seats": rows.array(str(label) for label in labels),
            "amount_cents": refund.amount.cents,
            "currency": refund.amount.currency,
            "refunded_at": refund.refunded_at,
            "by": refund.by,
            "rows": rows.array(label.row for label in labels),
            "numbers": rows.array(label.number for label in labels),
            "count": len(labels),
        }
        sql = refunds.REFUND_CANCELLED if used_too else self.REFUND
        marked = self._db.execute(sql, params).fetchone()
        assert marked is not None  # the statement's SELECT always returns its one row
        if len(marked[0]) == len(labels):
            return
        # Another transaction refunded or used one of them first: undo, then say which.
        self._db.execute(refunds.UNDO_REFUND, {"id": refund.id})
        tickets = {t.seat: t for t in self.lock_tickets(refund.sale_id)}
        mine = [tickets[label] for label in labels if label in tickets]
        used = [t.seat for t in mine if t.checked_in_at is not None]
        if used:
            raise TicketUsed(used)
        raise AlreadyRefunded([t.seat for t in mine if t.refund_id is not None] or list(labels))

    def lock_ticket(self, code: str) -> Ticket | None:
        row = self._db.execute(self.LOCK_TICKET, {"code": code}, mapped=True).fetchone()
        return ticket_from_row(row) if row else None

    def check_in(self, ticket: Ticket) -> None:
        params = {"id": ticket.id, "at": ticket.checked_in_at}
        if self._db.execute(self.CHECK_IN, params).fetchone() is not None:
            return
        row = self._db.execute(ticket_sql.GET_TICKET, {"id": ticket.id}, mapped=True).fetchone()
        stored = ticket_from_row(row) if row else None
        if stored is not None and stored.checked_in_at is not None:
            raise AlreadyCheckedIn(iso(stored.checked_in_at))
        raise TicketRefunded()

    # -- reads (each one statement) ---------------------------------------------------------

    def tickets(self, sale_id: UUID) -> list[Ticket]:
        found = self._db.execute(ticket_sql.READ_TICKETS, {"sale_id": sale_id}, mapped=True)
        return [ticket_from_row(row) for row in found]

    def get_ticket(self, ticket_id: UUID) -> Ticket | None:
        row = self._db.execute(ticket_sql.GET_TICKET, {"id": ticket_id}, mapped=True).fetchone()
        return ticket_from_row(row) if row else None

    def session_tally(self, session_id: UUID, now: datetime) -> SessionTally:
        found = self._db.execute(
            reports.SESSION_TALLY, {"session_id": session_id, "now": now}, mapped=True
        ).fetchall()
        groups = tuple(
            TicketGroup(
                _CATEGORIES[row["category"]],
                row["ticket"],
                int(row["sold"]),
                int(row["revenue"]),
                int(row["refunded"]),
                int(row["checked_in"]),
            )
            for row in found
            if row["category"] is not None
        )
        return SessionTally(int(found[0]["held"]) if found else 0, groups)

    def statement_groups(self, session_id: UUID) -> list[StatementGroup]:
        found = self._db.execute(
            reports.STATEMENT_GROUPS, {"session_id": session_id, "instant": INSTANT}, mapped=True
        )
        return [
            StatementGroup(
                _CATEGORIES[row["category"]],
                row["ticket"],
                row["method"],
                int(row["sold"]),
                int(row["sold_cents"]),
                int(row["refunded"]),
                int(row["refunded_cents"]),
                int(row["checked_in"]),
            )
            for row in found
        ]

    def sales_by_day(self, where: SalesFilter) -> list[DailySales]:
        params = {
            "from": where.paid_from or datetime.min.replace(tzinfo=UTC),
            "before": where.paid_before or datetime.max.replace(tzinfo=UTC),
            "cinema": where.cinema,
        }
        found = self._db.execute(reports.SALES_BY_DAY, params, mapped=True)
        return [
            DailySales(
                row["day"],
                row["cinema"],
                row["movie"],
                int(row["sessions"]),
                int(row["tickets"]),
                Money(int(row["revenue"]), row["currency"]),
            )
            for row in found
        ]
