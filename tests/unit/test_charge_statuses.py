"""Mercado Pago's payment statuses and documents in the box office's words."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from adapters.mercadopago.payments import Garbage, read_charge, read_json
from adapters.mercadopago.statuses import STATUSES, charge_status
from cinema_core import Money
from cinema_core.payments import ChargeStatus


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("pending", ChargeStatus.PENDING),
        ("in_process", ChargeStatus.PENDING),
        ("authorized", ChargeStatus.PENDING),
        ("approved", ChargeStatus.APPROVED),
        ("in_mediation", ChargeStatus.APPROVED),
        ("rejected", ChargeStatus.DECLINED),
        ("cancelled", ChargeStatus.CANCELLED),
        ("refunded", ChargeStatus.REFUNDED),
        ("charged_back", ChargeStatus.REFUNDED),
    ],
)
def test_each_mercado_pago_status_has_one_of_ours(theirs: str, ours: ChargeStatus) -> None:
    """Money not yet taken is pending, taken is approved, given back is refunded."""
    assert charge_status(theirs) is ours


def test_every_documented_status_is_mapped_and_no_other() -> None:
    """The nine statuses Mercado Pago documents, exactly; an unknown one is not guessed."""
    assert len(STATUSES) == 9
    with pytest.raises(KeyError):
        charge_status("approved_maybe")


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": 1320000001,
        "status": "approved",
        "status_detail": "accredited",
        "currency_id": "BRL",
        "transaction_amount": Decimal("37.5"),
        "transaction_amount_refunded": 0,
        "external_reference": str(uuid.UUID(int=7)),
        "date_of_expiration": "2026-11-01T09:10:00.000-03:00",
        "point_of_interaction": {
            "transaction_data": {
                "qr_code": "000201…",
                "qr_code_base64": "iVBOR",
                "ticket_url": None,
            }
        },
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not ...}


def test_a_payment_document_reads_as_a_charge() -> None:
    """Ids as text, amounts exact, the expiry in UTC, the Pix data, our reference."""
    charge = read_charge(_document())
    assert charge.charge_id == "1320000001"
    assert charge.amount == Money.parse("37.50")
    assert charge.refunded == Money(0)
    assert charge.expires_at is not None
    assert charge.expires_at.isoformat() == "2026-11-01T12:10:00+00:00"
    assert charge.reference == uuid.UUID(int=7)
    assert charge.pix is not None
    assert charge.pix.qr_code == "000201…"
    assert charge.refundable == Money.parse("37.50")


def test_amounts_are_read_without_floats() -> None:
    """JSON numbers come in as Decimal, so 0.1 + 0.2 cents stay exact."""
    charge = read_charge(read_json(b'{"id": 1, "status": "approved", "transaction_amount": 0.30}'))
    assert charge.amount == Money(30)


@pytest.mark.parametrize("reference", [..., None, "order-77", "", 12, "x" * 100])
def test_a_reference_that_is_no_payment_id_of_ours_reads_none(reference: object) -> None:
    """An absent or foreign external_reference is None: the charge is not ours."""
    assert read_charge(_document(external_reference=reference)).reference is None


@pytest.mark.parametrize(
    "document",
    [
        [],
        "approved",
        _document(id=None),
        _document(id=True),
        _document(id="../1"),
        _document(status="approved_maybe"),
        _document(status=None),
        _document(transaction_amount="37.50"),
        _document(transaction_amount=Decimal("37.505")),
        _document(transaction_amount=-1),
        _document(transaction_amount=...),
        _document(transaction_amount_refunded=True),
        _document(date_of_expiration="tomorrow"),
        _document(date_of_expiration="2026-11-01T09:10:00"),
        _document(currency_id=986),
        _document(status_detail=3),
    ],
)
def test_an_answer_not_shaped_as_documented_is_garbage(document: object) -> None:
    """Anything off the documented shape is Garbage, which the adapter answers unavailable."""
    with pytest.raises(Garbage):
        read_charge(document)


def test_an_answer_that_is_no_json_is_garbage() -> None:
    """Bytes that are no JSON (deeply nested ones too) are Garbage, never a crash."""
    for content in (b"<html>", b"[" * 100_000, b"\xff"):
        with pytest.raises(Garbage):
            read_json(content)
