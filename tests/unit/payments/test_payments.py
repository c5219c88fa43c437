"""Payments through a provider: every answer of the bank ends in exactly one outcome, and late
money ends in a sale of the same seats or a full refund, never in money kept without tickets."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from cinema_core import BoxOffice, ManualClock, Money, Reservation, SessionView
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from cinema_core.payments import (
    Charge,
    ChargeRequest,
    ChargeStatus,
    PaymentProviderUnavailable,
    SandboxProvider,
)
from cinema_core.payments.payment import Chance, Outcome, Payment, PaymentStatus
from cinema_core.selling.reservations import ReservationStatus
from tests.unit.conftest import HOLD
from tests.unit.payments.conftest import PAYMENT_HOLD, Switchable


def events(repo: InMemoryReservationRepo, type: str) -> int:
    return len(repo.events(type=type, session_id=None, before=None, limit=1000))


def statuses(box: BoxOffice, session: SessionView) -> dict[str, str]:
    return {str(label): str(status) for label, status in box.seat_map(session.session.id).seats}


def current(box: BoxOffice, payment: Payment) -> Payment:
    return box.payment(payment.id, payment.user_id)


def charge_id(payment: Payment) -> str:
    assert payment.charge_id is not None
    return payment.charge_id


def test_starting_a_payment_keeps_the_hold_for_the_bank_once(
    box: BoxOffice, reservation: Reservation, clock: ManualClock, repo: InMemoryReservationRepo
) -> None:
    """A started payment is pending with a Pix code, and the hold lasts the payment hold."""
    payment = box.start_payment(reservation.id, "u1")
    assert payment.status is PaymentStatus.PENDING
    assert payment.pix is not None
    assert payment.pix.qr_code
    assert payment.amount == Money.parse("50.00")
    held = box.reservation(reservation.id, "u1")
    assert held.expires_at == clock.now() + PAYMENT_HOLD
    assert payment.expires_at <= held.expires_at
    assert events(repo, "payment.started") == 1


def test_a_hold_kept_for_the_bank_is_not_swept_at_its_first_end(
    box: BoxOffice, reservation: Reservation, clock: ManualClock
) -> None:
    """Once a payment kept the hold longer, the sweeper passing its first end leaves it pending
    (and still sweeps it at the new end)."""
    box.start_payment(reservation.id, "u1")
    clock.advance(HOLD.total_seconds() + 1)
    assert box.expire_due() == 0
    assert box.reservation(reservation.id, "u1").status_at(clock.now()) is ReservationStatus.PENDING
    clock.advance(PAYMENT_HOLD.total_seconds())
    assert box.expire_due() == 1


def test_starting_again_while_pending_answers_the_same_payment(
    box: BoxOffice, reservation: Reservation, sandbox: SandboxProvider
) -> None:
    """No second charge for a hold while its payment is pending."""
    first = box.start_payment(reservation.id, "u1")
    again = box.start_payment(reservation.id, "u1")
    assert again.id == first.id
    assert again.charge_id == first.charge_id


def test_an_approval_in_time_makes_one_sale(
    box: BoxOffice, reservation: Reservation, sandbox: SandboxProvider, session: SessionView
) -> None:
    """The bank's approval while the hold stands sells its seats; the payment names the sale."""
    payment = box.start_payment(reservation.id, "u1")
    sandbox.approve(charge_id(payment))
    paid = current(box, payment)
    assert paid.status is PaymentStatus.APPROVED
    assert not paid.late
    assert paid.sale_id is not None
    assert box.reservation(reservation.id, "u1").status is ReservationStatus.CONFIRMED
    assert statuses(box, session)["A1"] == "sold"


def test_a_notice_repeated_five_times_makes_one_sale(
    box: BoxOffice,
    reservation: Reservation,
    sandbox: SandboxProvider,
    repo: InMemoryReservationRepo,
) -> None:
    """Settling the same approved charge over and over has the one effect of the first."""
    payment = box.start_payment(reservation.id, "u1")
    sandbox.approve(charge_id(payment))
    for _ in range(5):
        box.settle_payment(charge_id(payment))
    assert events(repo, "payment.confirmed") == 1
    assert events(repo, "payment.approved") == 1
    assert len(repo.purchases("u1", None, 10)) == 1


def test_late_money_is_sold_when_heard_after_the_lapse(
    repo: InMemoryReservationRepo,
    seat_lock: InMemorySeatLock,
    clock: ManualClock,
    session: SessionView,
) -> None:
    """Money paid in time but heard of only after the hold lapsed still buys free seats."""
    # A sandbox nobody listens to: every notice of it is lost.
    sandbox = SandboxProvider(clock)
    box = BoxOffice(repo, seat_lock, clock, HOLD, provider=sandbox, payment_hold=PAYMENT_HOLD)
    reservation = box.reserve("u1", session.session.id, ["A1", "A2"])
    payment = box.start_payment(reservation.id, "u1")
    sandbox.approve(charge_id(payment))  # nobody subscribed: the notice is lost
    clock.advance(seconds=700)
    box.expire_due()
    assert box.reconcile_payments() == 1
    paid = current(box, payment)
    assert paid.status is PaymentStatus.APPROVED
    assert paid.late
    assert box.reservation(reservation.id, "u1").status is ReservationStatus.CONFIRMED


def test_late_money_for_a_seat_gone_is_refunded_in_full(
    repo: InMemoryReservationRepo,
    seat_lock: InMemorySeatLock,
    clock: ManualClock,
    session: SessionView,
) -> None:
    """An approval after another buyer took a seat of the lapsed hold goes back whole."""
    # A sandbox nobody listens to: every notice of it is lost.
    sandbox = SandboxProvider(clock)
    box = BoxOffice(repo, seat_lock, clock, HOLD, provider=sandbox, payment_hold=PAYMENT_HOLD)
    reservation = box.reserve("u1", session.session.id, ["A1", "A2"])
    payment = box.start_payment(reservation.id, "u1")
    sandbox.approve(charge_id(payment))  # the notice is lost
    clock.advance(seconds=700)
    box.expire_due()
    box.pay(box.reserve("u2", session.session.id, ["A2"]).id, "u2")
    box.reconcile_payments()
    refunded = current(box, payment)
    assert refunded.status is PaymentStatus.REFUNDED
    assert refunded.late
    assert refunded.refunded == Money.parse("50.00")
    assert sandbox.read(charge_id(payment)).refundable.cents == 0
    assert refunded.sale_id is None
    assert events(repo, "payment.refunded") == 1


def test_a_refused_refund_waits_in_review_and_is_retried_once_per_interval(
    box: BoxOffice,
    provider: Switchable,
    sandbox: SandboxProvider,
    clock: ManualClock,
    session: SessionView,
) -> None:
    """Money owed back that the provider will not take yet stays owed until it does, asked
    again once per reconcile interval (never on every pass)."""
    reservation = box.reserve("u1", session.session.id, ["A1"])
    payment = box.start_payment(reservation.id, "u1")
    box.cancel(reservation.id, "u1")  # the buyer gave the hold up, then paid anyway
    provider.refusing = True
    sandbox.approve(charge_id(payment))
    assert current(box, payment).status is PaymentStatus.REVIEW
    assert provider.asked == 1
    for _ in range(5):
        box.reconcile_payments()
    assert provider.asked == 1, "asked again before the interval went by"
    clock.advance(seconds=61)
    for _ in range(5):
        box.reconcile_payments()
    assert provider.asked == 2
    assert current(box, payment).status is PaymentStatus.REVIEW
    provider.refusing = False
    clock.advance(seconds=61)
    box.reconcile_payments()
    assert current(box, payment).status is PaymentStatus.REFUNDED
    assert sandbox.read(charge_id(payment)).refunded == Money.parse("25.00")
    clock.advance(seconds=61)
    box.reconcile_payments()
    assert provider.refunds == 1


def test_a_decline_then_a_new_attempt_with_a_new_key(
    box: BoxOffice, reservation: Reservation, sandbox: SandboxProvider, clock: ManualClock
) -> None:
    """After a decline, starting again asks for a new charge; the hold is not lengthened again."""
    first = box.start_payment(reservation.id, "u1")
    sandbox.decline(charge_id(first))
    assert current(box, first).status is PaymentStatus.DECLINED
    hold_end = box.reservation(reservation.id, "u1").expires_at
    clock.advance(seconds=60)
    second = box.start_payment(reservation.id, "u1")
    assert second.id != first.id
    assert second.attempt_key != first.attempt_key
    assert second.charge_id != first.charge_id
    assert box.reservation(reservation.id, "u1").expires_at == hold_end
    sandbox.approve(charge_id(second))
    assert current(box, second).status is PaymentStatus.APPROVED


def test_a_lapsed_hold_expires_its_payment_and_cancels_the_charge(
    box: BoxOffice,
    reservation: Reservation,
    sandbox: SandboxProvider,
    clock: ManualClock,
    repo: InMemoryReservationRepo,
) -> None:
    """Reconciliation cancels at the provider the charge of a hold that lapsed unpaid."""
    payment = box.start_payment(reservation.id, "u1")
    clock.advance(seconds=601)
    box.expire_due()
    box.reconcile_payments()
    assert current(box, payment).status is PaymentStatus.EXPIRED
    assert sandbox.read(charge_id(payment)).status.value == "cancelled"
    assert events(repo, "payment.expired") == 1
    # No late approval can turn it into money any more.
    sandbox.approve(charge_id(payment))
    assert current(box, payment).status is PaymentStatus.EXPIRED


def test_a_provider_down_at_the_start_changes_nothing(
    box: BoxOffice, reservation: Reservation, provider: Switchable, repo: InMemoryReservationRepo
) -> None:
    """An unreachable provider: 503, the hold as it was, no payment stored."""
    provider.down = True
    with pytest.raises(PaymentProviderUnavailable):
        box.start_payment(reservation.id, "u1")
    assert box.reservation(reservation.id, "u1").expires_at == reservation.expires_at
    assert repo.payments_of_reservation(reservation.id) == []


def test_a_charge_not_ours_changes_nothing(
    box: BoxOffice, reservation: Reservation, sandbox: SandboxProvider
) -> None:
    """A charge the box office never asked for, or an unknown id, is ignored."""
    stranger = sandbox.start(
        ChargeRequest(
            payment_id=reservation.id,
            amount=Money.parse("1.00"),
            description="not ours",
            expires_at=reservation.expires_at + timedelta(hours=1),
            idempotency_key="other",
        )
    )
    assert box.settle_payment(stranger.charge_id) is None
    assert box.settle_payment("nonexistent") is None


def test_reconciliation_skips_payments_heard_of_recently(
    box: BoxOffice, reservation: Reservation, session: SessionView, clock: ManualClock
) -> None:
    """A pending payment heard of within the reconcile interval is not read again."""
    box.start_payment(reservation.id, "u1")
    assert box.reconcile_payments() == 0
    clock.advance(seconds=61)
    assert box.reconcile_payments() == 1
    assert box.reconcile_payments() == 0


@pytest.mark.parametrize(
    "ended",
    [PaymentStatus.APPROVED, PaymentStatus.DECLINED, PaymentStatus.EXPIRED, PaymentStatus.REFUNDED],
)
@pytest.mark.parametrize("word", list(ChargeStatus))
@pytest.mark.parametrize("chance", list(Chance))
def test_a_settled_payment_never_moves_again(
    box: BoxOffice,
    reservation: Reservation,
    clock: ManualClock,
    ended: PaymentStatus,
    word: ChargeStatus,
    chance: Chance,
) -> None:
    """Exactly one outcome: whatever the provider says later, a settled payment stays."""
    payment = attrs.evolve(box.start_payment(reservation.id, "u1"), status=ended)
    charge = Charge(
        charge_id=charge_id(payment),
        reference=payment.id,
        status=word,
        amount=payment.amount,
        refunded=Money.parse("0.00"),
    )
    decision = payment.decide(charge, chance, clock.now())
    assert decision.outcome is Outcome.NOTHING
    assert decision.payment == payment


def test_refunding_a_provider_paid_sale_refunds_those_seats_there(
    box: BoxOffice, reservation: Reservation, sandbox: SandboxProvider, provider: Switchable
) -> None:
    """The refunded seats' amount goes back through the provider, before the sale changes."""
    payment = box.start_payment(reservation.id, "u1")
    sandbox.approve(charge_id(payment))
    sale_id = current(box, payment).sale_id
    assert sale_id is not None
    provider.down = True
    with pytest.raises(PaymentProviderUnavailable):
        box.refund(sale_id, "u1", ["A1"])
    sale = box.sale(sale_id)
    assert sale is not None
    assert sale.refunded == ()
    provider.down = False
    refund = box.refund(sale_id, "u1", ["A1"])
    assert refund.amount == Money.parse("25.00")
    assert sandbox.read(charge_id(payment)).refunded == Money.parse("25.00")


def test_cancelling_a_session_gives_provider_paid_money_back_at_the_provider(
    box: BoxOffice,
    session: SessionView,
    reservation: Reservation,
    sandbox: SandboxProvider,
) -> None:
    """A cancelled session's Pix-paid sale is refunded at the provider too, for what was left
    after a seat refund: the payment ends refunded and the charge keeps no money."""
    payment = box.start_payment(reservation.id, "u1")
    sandbox.approve(charge_id(payment))
    sale_id = current(box, payment).sale_id
    assert sale_id is not None
    box.refund(sale_id, "u1", ["A1"], admin=True)
    box.cancel_session(session.session.id, "admin-1")
    charge = sandbox.read(charge_id(payment))
    assert charge.refunded == charge.amount
    assert current(box, payment).status is PaymentStatus.REFUNDED
