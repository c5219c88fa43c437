"""A cancelled session gives a provider-paid sale's money back through the provider: what is
left of the charge, to the cent, once however often it is asked, and later when the provider
is down at the cancellation (the payment waits in ``review`` for the reconciler)."""

from __future__ import annotations

import pytest

from cinema_core import BoxOffice, ManualClock, Money, Reservation, SessionView
from cinema_core.memory import InMemoryReservationRepo
from cinema_core.payments import SandboxProvider
from cinema_core.payments.payment import Payment, PaymentStatus
from tests.unit.payments.conftest import Switchable
from tests.unit.payments.test_payments import charge_id, current, events


@pytest.fixture
def paid(box: BoxOffice, reservation: Reservation, sandbox: SandboxProvider) -> Payment:
    """The reservation's two seats (50.00) paid through the sandbox."""
    payment = box.start_payment(reservation.id, "u1")
    sandbox.approve(charge_id(payment))
    approved = current(box, payment)
    assert approved.status is PaymentStatus.APPROVED
    return approved


def test_cancelling_a_session_refunds_a_provider_paid_sale_at_the_provider(
    box: BoxOffice,
    paid: Payment,
    sandbox: SandboxProvider,
    session: SessionView,
    repo: InMemoryReservationRepo,
) -> None:
    """The whole amount goes back through the provider and the payment ends refunded."""
    box.cancel_session(session.session.id, "admin")
    charge = sandbox.read(charge_id(paid))
    assert charge.refunded == Money.parse("50.00")
    assert charge.refundable.cents == 0
    refunded = current(box, paid)
    assert refunded.status is PaymentStatus.REFUNDED
    assert refunded.refunded == Money.parse("50.00")
    assert events(repo, "payment.refunded") == 1


def test_a_seat_refunded_before_the_cancellation_is_not_refunded_again(
    box: BoxOffice,
    paid: Payment,
    sandbox: SandboxProvider,
    provider: Switchable,
    session: SessionView,
) -> None:
    """The payment counts the seat refund, so the cancellation asks only for the rest."""
    assert paid.sale_id is not None
    box.refund(paid.sale_id, "u1", ["A1"])
    assert current(box, paid).refunded == Money.parse("25.00")
    box.cancel_session(session.session.id, "admin")
    assert sandbox.read(charge_id(paid)).refunded == Money.parse("50.00")
    assert current(box, paid).status is PaymentStatus.REFUNDED
    assert current(box, paid).refunded == Money.parse("50.00")
    assert provider.refunds == 2


def test_a_provider_down_at_the_cancellation_leaves_the_debt_for_the_reconciler(
    box: BoxOffice,
    paid: Payment,
    sandbox: SandboxProvider,
    provider: Switchable,
    session: SessionView,
    clock: ManualClock,
    repo: InMemoryReservationRepo,
) -> None:
    """The cancellation still succeeds; the payment waits in review, asked again each reconcile
    interval, until the provider takes the refund, which is made once."""
    provider.down = True
    cancelled = box.cancel_session(session.session.id, "admin")
    assert cancelled.session.cancelled_at is not None
    owed = current(box, paid)
    assert owed.status is PaymentStatus.REVIEW
    assert owed.owed == Money.parse("50.00")
    # A debt is asked again once per reconcile interval (a refusal is not hammered).
    clock.advance(seconds=box.reconcile_quiet.total_seconds() + 1)
    box.reconcile_payments()
    assert current(box, paid).status is PaymentStatus.REVIEW
    provider.down = False
    clock.advance(seconds=box.reconcile_quiet.total_seconds() + 1)
    box.reconcile_payments()
    assert current(box, paid).status is PaymentStatus.REFUNDED
    assert sandbox.read(charge_id(paid)).refunded == Money.parse("50.00")
    box.reconcile_payments()
    box.cancel_session(session.session.id, "admin")
    assert provider.refunds == 1
    assert events(repo, "payment.refunded") == 1
