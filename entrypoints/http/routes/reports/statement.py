"""The borderô: a session's box-office statement (staff or admin), as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import Category, Money, SessionNotFound
from cinema_core.reports import statement as model
from entrypoints.http.framework.answers import Answer, names, out
from entrypoints.http.framework.operations import Call, Operation, Reply

from .reports import CSV, spreadsheet_safe


def _count(**more: Any) -> Any:
    return out(minimum=0, **more)


@attrs.frozen
class StatementFigures(Answer):
    """Tickets and money of a ticket type, a seat category, a payment method, or the whole
    session."""

    tickets: int = _count(description="Tickets sold, refunded later or not.")
    gross: Money = out(description="What the tickets sold cost.", example="250.00")
    refunds: int = _count(description="Tickets of them refunded.")
    refunded: Money = out(description="What the refunded tickets cost.", example="25.00")
    net: Money = out(description="Gross minus refunded.", example="225.00")
    checked_in: int = _count()


@attrs.frozen
class GoodsFigures(Answer):
    """Units of one product, or uses of one promo code, and their money."""

    count: int = _count(description="Units sold (a product) or sales carrying it (a code).")
    gross: Money = out(description="As sold: the units' price, or the discount given.")
    refunds: int = _count(description="Of them, on sales refunded in full.")
    refunded: Money = out(description="What went back of gross.", example="0.00")
    net: Money = out(description="Gross minus refunded.")


@attrs.frozen
class Takings(Answer):
    """The money of the session's sales: tickets and products, less discounts."""

    gross: Money = out(description="What the sales cost.", example="302.60")
    refunded: Money = out(description="What their refunds gave back.", example="0.00")
    net: Money = out(description="What was kept.", example="302.60")


@attrs.frozen
class SessionStatement(Answer):
    """The borderô of a session."""

    session_id: UUID = out()
    movie: str = out(example="Filme X")
    room: str = out(example="Sala 1")
    cinema: str = out(example="Centro")
    starts_at: datetime = out()
    rating: str | None = out(
        omit_none=True, description="The age rating, when the session has one.", example="L"
    )
    currency: str = out(example="BRL")
    total: StatementFigures = out()
    by_ticket: dict[str, StatementFigures] = out(
        description="Each ticket type of the session.", example={}
    )
    by_category: dict[Category, StatementFigures] = out(
        description="Each category the room has.", example={}
    )
    by_method: dict[str, StatementFigures] = out(
        description=(
            "Each payment method that took money for a sale: the provider (sandbox, "
            "mercadopago), or instant for a sale paid at once."
        ),
        example={},
    )
    products: dict[str, GoodsFigures] = out(
        description="Each product sold with the session's seats, by code.", example={}
    )
    discounts: dict[str, GoodsFigures] = out(
        description="Each promo code used on the session's sales.", example={}
    )
    takings: Takings = out(
        description=(
            "Tickets (total) plus products less discounts: gross, refunded and net, to the cent."
        )
    )


# The CSV: one row for the whole session, then one per ticket type, category and method, each
# with the session named (rows of many sessions' statements can be put together).
_WHO = ("session_id", "movie", "room", "cinema", "starts_at")
COLUMNS = (*_WHO, "part", "key", *names(StatementFigures))


def _csv(statement: model.SessionStatement) -> str:
    whole = SessionStatement.encode(statement)
    who = {name: whole[name] for name in _WHO}
    parts: list[tuple[str, str, dict[str, Any]]] = [("total", "", whole["total"])]
    for part in ("ticket", "category", "method"):
        parts += [(part, key, figures) for key, figures in whole[f"by_{part}"].items()]
    # Goods count units (a product) or uses (a promo code) in the tickets column.
    for part, key in (("product", "products"), ("discount", "discounts")):
        parts += [(part, code, {"tickets": f.pop("count"), **f}) for code, f in whole[key].items()]
    parts.append(("takings", "", whole["takings"]))
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(
        {
            name: spreadsheet_safe(value)
            for name, value in {**who, "part": part, "key": key, **figures}.items()
        }
        for part, key, figures in parts
    )
    return text.getvalue()


def session_statement(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    statement = call.services.box.session_statement(session_id)
    if CSV in call.request.headers.get("accept", ""):
        return Response(_csv(statement), 200, media_type=f"{CSV}; charset=utf-8")
    return SessionStatement.response(statement)


OPERATIONS = (
    Operation(
        "GET",
        "/sessions/{session_id}/statement",
        session_statement,
        "A session's box-office statement, the borderô (staff or admin); Accept: text/csv for CSV",
        {
            200: Reply("The session's statement.", SessionStatement, also=(CSV,)),
            404: Reply("session_not_found", "Error"),
        },
        tag="reports",
        access="staff",
        description=(
            "Every ticket ever sold for the session: in all and by ticket type, seat category "
            "and payment method, the tickets and their gross, the refunds and their amount, "
            "net (gross minus refunded) and check-ins (at the tickets' prices); the products "
            "sold and the discounts given, by code (a sale refunded in full gives them back); "
            "and the takings: tickets plus products less discounts, what was paid, refunded "
            "and kept. Money as decimal strings. With Accept: "
            "text/csv, one row for the whole session (part total) then one per ticket type, "
            "category and method (part ticket, category, method; key names it), one per "
            "product and promo code (part product, discount; tickets holds the units or uses) "
            "and the takings (part takings: gross, refunded, net), columns "
            + ",".join(COLUMNS)
            + "."
        ),
    ),
)
