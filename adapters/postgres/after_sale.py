"""After the sale on PostgreSQL: tickets, refunds and check-ins (the ``Transaction`` methods), and
the reads and report aggregates (the ``ReservationRepo`` methods), with their SQL.

What makes "never twice" hold here whatever the code above does (migration 0005):

- a ticket checks in once: ``CHECK_IN`` sets ``checked_in_at`` only where it is still NULL and
  the ticket is not refunded, and says how many rows it changed;
- a ticket is refunded once, never once used: ``REFUND`` marks only tickets neither refunded nor
  checked in, and ``tickets_used_or_refunded`` (a CHECK) forbids a row to be both;
- a seat has one live ticket (``tickets_live_seat_key``, unique where not refunded) and one live
  sale (``sale_seats``' primary key). A refund deletes its seats' ``sale_seats`` rows in its own
  transaction: that table holds the seats of live sales only, so the seat can be sold again,
  and a second live sale of it is still refused by the key; what was sold and refunded stays
  in ``tickets`` (``refund_id``), ``refunds`` and ``sales.refunded_seats``.

Locks: a refund locks the sale's seats (``lock_seats``, label order) and then its tickets
(``LOCK_TICKETS``, label order), the one order every transaction takes them in; a check-in locks
one ticket (``LOCK_TICKET``) and nothing after it. So a refund and a check-in of a seat queue on
its ticket row, and no wait closes a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import psycopg

from cinema_core.admissions import Ticket
from cinema_core.errors import AlreadyCheckedIn, AlreadyRefunded, TicketRefunded, TicketUsed
from cinema_core.money import Money
from cinema_core.refunds import Refund
from cinema_core.reports import DailySales, SalesFilter, SessionTally, TicketGroup
from cinema_core.rooms import Category
from cinema_core.seats import SeatLabel
from cinema_core.times import iso

from . import rows

_TICKET_COLUMNS = (
    'id, code, sale_id, session_id, "row", number, category, ticket, price_cents, currency,'
    " paid_at, checked_in_at, refund_id"
)
_CATEGORIES = {category.value: category for category in Category}

ADD_TICKETS: Final = f"""
INSERT INTO tickets ({_TICKET_COLUMNS})
SELECT v.id, v.code, %(sale_id)s, %(session_id)s, v."row", v.number, v.category, v.ticket,
    v.price_cents, %(currency)s, %(paid_at)s, NULL, NULL
FROM unnest(
    %(ids)s::uuid[], %(codes)s::text[], %(rows)s::char(1)[], %(numbers)s::int[],
    %(categories)s::text[], %(tickets)s::text[], %(prices)s::bigint[]
) AS v(id, code, "row", number, category, ticket, price_cents)
"""

_SALE_TICKETS = f"""
SELECT {_TICKET_COLUMNS} FROM tickets WHERE sale_id = %(sale_id)s ORDER BY "row", number
"""
# In label order, as they leave the sort: after the sale's seats, the same order everywhere.
LOCK_TICKETS: Final = _SALE_TICKETS + "FOR UPDATE"
# TEST-ONLY (``row_locks=False``): the same read without the locks, for control runs.
READ_TICKETS_UNLOCKED: Final = _SALE_TICKETS
READ_TICKETS: Final = _SALE_TICKETS

_TICKET_BY_CODE = f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE code = %(code)s"
LOCK_TICKET: Final = _TICKET_BY_CODE + " FOR UPDATE"
READ_TICKET_UNLOCKED: Final = _TICKET_BY_CODE  # TEST-ONLY, as READ_TICKETS_UNLOCKED
GET_TICKET: Final = f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = %(id)s"

# The refund, its tickets marked and its seats' live-sale rows freed, in one statement. Only
# tickets neither refunded nor used are marked; fewer than asked means another transaction got
# there first (possible only without the row locks), and the caller undoes the rest (UNDO_REFUND)
# and says why. sale_seats rows go only when every ticket was marked. refunded_seats on the
# sale is what a sale read says was refunded (its CHECK keeps it within the sale's seats).
_REFUND = """
WITH refund AS (
    INSERT INTO refunds (
        id, sale_id, session_id, user_id, seats, amount_cents, currency, refunded_at, refunded_by
    )
    VALUES (
        %(id)s, %(sale_id)s, %(session_id)s, %(user_id)s, %(seats)s::text[], %(amount_cents)s,
        %(currency)s, %(refunded_at)s, %(by)s
    )
), marked AS (
    UPDATE tickets AS t SET refund_id = %(id)s{cancelled}
    FROM unnest(%(rows)s::char(1)[], %(numbers)s::int[]) AS v("row", number)
    WHERE t.sale_id = %(sale_id)s AND t."row" = v."row" AND t.number = v.number
        {guard}
    RETURNING t."row", t.number
), freed AS (
    DELETE FROM sale_seats AS s USING marked AS m
    WHERE s.session_id = %(session_id)s AND s."row" = m."row" AND s.number = m.number
        AND s.sale_id = %(sale_id)s AND (SELECT count(*) FROM marked) = %(count)s
), sale AS (
    UPDATE sales SET refunded_seats = array(
        SELECT DISTINCT seat FROM unnest(refunded_seats || %(seats)s::text[]) AS seat
    )
    WHERE id = %(sale_id)s AND (SELECT count(*) FROM marked) = %(count)s
)
SELECT array(SELECT "row" || number FROM marked)
"""
REFUND: Final = _REFUND.format(
    cancelled="", guard="AND t.refund_id IS NULL AND t.checked_in_at IS NULL"
)
# TEST-ONLY (``row_locks=False``): without the guard, for control runs.
REFUND_UNGUARDED: Final = _REFUND.format(cancelled="", guard="")
# A cancelled session's refund (Refund.in_full): a used ticket is owed too, never one refunded.
# tickets_used_or_refunded admits a used ticket refunded only with session_cancelled set.
REFUND_CANCELLED: Final = _REFUND.format(
    cancelled=", session_cancelled = true", guard="AND t.refund_id IS NULL"
)
UNDO_REFUND: Final = """
WITH unmarked AS (UPDATE tickets SET refund_id = NULL WHERE refund_id = %(id)s)
DELETE FROM refunds WHERE id = %(id)s
"""

_CHECK_IN = """
UPDATE tickets SET checked_in_at = %(at)s
WHERE id = %(id)s {guard}
RETURNING id
"""
CHECK_IN: Final = _CHECK_IN.format(guard="AND checked_in_at IS NULL AND refund_id IS NULL")
CHECK_IN_UNGUARDED: Final = _CHECK_IN.format(guard="")  # TEST-ONLY, as REFUND_UNGUARDED

# One snapshot for the whole report: the holds (from the partial index of touched seats, whose
# predicate is spelled out) and the tickets by category and type (tickets_session_idx).
SESSION_TALLY: Final = """
WITH held AS (
    SELECT count(*) AS n FROM seats AS s
    WHERE s.session_id = %(session_id)s
        AND (s.held_by IS NOT NULL OR s.sale_id IS NOT NULL OR s.ticket IS NOT NULL)
        AND s.sale_id IS NULL AND s.held_by IS NOT NULL AND s.hold_expires_at > %(now)s
), groups AS (
    SELECT category, ticket,
        count(*) FILTER (WHERE refund_id IS NULL) AS sold,
        coalesce(sum(price_cents) FILTER (WHERE refund_id IS NULL), 0) AS revenue,
        coalesce(sum(price_cents) FILTER (WHERE refund_id IS NOT NULL), 0) AS refunded,
        count(*) FILTER (WHERE checked_in_at IS NOT NULL) AS checked_in
    FROM tickets WHERE session_id = %(session_id)s
    GROUP BY category, ticket
)
SELECT held.n AS held, g.* FROM held LEFT JOIN groups AS g ON true
ORDER BY g.category, g.ticket
"""

# Tickets paid in the window (tickets_paid_at_idx) grouped by day (UTC), cinema and movie. The
# bounds are never NULL (±infinity stand for "none"), so the range stays on the index.
SALES_BY_DAY: Final = """
SELECT (t.paid_at AT TIME ZONE 'UTC')::date AS day, se.cinema, se.movie,
    count(DISTINCT t.session_id) AS sessions,
    count(*) FILTER (WHERE t.refund_id IS NULL) AS tickets,
    coalesce(sum(t.price_cents) FILTER (WHERE t.refund_id IS NULL), 0) AS revenue,
    min(t.currency) AS currency
FROM tickets AS t JOIN sessions AS se ON se.id = t.session_id
WHERE t.paid_at >= %(from)s AND t.paid_at < %(before)s
    AND (%(cinema)s::text IS NULL OR se.cinema = %(cinema)s::text)
GROUP BY 1, 2, 3
ORDER BY 1, se.cinema COLLATE "C", se.movie COLLATE "C"
"""


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


class AfterSaleTransaction:
    """``PostgresTransaction``'s methods after the sale (see the module's docstring)."""

    _row_locks: bool

    def _execute(
        self, sql: str, params: dict[str, Any], *, mapped: bool = False, carries: bool = False
    ) -> psycopg.Cursor[Any]:
        raise NotImplementedError  # PostgresTransaction's

    def _ride(self, table: str, sql: str, params: dict[str, Any]) -> None:
        raise NotImplementedError  # PostgresTransaction's

    def add_tickets(self, tickets: Sequence[Ticket]) -> None:
        if not tickets:
            return
        first = tickets[0]
        # Rides along with the next statement (the outbox INSERT). A refusal by
        # tickets_live_seat_key or tickets_code_key comes back as ValueError from there.
        self._ride(
            "tickets",
            ADD_TICKETS,
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
        sql = LOCK_TICKETS if self._row_locks else READ_TICKETS_UNLOCKED
        found = self._execute(sql, {"sale_id": sale_id}, mapped=True)
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
        sql = REFUND if self._row_locks else REFUND_UNGUARDED
        if used_too:
            sql = REFUND_CANCELLED
        marked = self._execute(sql, params).fetchone()
        assert marked is not None  # the statement's SELECT always returns its one row
        if len(marked[0]) == len(labels):
            return
        # Another transaction refunded or used one of them first: undo, then say which.
        self._execute(UNDO_REFUND, {"id": refund.id})
        tickets = {t.seat: t for t in self.lock_tickets(refund.sale_id)}
        mine = [tickets[label] for label in labels if label in tickets]
        used = [t.seat for t in mine if t.checked_in_at is not None]
        if used:
            raise TicketUsed(used)
        raise AlreadyRefunded([t.seat for t in mine if t.refund_id is not None] or list(labels))

    def lock_ticket(self, code: str) -> Ticket | None:
        sql = LOCK_TICKET if self._row_locks else READ_TICKET_UNLOCKED
        row = self._execute(sql, {"code": code}, mapped=True).fetchone()
        return ticket_from_row(row) if row else None

    def check_in(self, ticket: Ticket) -> None:
        sql = CHECK_IN if self._row_locks else CHECK_IN_UNGUARDED
        params = {"id": ticket.id, "at": ticket.checked_in_at}
        if self._execute(sql, params).fetchone() is not None:
            return
        row = self._execute(GET_TICKET, {"id": ticket.id}, mapped=True).fetchone()
        stored = ticket_from_row(row) if row else None
        if stored is not None and stored.checked_in_at is not None:
            raise AlreadyCheckedIn(iso(stored.checked_in_at))
        raise TicketRefunded()


class AfterSaleReads:
    """``PostgresReservationRepo``'s reads after the sale, each one autocommit statement."""

    def _read(self, doing: str, read: Callable[[Any], Any]) -> Any:
        raise NotImplementedError  # PostgresReservationRepo's

    def tickets(self, sale_id: UUID) -> list[Ticket]:
        found = self._read(
            "reading tickets",
            lambda c: c.exec_driver_sql(READ_TICKETS, {"sale_id": sale_id}).mappings().all(),
        )
        return [ticket_from_row(row) for row in found]

    def get_ticket(self, ticket_id: UUID) -> Ticket | None:
        row = self._read(
            "reading a ticket",
            lambda c: c.exec_driver_sql(GET_TICKET, {"id": ticket_id}).mappings().first(),
        )
        return ticket_from_row(row) if row else None

    def session_tally(self, session_id: UUID, now: datetime) -> SessionTally:
        found = self._read(
            "counting a session's report",
            lambda c: (
                c.exec_driver_sql(SESSION_TALLY, {"session_id": session_id, "now": now})
                .mappings()
                .all()
            ),
        )
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

    def sales_by_day(self, where: SalesFilter) -> list[DailySales]:
        params = {
            "from": where.paid_from or datetime.min.replace(tzinfo=UTC),
            "before": where.paid_before or datetime.max.replace(tzinfo=UTC),
            "cinema": where.cinema,
        }
        found = self._read(
            "counting sales by day",
            lambda c: c.exec_driver_sql(SALES_BY_DAY, params).mappings().all(),
        )
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
