"""Payments of holds with products and a promo code: the charge is the hold's total to the
cent, a provider refund gives back exactly what the sale cost, and late money whose combo was
sold to someone else in the meantime goes back whole."""

from __future__ import annotations

from cinema_core import BoxOffice, ManualClock, Money, SessionView
from cinema_core.goods.extras import Extras
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from cinema_core.payments import SandboxProvider
from cinema_core.payments.payment import PaymentStatus
from tests.unit.conftest import HOLD
from tests.unit.payments.conftest import PAYMENT_HOLD


def goods(box: BoxOffice) -> Extras:
    box.add_product(code="combo", name="Combo", price=Money.parse("32.90"), stock=1)
    box.add_promo_code(code="TREZE", percent_off=13)
    return Extras.asked({"combo": 1}, "treze")


def test_the_charge_and_its_refund_are_the_total_to_the_cent(
    box: BoxOffice, sandbox: SandboxProvider, session: SessionView
) -> None:
    """25.00 + 25.00 + 32.90 = 82.90; 13 % is 10.777 → 10.78 off; 72.12 charged and, refunded
    seat by seat, 25.00 then 47.12 back: 72.12 in all."""
    made = box.reserve("u1", session.session.id, ["A1", "A2"], None, goods(box))
    assert (made.subtotal, made.discount_amount, made.amount) == (
        Money(8290),
        Money(1078),
        Money(7212),
    )
    payment = box.start_payment(made.id, "u1")
    assert payment.amount == Money(7212)
    assert payment.charge_id is not None
    sandbox.approve(payment.charge_id)
    paid = box.payment(payment.id, "u1")
    assert paid.sale_id is not None
    sale = box.sale(paid.sale_id)
    assert sale is not None
    assert sale.amount == Money(7212)
    first = box.refund(sale.id, "u1", ["A1"])
    last = box.refund(sale.id, "u1", ["A2"])
    assert (first.amount, last.amount) == (Money(2500), Money(4712))
    assert box.payment(payment.id, "u1").refunded_amount == Money(7212)
    assert box.products()[0].left == 1


def test_late_money_whose_combo_is_gone_is_refunded_whole(
    repo: InMemoryReservationRepo,
    seat_lock: InMemorySeatLock,
    clock: ManualClock,
    session: SessionView,
) -> None:
    """The lapse gave the combo back and another buyer took it: the seats are still free, but
    the money goes back whole rather than selling a hold without its combo."""
    sandbox = SandboxProvider(clock)
    box = BoxOffice(repo, seat_lock, clock, HOLD, provider=sandbox, payment_hold=PAYMENT_HOLD)
    extras = goods(box)
    made = box.reserve("u1", session.session.id, ["A1"], None, extras)
    payment = box.start_payment(made.id, "u1")
    assert payment.charge_id is not None
    sandbox.approve(payment.charge_id)  # nobody subscribed: the notice is lost
    clock.advance(seconds=700)
    box.expire_due()
    box.reserve("u2", session.session.id, ["B1"], None, Extras.asked({"combo": 1}))
    box.reconcile_payments()
    refunded = box.payment(payment.id, "u1")
    assert refunded.status is PaymentStatus.REFUNDED
    assert refunded.refunded_amount == made.amount
    assert box.products()[0].left == 0
