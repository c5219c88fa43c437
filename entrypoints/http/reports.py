"""Reports: a session's (staff or admin) and sales per day, cinema and movie (admin), as JSON or
CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.responses import Response

from cinema_core import SessionNotFound
from cinema_core.rooms import MAX_NAME

from . import views
from .operations import Call, Operation, Param, Reply
from .responses import json_response

_MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "25.00"}
_COUNT = {"type": "integer", "minimum": 0}
CSV = "text/csv"
_FORMULA_STARTS = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")

SCHEMAS: dict[str, dict[str, Any]] = {
    "SessionReport": {
        "type": "object",
        "required": [
            "session_id",
            "seat_count",
            "available",
            "held",
            "sold",
            "blocked",
            "checked_in",
            "revenue",
            "refunded",
            "by_category",
            "by_ticket",
        ],
        "properties": {
            "session_id": {"type": "string", "format": "uuid"},
            "seat_count": {**_COUNT, "description": "Seats for sale."},
            "available": _COUNT,
            "held": {**_COUNT, "description": "Under a hold that has not lapsed."},
            "sold": {**_COUNT, "description": "Sold and not refunded."},
            "blocked": _COUNT,
            "checked_in": _COUNT,
            "revenue": {**_MONEY, "description": "Paid minus refunded."},
            "refunded": _MONEY,
            "by_category": {
                "type": "object",
                "description": "Each category the room has.",
                "additionalProperties": {
                    "type": "object",
                    "required": ["seats", "sold", "revenue"],
                    "properties": {"seats": _COUNT, "sold": _COUNT, "revenue": _MONEY},
                },
            },
            "by_ticket": {
                "type": "object",
                "description": "Each ticket type of the session.",
                "additionalProperties": {
                    "type": "object",
                    "required": ["sold", "revenue"],
                    "properties": {"sold": _COUNT, "revenue": _MONEY},
                },
            },
        },
    },
    "DailySales": {
        "type": "object",
        "required": list(views.DAILY_SALES_FIELDS),
        "properties": {
            "date": {"type": "string", "format": "date", "description": "Day of payment (UTC)."},
            "cinema": {"type": "string"},
            "movie": {"type": "string"},
            "sessions": {**_COUNT, "description": "Sessions these sales were for."},
            "tickets": {**_COUNT, "description": "Tickets sold and not refunded."},
            "revenue": {**_MONEY, "description": "Paid minus refunded."},
        },
    },
    "SalesReport": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/DailySales"}}
        },
    },
}


def session_report(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    return json_response(views.session_report(call.services.box.session_report(session_id)))


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
    found = [views.daily_sales(row) for row in rows]
    if CSV in call.request.headers.get("accept", ""):
        text = io.StringIO()
        writer = csv.DictWriter(text, views.DAILY_SALES_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(
            {name: spreadsheet_safe(value) for name, value in row.items()} for row in found
        )
        return Response(text.getvalue(), 200, media_type=f"{CSV}; charset=utf-8")
    return json_response({"items": found})


OPERATIONS = (
    Operation(
        "GET",
        "/sessions/{session_id}/report",
        session_report,
        "How full a session is and what it earned (staff or admin)",
        {
            200: Reply("The session's report.", "SessionReport"),
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
        {200: Reply("The report's rows.", "SalesReport", also=(CSV,))},
        tag="reports",
        access="admin",
        query=SALES_QUERY,
        description=(
            "One row per day of payment (UTC), cinema and movie with a sale: the sessions those "
            "sales were for, and the tickets and revenue still standing (a later refund takes "
            "its seats out of the day they were paid). With Accept: text/csv, the same rows as "
            "CSV with a header line (date,cinema,movie,sessions,tickets,revenue)."
        ),
    ),
)
