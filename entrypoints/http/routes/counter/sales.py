"""Routes of counter sales: staff sell seats at the till of their open shift, with no hold."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import Category, Money
from cinema_core.counter.till import PaymentMethod
from cinema_core.counter.use_cases import CounterOrder
from cinema_core.goods.extras import Extras
from cinema_core.selling.reservations import (
    MAX_SEATS_PER_RESERVATION,
    MIN_SEATS_PER_RESERVATION,
)
from entrypoints.http.framework.idempotency import fingerprint
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.shapes import Rules, field
from entrypoints.http.routes.selling.reservations import (
    SEAT_LABEL,
    Sale,
    extra_parts,
    products_field,
    promo_code_field,
)


@attrs.frozen
class CounterSale:
    """Body of ``POST /counter/sales``: seats by label (or best available's ``count``), their
    ticket types, products and a promo code as for a hold, and how the buyer pays."""

    session_id: UUID = field(
        example="3fa85f64-5717-4562-b3fc-2c963f66afa6",
        description="A session's id, from GET /sessions.",
    )
    payment_method: PaymentMethod = field(example="cash", description="cash, card or pix.")
    seats: list[str] | None = field(
        default=None,
        min_items=MIN_SEATS_PER_RESERVATION,
        max_items=MAX_SEATS_PER_RESERVATION,
        unique=True,
        each=Rules(pattern=SEAT_LABEL),
        example=["A1", "A2"],
        description="The seats to sell (or count instead, for best available).",
    )
    tickets: dict[str, int] | None = field(
        default=None,
        each=Rules(minimum=0, maximum=MAX_SEATS_PER_RESERVATION),
        description="Seats by ticket type code, as for POST /reservations.",
        example={"half": 1},
    )
    tendered: Money | None = field(
        default=None,
        example="60.00",
        description="Cash only, and then required: the money handed over (≥ the amount).",
    )
    count: int | None = field(
        default=None,
        minimum=MIN_SEATS_PER_RESERVATION,
        maximum=MAX_SEATS_PER_RESERVATION,
        example=None,
        description="Best available: how many seats to sell (instead of seats).",
    )
    category: Category | None = field(
        default=None, example=None, description="Best available: only seats of this category."
    )
    together: bool | None = field(
        default=None, example=None, description="Best available: adjacent seats (default true)."
    )
    products: dict[str, int] | None = products_field()  # noqa: RUF009 (a shapes.field)
    promo_code: str | None = promo_code_field()


def _order(body: CounterSale) -> CounterOrder:
    tickets = {code: n for code, n in (body.tickets or {}).items() if n}
    return CounterOrder(
        session_id=body.session_id,
        method=body.payment_method,
        seats=body.seats,
        count=body.count if body.seats is None else None,
        tickets=tickets,
        tendered=body.tendered,
        category=body.category,
        together=True if body.together is None else body.together,
        extras=Extras.asked(body.products, body.promo_code),
    )


def _identity(call: Call) -> str:
    """The sale asked for: session, seats in any order (or best available's wish), tickets,
    method and cash tendered."""
    body: CounterSale = call.body
    order = _order(body)
    seats: list[Any] = (
        sorted(s.strip().upper() for s in body.seats)
        if body.seats is not None
        else [f"best:{body.count}:{body.category or ''}:{order.together}"]
    )
    tickets = [f"{code}={n}" for code, n in sorted((order.tickets or {}).items())]
    return fingerprint(
        str(body.session_id),
        *seats,
        *tickets,
        *extra_parts(order.extras),
        order.method.value,
        str(order.tendered or ""),
    )


def sell(call: Call) -> Response:
    sale = call.services.box.counter_sale(call.user.user_id, _order(call.body))
    return Sale.response(sale, 201)


OPERATIONS = (
    Operation(
        "POST",
        "/counter/sales",
        sell,
        "Sell seats at the counter, paid at once (staff with an open shift)",
        {
            201: Reply("The sale, with change for cash.", Sale),
            404: Reply("session_not_found", "Error"),
            409: Reply(
                "no_open_shift, seats_unavailable (details.seats), single_seat_gap, "
                "not_enough_seats, ticket_quota_exhausted, product_sold_out (details.product), "
                "promo_code_invalid (details.reason), sales_closed, session_cancelled or "
                "idempotency_in_progress",
                "Error",
            ),
            422: Reply(
                "validation_error (tendered missing for cash, below the amount, or given for "
                "card or pix), unknown_seat, couple_seat_split, unknown_ticket_type, "
                "unknown_product (details.products)",
                "Error",
            ),
        },
        tag="counter",
        access="staff",
        body=CounterSale,
        idempotent=_identity,
        description=(
            "No hold step: the seats are held and sold in one transaction, by the same rules as "
            "a hold and its payment (seats, couples, single gaps, quotas, sales close), products "
            "taken from their stock and a promo code's use with them. The sale "
            "is the operator's (user_id), taken into their open shift, and emits "
            "reservation.created and payment.confirmed (data.method: cash, card or pix). With "
            "Idempotency-Key, a retry with the same body gets the first answer again."
        ),
    ),
)
