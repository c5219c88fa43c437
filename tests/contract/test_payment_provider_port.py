"""The payment provider port's contract, held by the sandbox and by the Mercado Pago adapter
(against the stand-in of Mercado Pago's API)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, Protocol

import attrs
import pytest

from cinema_core import ManualClock, Money
from cinema_core.payments import (
    Charge,
    ChargeNotFound,
    ChargeRequest,
    ChargeStatus,
    PaymentProvider,
    RefundRefused,
    SandboxProvider,
)
from tests.mercadopago_standin import MercadoPagoStandIn


class Bank(Protocol):
    """The buyer's bank: what pays or refuses a charge (the sandbox, or the stand-in)."""

    def approve(self, charge_id: str) -> Any: ...

    def decline(self, charge_id: str) -> Any: ...


@attrs.frozen
class Under:
    provider: PaymentProvider
    bank: Bank
    clock: ManualClock


@pytest.fixture(params=["sandbox", "mercadopago"])
def under(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[Under]:
    if request.param == "sandbox":
        sandbox = SandboxProvider(clock)
        yield Under(sandbox, sandbox, clock)
        return
    from adapters.mercadopago import MercadoPagoProvider

    with MercadoPagoStandIn(clock=clock) as standin:
        provider = MercadoPagoProvider(standin.access_token, api_base=standin.url)
        yield Under(provider, standin, clock)
        provider.close()


def _request(under: Under, amount: str = "50.00", key: str | None = None) -> ChargeRequest:
    return ChargeRequest(
        payment_id=uuid.uuid4(),
        amount=Money.parse(amount),
        description="2 seats, Dune, room 1",
        expires_at=under.clock.now() + timedelta(minutes=10),
        idempotency_key=key or str(uuid.uuid4()),
        payer_email="buyer@example.com",
    )


def _paid(under: Under, amount: str = "50.00") -> Charge:
    charge = under.provider.start(_request(under, amount))
    under.bank.approve(charge.charge_id)
    return under.provider.read(charge.charge_id)


def test_a_started_charge_is_pending_for_the_amount_with_a_pix_code(under: Under) -> None:
    """A new charge waits for the buyer: pending, the amount asked, our payment id, a Pix code."""
    request = _request(under, "37.50")
    charge = under.provider.start(request)
    assert charge.status is ChargeStatus.PENDING
    assert charge.amount == Money.parse("37.50")
    assert charge.refunded == Money(0)
    assert charge.reference == request.payment_id
    assert charge.expires_at == request.expires_at
    assert charge.pix is not None
    assert charge.pix.qr_code.startswith("000201")
    assert charge.pix.qr_code_base64


def test_the_same_idempotency_key_answers_the_same_charge(under: Under) -> None:
    """Retrying an attempt with its key makes no second charge; a new key makes a new one."""
    first = under.provider.start(_request(under, key="attempt-1"))
    again = under.provider.start(_request(under, key="attempt-1"))
    other = under.provider.start(_request(under, key="attempt-2"))
    assert again.charge_id == first.charge_id
    assert other.charge_id != first.charge_id


def test_a_charge_reads_back_as_it_was_started(under: Under) -> None:
    """Reading a charge answers what starting it answered, while nothing happened to it."""
    charge = under.provider.start(_request(under))
    assert under.provider.read(charge.charge_id) == charge


def test_an_approved_charge_reads_approved(under: Under) -> None:
    """Once the bank pays, the charge reads approved with all of its amount refundable."""
    charge = _paid(under)
    assert charge.status is ChargeStatus.APPROVED
    assert charge.refundable == Money.parse("50.00")


def test_a_declined_charge_reads_declined(under: Under) -> None:
    """When the bank says no, the charge reads declined and took nothing."""
    charge = under.provider.start(_request(under))
    under.bank.decline(charge.charge_id)
    declined = under.provider.read(charge.charge_id)
    assert declined.status is ChargeStatus.DECLINED
    assert declined.refundable == Money(0)


def test_a_cancelled_charge_can_no_longer_be_paid(under: Under) -> None:
    """Cancelling a pending charge makes it cancelled; a payment after that takes nothing."""
    charge = under.provider.start(_request(under))
    assert under.provider.cancel(charge.charge_id).status is ChargeStatus.CANCELLED
    under.bank.approve(charge.charge_id)
    assert under.provider.read(charge.charge_id).status is ChargeStatus.CANCELLED


def test_cancelling_a_paid_charge_answers_it_paid(under: Under) -> None:
    """Cancel comes too late for money that arrived: the charge stays approved, and says so."""
    charge = _paid(under)
    assert under.provider.cancel(charge.charge_id).status is ChargeStatus.APPROVED


def test_a_pending_charge_lapses_at_its_expiry(under: Under) -> None:
    """Unpaid past expires_at, a charge reads cancelled as expired, and cannot be paid."""
    charge = under.provider.start(_request(under))
    under.clock.advance(minutes=10)
    lapsed = under.provider.read(charge.charge_id)
    assert (lapsed.status, lapsed.lapsed) == (ChargeStatus.CANCELLED, True)
    under.bank.approve(charge.charge_id)
    assert under.provider.read(charge.charge_id).status is ChargeStatus.CANCELLED


def test_a_part_then_the_rest_is_refunded(under: Under) -> None:
    """A partial refund leaves the charge approved with less to refund; the rest refunds it."""
    charge = _paid(under, "50.00")
    part = under.provider.refund(charge.charge_id, Money.parse("20.00"), "refund-1")
    assert (part.status, part.refunded, part.refundable) == (
        ChargeStatus.APPROVED,
        Money.parse("20.00"),
        Money.parse("30.00"),
    )
    rest = under.provider.refund(charge.charge_id, Money.parse("30.00"), "refund-2")
    assert (rest.status, rest.refunded, rest.refundable) == (
        ChargeStatus.REFUNDED,
        Money.parse("50.00"),
        Money(0),
    )


def test_the_same_refund_key_refunds_once(under: Under) -> None:
    """A refund retried with its key gives the money back once."""
    charge = _paid(under, "50.00")
    under.provider.refund(charge.charge_id, Money.parse("10.00"), "refund-1")
    again = under.provider.refund(charge.charge_id, Money.parse("10.00"), "refund-1")
    assert again.refunded == Money.parse("10.00")


def test_refunding_more_than_is_left_is_refused(under: Under) -> None:
    """More than is left to refund is RefundRefused, and nothing is refunded."""
    charge = _paid(under, "50.00")
    under.provider.refund(charge.charge_id, Money.parse("40.00"), "refund-1")
    with pytest.raises(RefundRefused):
        under.provider.refund(charge.charge_id, Money.parse("10.01"), "refund-2")
    assert under.provider.read(charge.charge_id).refunded == Money.parse("40.00")


def test_refunding_a_charge_that_took_no_money_is_refused(under: Under) -> None:
    """A pending charge has nothing to refund: RefundRefused."""
    charge = under.provider.start(_request(under))
    with pytest.raises(RefundRefused):
        under.provider.refund(charge.charge_id, Money.parse("1.00"), "refund-1")
    assert under.provider.read(charge.charge_id).status is ChargeStatus.PENDING


@pytest.mark.parametrize("charge_id", ["999999999", "no-such-charge", "../v1/payments", ""])
def test_an_unknown_charge_is_not_found(under: Under, charge_id: str) -> None:
    """An id the provider does not know (a malformed one too) is ChargeNotFound everywhere."""
    with pytest.raises(ChargeNotFound):
        under.provider.read(charge_id)
    with pytest.raises(ChargeNotFound):
        under.provider.cancel(charge_id)
    with pytest.raises(ChargeNotFound):
        under.provider.refund(charge_id, Money.parse("1.00"), "refund-1")
