"""Reports: a session's (staff or admin) and sales per day, cinema and movie (admin), as JSON or
CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import Category, Money, SessionNotFound
from cinema_core.rooms.layout import MAX_NAME
from entrypoints.http.framework.answers import Answer, names, out
from entrypoints.http.framework.operations import Call, Operation, Param, Reply

CSV = "text/csv"
_FORMULA_STARTS = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")

# The field named date would hide the type from its own annotation.
Day = date


def _count(source: Any = None, **more: Any) -> Any:
    return out(source, minimum=0, **more)


@attrs.frozen
class CategoryFigures(Answer):
    """Seats, sales and revenue of one seat category."""

    seats: int = _count()
    sold: int = _count()
    revenue: Money = out(example="250.00")


@attrs.frozen
class TicketFigures(Answer):
    """Sales and revenue of one ticket type."""

    sold: int = _count()
    revenue: Money = out(example="250.00")


@attrs.frozen
class SessionReport(Answer):
    """How full a session is and what it earned."""

    session_id: UUID = out()
    seat_count: int = _count(description="Seats for sale.")
    available: int = _count()
    held: int = _count(description="Under a hold that has not lapsed.")
    sold: int = _count(description="Sold and not refunded.")
    blocked: int = _count()
    checked_in: int = _count()
    revenue: Money = out(description="Paid minus refunded.", example="250.00")
    refunded: Money = out(example="0.00")
    by_category: dict[Category, CategoryFigures] = out(
        description="Each category the room has.", example={}
    )
    by_ticket: dict[str, TicketFigures] = out(
        description="Each ticket type of the session.", example={}
    )


@attrs.frozen
class ProductSales(Answer):
    """Units of one product sold on sales not refunded in full, and their money."""

    units: int = _count("standing", example=2)
    revenue: Money = out("net", example="64.00")


@attrs.frozen
class DiscountsGiven(Answer):
    """Sales carrying one promo code (not refunded in full), and the money it took off them."""

    uses: int = _count("standing", example=1)
    amount: Money = out("net", example="11.40")


def _total(pick: str, figures: str) -> Callable[[Any], Any]:
    return lambda row: sum(getattr(f, pick) for f in getattr(row, figures).values())


def _total_money(figures: str) -> Callable[[Any], Money]:
    def total(row: Any) -> Money:
        cents = sum(f.net.cents for f in getattr(row, figures).values())
        return Money(cents, row.revenue.currency)

    return total


@attrs.frozen
class DailySales(Answer):
    """Sales of one day of payment (UTC), cinema and movie."""

    date: Day = out(description="Day of payment (UTC).")
    cinema: str = out(example="Centro")
    movie: str = out(example="Filme X")
    sessions: int = _count(description="Sessions these sales were for.")
    tickets: int = _count(description="Tickets sold and not refunded.")
    revenue: Money = out(
        description=("Paid minus refunded: ticket_revenue + products_revenue - discounts_amount."),
        example="302.60",
    )
    ticket_revenue: Money = out(
        description="The prices of the tickets not refunded.", example="250.00"
    )
    products_sold: int = _count(_total("standing", "products"), example=2)
    products_revenue: Money = out(_total_money("products"), example="64.00")
    discounts_used: int = _count(_total("standing", "discounts"), example=1)
    discounts_amount: Money = out(_total_money("discounts"), example="11.40")


@attrs.frozen
class DailyGoods(DailySales):
    """Sales of one day of payment (UTC), cinema and movie, with their goods by code."""

    products: dict[str, ProductSales] = out(
        description="Each product sold on these sales, by code.",
        example={"combo-pipoca": {"units": 2, "revenue": "64.00"}},
    )
    discounts: dict[str, DiscountsGiven] = out(
        description="Each promo code used on these sales.",
        example={"PIPOCA10": {"uses": 1, "amount": "11.40"}},
    )


@attrs.frozen
class SalesReport(Answer):
    """The rows of the sales report."""

    items: list[DailyGoods] = out(lambda rows: rows)


def session_report(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    return SessionReport.response(call.services.box.session_report(session_id))


SALES_QUERY = (
    Param.of("from", "First day (2026-12-01, UTC) or instant of payment counted.", date | datetime),
    Param.of("to", "Last day (counted whole) or instant of payment counted.", date | datetime),
    Param.of("cinema", "Only sessions of this cinema (exact).", str, max_length=MAX_NAME),
)


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that a spreadsheet will show, not run: text beginning with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return is a formula to Excel and LibreOffice (a movie named
    ``=HYPERLINK(...)``), so it is written after a ``'``, as OWASP recommends. Numbers (a
    negative amount) are left alone: they are not formulas and must stay numbers."""
    text = str(value)
    if text[:1] in _FORMULA_STARTS and not _NUMBER.fullmatch(text):
        return "'" + text
    return value


def _bound(name: str, given: date | datetime | None) -> datetime | None:
    """``from``/``to`` as the instant the window starts at or ends before: a day (UTC) counts
    whole, an instant is included. Both lie before year 9000 (``shapes``), so neither
    overflows."""
    if given is None:
        return None
    if isinstance(given, datetime):
        return given if name == "from" else given + timedelta(microseconds=1)
    day = datetime.combine(given, time(), UTC)
    return day if name == "from" else day + timedelta(days=1)


def sales_report(call: Call) -> Response:
    given = call.params(*SALES_QUERY)
    bounds = {name: _bound(name, given[name]) for name in ("from", "to")}
    cinema = given["cinema"]
    rows = call.services.box.sales_report(
        paid_from=bounds["from"], paid_before=bounds["to"], cinema=cinema
    )
    if CSV in call.request.headers.get("accept", ""):
        text = io.StringIO()
        writer = csv.DictWriter(text, names(DailySales), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(
            {name: spreadsheet_safe(value) for name, value in DailySales.encode(row).items()}
            for row in rows
        )
        return Response(text.getvalue(), 200, media_type=f"{CSV}; charset=utf-8")
    return SalesReport.response(rows)


OPERATIONS = (
    Operation(
        "GET",
        "/sessions/{session_id}/report",
        session_report,
        "How full a session is and what it earned (staff or admin)",
        {
            200: Reply("The session's report.", SessionReport),
            404: Reply("session_not_found", "Error"),
        },
        tag="reports",
        access="staff",
        description=(
            "Seats by status now, check-ins, revenue (paid minus refunded) and refunds, by "
            "category and by ticket type. Money as decimal strings."
        ),
    ),
    Operation(
        "GET",
        "/reports/sales",
        sales_report,
        "Sales per day, cinema and movie (admin); Accept: text/csv for CSV",
        {200: Reply("The report's rows.", SalesReport, also=(CSV,))},
        tag="reports",
        access="admin",
        query=SALES_QUERY,
        description=(
            "One row per day of payment (UTC), cinema and movie with a sale: the sessions those "
            "sales were for, and the tickets and revenue still standing (a later refund takes "
            "its seats out of the day they were paid), with the products sold and the discounts "
            "given on them (by code in JSON; a refund of a sale's last seat takes its products "
            "and its discount out). revenue = ticket_revenue + products_revenue - "
            "discounts_amount, to the cent. With Accept: text/csv, the same rows as CSV with a "
            "header line (" + ",".join(names(DailySales)) + ")."
        ),
    ),
)
