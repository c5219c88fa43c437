"""Mercado Pago's payment documents, both ways: the body that asks for a Pix charge, and the
``Charge`` read from an answer. Anything in an answer not shaped as documented is garbage."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cinema_core.kernel.money import Money
from cinema_core.payments import Charge, ChargeRequest, Pix

from .statuses import charge_status

# Mercado Pago's ids are numbers; anything else would only build a strange path.
CHARGE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}", re.ASCII)


class Garbage(ValueError):
    """An answer not shaped as Mercado Pago documents it."""


def charge_body(request: ChargeRequest) -> dict[str, Any]:
    """The ``POST /v1/payments`` body for a Pix charge."""
    body: dict[str, Any] = {
        "payment_method_id": "pix",
        "transaction_amount": json_number(request.amount),
        "description": request.description,
        "external_reference": str(request.payment_id),
        # Mercado Pago wants an offset and milliseconds: 2026-11-01T12:10:00.000+00:00.
        "date_of_expiration": request.expires_at.astimezone(UTC).isoformat(timespec="milliseconds"),
    }
    if request.notification_url is not None:
        body["notification_url"] = request.notification_url
    if request.payer_email is not None:
        body["payer"] = {"email": request.payer_email}
    return body


def json_number(amount: Money) -> float:
    """An amount as the JSON number Mercado Pago wants. JSON has no decimals, and a float is
    written as the shortest text that reads back as the same float: for two decimals and at
    most 15 digits (every ``Money``) that is the amount's own decimal text, exactly."""
    return float(Decimal(str(amount)))


def read_json(content: bytes) -> Any:
    """A JSON answer with its numbers as Decimal (never float), or ``Garbage``."""
    try:
        return json.loads(content, parse_float=Decimal)
    except (ValueError, RecursionError) as e:
        raise Garbage("the answer is not JSON") from e


def read_charge(document: Any) -> Charge:
    """The charge a ``/v1/payments`` answer describes, or ``Garbage``."""
    if not isinstance(document, Mapping):
        raise Garbage("the answer is not an object")
    charge_id = document.get("id")
    if isinstance(charge_id, bool) or not isinstance(charge_id, int | str):
        raise Garbage("no payment id")
    status = document.get("status")
    try:
        charge = Charge(
            charge_id=str(charge_id),
            reference=_reference(document.get("external_reference")),
            status=charge_status(status) if isinstance(status, str) else charge_status(""),
            amount=_money(document.get("transaction_amount"), document.get("currency_id")),
            refunded=_money(
                document.get("transaction_amount_refunded") or 0, document.get("currency_id")
            ),
            expires_at=_instant(document.get("date_of_expiration")),
            pix=_pix(document.get("point_of_interaction")),
            detail=_text(document.get("status_detail")),
        )
    except KeyError as e:
        raise Garbage(f"unknown status {str(status)[:40]!r}") from e
    if not CHARGE_ID.fullmatch(charge.charge_id):
        raise Garbage("a payment id that is no id")
    return charge


def _reference(value: Any) -> uuid.UUID | None:
    # Not ours (absent, or something another integration put there): None, never an error.
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _money(value: Any, currency: Any) -> Money:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise Garbage("an amount that is not a number")
    if currency is not None and not isinstance(currency, str):
        raise Garbage("a currency that is not text")
    try:
        money = Money.parse(value, currency or "BRL")
    except ValueError as e:
        raise Garbage(f"an amount that is not money: {e}") from e
    if money.cents < 0:
        raise Garbage("a negative amount")
    return money


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise Garbage("a date that is not text")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as e:
        raise Garbage("a date that is not ISO 8601") from e
    if instant.tzinfo is None:
        raise Garbage("a date without an offset")
    return instant.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Garbage("text that is not text")
    return value


def _pix(point_of_interaction: Any) -> Pix | None:
    if not isinstance(point_of_interaction, Mapping):
        return None
    data = point_of_interaction.get("transaction_data")
    if not isinstance(data, Mapping) or data.get("qr_code") is None:
        return None
    qr_code = _text(data.get("qr_code"))
    return Pix(
        qr_code=qr_code or "",
        qr_code_base64=_text(data.get("qr_code_base64")) or "",
        ticket_url=_text(data.get("ticket_url")),
    )
