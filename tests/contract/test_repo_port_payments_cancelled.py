"""A cancelled session's provider-paid sales, held to one contract by every store: the payment
that made a sale is found (and locked) by the sale, a seat refund is counted on it, and the
cancellation leaves the charge refunded at the provider to the cent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cinema_core import BoxOffice, ManualClock, Money, SessionView
from cinema_core.payments import SandboxProvider
from cinema_core.payments.payment import Payment, PaymentStatus
from tests.contract.test_repo_port import NoSeatLock


@pytest.fixture
def sandbox(clock: ManualClock) -> SandboxProvider:
    return SandboxProvider(clock)


@pytest.fixture
def box(repo: Any, clock: ManualClock, sandbox: SandboxProvider) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10), provider=sandbox)


@pytest.fixture
def session(box: BoxOffice) -> SessionView:
    return box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=box.clock.now() + timedelta(days=1),
        price=Money(2500),
        rows=4,
        seats_per_row=4,
    )


def paid(box: BoxOffice, sandbox: SandboxProvider, session: SessionView) -> Payment:
    """Seats A1, A2 and A3 (75.00) paid through the sandbox."""
    reservation = box.reserve("u1", session.session.id, ["A1", "A2", "A3"])
    payment = box.start_payment(reservation.id, "u1")
    assert payment.charge_id is not None
    sandbox.approve(payment.charge_id)
    approved = box.settle_payment(payment.charge_id)
    assert approved is not None
    assert approved.status is PaymentStatus.APPROVED
    return approved


def test_the_payment_of_a_sale_is_locked_by_the_sale(
    repo: Any, box: BoxOffice, sandbox: SandboxProvider, session: SessionView
) -> None:
    """lock_payment_of_sale answers the payment that made the sale, None for a sale paid at
    once."""
    payment = paid(box, sandbox, session)
    assert payment.sale_id is not None
    assert repo.atomic(lambda tx: tx.lock_payment_of_sale(payment.sale_id)) == payment
    instant = BoxOffice(repo, NoSeatLock(), box.clock, timedelta(minutes=10))
    sale, _ = instant.pay(instant.reserve("u2", session.session.id, ["B1"]).id, "u2")
    assert repo.atomic(lambda tx: tx.lock_payment_of_sale(sale.id)) is None


def test_a_cancelled_session_refunds_the_rest_of_a_charge_to_the_cent(
    repo: Any, box: BoxOffice, sandbox: SandboxProvider, session: SessionView
) -> None:
    """A seat refunded before is counted on the payment; the cancellation refunds the rest
    through the provider and the payment ends refunded, with one payment.refunded event."""
    payment = paid(box, sandbox, session)
    assert payment.sale_id is not None
    assert payment.charge_id is not None
    box.refund(payment.sale_id, "u1", ["A2"])
    assert repo.get_payment(payment.id).refunded == Money(2500)
    box.cancel_session(session.session.id, "admin")
    charge = sandbox.read(payment.charge_id)
    assert charge.refunded == Money(7500)
    assert charge.refundable.cents == 0
    ended = repo.get_payment(payment.id)
    assert ended.status is PaymentStatus.REFUNDED
    assert ended.refunded == Money(7500)
    refunded = repo.events(type="payment.refunded", session_id=None, before=None, limit=10)
    assert len(refunded) == 1
