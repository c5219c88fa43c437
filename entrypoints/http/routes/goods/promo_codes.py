"""Routes of promo codes: add one (admin)."""

from __future__ import annotations

from datetime import datetime

import attrs
from starlette.responses import Response

from cinema_core import Money
from cinema_core.goods.promo_codes import MAX_SCOPE, REASONS
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.shapes import NOT_BLANK, days_from_now, field

CODE = "^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$"


@attrs.frozen
class CreatePromoCode:
    """Body of ``POST /promo-codes``: a discount (``percent_off`` or ``amount_off``) and its
    limits."""

    code: str = field(
        pattern=CODE,
        example="PIPOCA10",
        description="2–40 letters, digits, - or _; read without regard to case.",
    )
    percent_off: int | None = field(
        default=None, minimum=1, maximum=100, example=10, description="Percent off the total."
    )
    amount_off: Money | None = field(
        default=None,
        positive=True,
        example=None,
        description="Money off the total (instead of percent_off); never below 0.00.",
    )
    max_uses: int | None = field(
        default=None, minimum=1, example=100, description="Uses by everyone at once, at most."
    )
    per_user: int | None = field(
        default=None, minimum=1, example=1, description="Uses by one buyer at once, at most."
    )
    valid_from: datetime | None = field(default=None, example=None)
    valid_to: datetime | None = field(
        default=None, example=None, description="The first instant it is no longer valid."
    )
    movie: str | None = field(
        default=None,
        max_length=MAX_SCOPE,
        pattern=NOT_BLANK,
        example="Filme X",
        description="Only sessions of this movie (case aside).",
    )
    cinema: str | None = field(
        default=None,
        max_length=MAX_SCOPE,
        pattern=NOT_BLANK,
        example="Centro",
        description="Only sessions of this cinema.",
    )


@attrs.frozen
class PromoCode(Answer):
    """A promo code with its discount and limits."""

    code: str = out(example="PIPOCA10")
    percent_off: int | None = out("discount.percent_off", example=10)
    amount_off: Money | None = out("discount.amount_off", example=None)
    max_uses: int | None = out(example=100)
    per_user: int | None = out(example=1)
    valid_from: datetime | None = out(example=None)
    valid_to: datetime | None = out(example=None)
    movie: str | None = out(example=None)
    cinema: str | None = out(example=None)
    created_at: datetime = out(example=days_from_now(0, hour=12))


def create_promo_code(call: Call) -> Response:
    body: CreatePromoCode = call.body
    promo = call.services.box.add_promo_code(
        code=body.code,
        percent_off=body.percent_off,
        amount_off=body.amount_off,
        max_uses=body.max_uses,
        per_user=body.per_user,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        movie=body.movie,
        cinema=body.cinema,
    )
    return PromoCode.response(promo, 201)


OPERATIONS = (
    Operation(
        "POST",
        "/promo-codes",
        create_promo_code,
        "Add a promo code (admin)",
        {
            201: Reply("The new promo code.", PromoCode),
            409: Reply("promo_code_exists: a code of this name exists (case aside)", "Error"),
        },
        tag="counter",
        access="admin",
        body=CreatePromoCode,
        description=(
            "A reservation carries it as promo_code. Exactly one of percent_off and "
            "amount_off. A use is held with the hold: it counts while the hold is pending "
            "and unlapsed or its sale is paid and not refunded in full, so max_uses and "
            "per_user are never passed. A code that cannot be used is 409 promo_code_invalid "
            f"with details.reason: {', '.join(REASONS)}."
        ),
    ),
)
