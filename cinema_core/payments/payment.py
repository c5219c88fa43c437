"""The box office's record of money asked for a reservation: a payment, and where it stands.

A payment lives beside its reservation. It is started once per attempt (a fresh idempotency key
at the provider each time), and it ends in exactly one outcome: a sale (``approved``), a decline,
an expiry (the hold lapsed unpaid, the charge cancelled at the provider), or a full refund of
money that came too late for seats gone to someone else (``refunded``); ``review`` holds money
taken that is still owed back, until the provider accepts the refund.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import attrs

from cinema_core.errors import CinemaError
from cinema_core.kernel.money import Money
from cinema_core.payments.charges import Charge, ChargeStatus, Pix
from cinema_core.rooms.seats import Seat, SeatStatus
from cinema_core.selling.reservations import Reservation, ReservationStatus
from cinema_core.sessions.session import Session


class PaymentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    REVIEW = "review"


@attrs.frozen
class Payment:
    """A payment of ``amount`` for ``reservation_id`` through ``provider``.

    ``attempt_key`` is the idempotency key the charge was asked with (one per attempt);
    ``charge_id`` the provider's id once it answered; ``heard_at`` when the box office last
    learned anything of the charge (a notice, a read), which reconciliation goes by; ``late``
    whether the money arrived after the hold had lapsed; ``refunded`` how much of it went back.
    """

    id: UUID
    reservation_id: UUID
    session_id: UUID
    user_id: str
    provider: str
    status: PaymentStatus
    amount: Money
    created_at: datetime
    expires_at: datetime
    attempt_key: str
    heard_at: datetime
    charge_id: str | None = None
    pix: Pix | None = None
    late: bool = False
    sale_id: UUID | None = None
    refunded: Money | None = None
    settled_at: datetime | None = None

    # -- the rules: what each word from the provider does to a payment, written once ----------

    @classmethod
    def start(
        cls,
        *,
        id: UUID,
        reservation_id: UUID,
        session_id: UUID,
        user_id: str,
        provider: str,
        amount: Money,
        attempt_key: str,
        charge: Charge,
        expires_at: datetime,
        now: datetime,
    ) -> Payment:
        """A new pending payment for the charge the provider just made."""
        return cls(
            id=id,
            reservation_id=reservation_id,
            session_id=session_id,
            user_id=user_id,
            provider=provider,
            status=PaymentStatus.PENDING,
            amount=amount,
            created_at=now,
            expires_at=expires_at,
            attempt_key=attempt_key,
            heard_at=now,
            charge_id=charge.charge_id,
            pix=charge.pix,
        )

    @property
    def settled(self) -> bool:
        """Whether the payment reached its one outcome (``review`` still owes money back)."""
        return self.status not in (PaymentStatus.PENDING, PaymentStatus.REVIEW)

    @property
    def owed(self) -> Money:
        """What is still to be given back to the buyer while in ``review``: everything taken
        that was not refunded yet."""
        if self.status is not PaymentStatus.REVIEW:
            return Money(0, self.amount.currency)
        return Money(self.amount.cents - self.refunded_amount.cents, self.amount.currency)

    @property
    def refunded_amount(self) -> Money:
        return self.refunded if self.refunded is not None else Money(0, self.amount.currency)

    def decide(self, charge: Charge, chance: Chance, now: datetime) -> Decision:
        """What ``charge`` (as just read from the provider) does to this payment, given the
        ``chance`` its reservation has of being sold now. Exactly one outcome per payment: once
        it left ``pending``, no charge moves it again, except a refund the provider accepted
        ending a ``review``."""
        heard = attrs.evolve(self, heard_at=now)
        if self.status is PaymentStatus.REVIEW:
            if charge.status is ChargeStatus.REFUNDED or charge.refundable.cents == 0:
                return Decision(self.refund_accepted(charge, now), Outcome.REFUNDED)
            return Decision(heard, Outcome.NOTHING)
        if self.status is not PaymentStatus.PENDING:
            return Decision(self, Outcome.NOTHING)
        if charge.status is ChargeStatus.PENDING:
            return Decision(heard, Outcome.NOTHING)
        if charge.status is ChargeStatus.DECLINED:
            return Decision(heard.ended(PaymentStatus.DECLINED, now), Outcome.DECLINED)
        if charge.status is ChargeStatus.CANCELLED:
            return Decision(heard.ended(PaymentStatus.EXPIRED, now), Outcome.EXPIRED)
        if charge.status is ChargeStatus.REFUNDED:
            # Paid and given back at the provider before we heard of either: no money is ours.
            return Decision(self.refund_accepted(charge, now), Outcome.REFUNDED)
        # Approved: the money is ours, so it ends in a sale of these seats or goes back whole.
        late = chance is not Chance.IN_TIME
        if charge.amount != self.amount:
            # The hold changed after the charge was asked (other seats, another price): the
            # money paid for something no longer on offer.
            chance = Chance.GONE
        if chance is Chance.GONE:
            owed = attrs.evolve(heard, status=PaymentStatus.REVIEW, late=late)
            return Decision(owed, Outcome.REFUND)
        return Decision(attrs.evolve(heard, late=late), Outcome.SALE)

    def sold(self, sale_id: UUID, now: datetime) -> Payment:
        """The payment that made ``sale_id``."""
        return attrs.evolve(self, status=PaymentStatus.APPROVED, sale_id=sale_id, settled_at=now)

    def refund_accepted(self, charge: Charge, now: datetime) -> Payment:
        """The provider gave the money back: the payment ends ``refunded``."""
        refunded = charge.refunded if charge.refunded.cents else self.amount
        return attrs.evolve(
            self,
            status=PaymentStatus.REFUNDED,
            refunded=refunded,
            heard_at=now,
            settled_at=now,
        )

    def owing(self, now: datetime) -> Payment:
        """The sale this payment made was refunded in full here (its session was cancelled):
        what the provider has not given back yet (``owed``: the amount less the seat refunds
        counted by ``refunded_in_part``) is owed through it, so the payment is in ``review``
        until the provider takes the refund. Only an approved payment has a sale to owe; any
        other is answered unchanged, and so is one with nothing left to give back."""
        if self.status is not PaymentStatus.APPROVED or self.refunded_amount == self.amount:
            return self
        return attrs.evolve(self, status=PaymentStatus.REVIEW, heard_at=now)

    def refunded_in_part(self, amount: Money) -> Payment:
        """Some seats of the sale it made went back through the provider: counted, so that
        what a cancellation owes later is the rest, to the cent."""
        return attrs.evolve(self, refunded=self.refunded_amount + amount)

    def ended(self, status: PaymentStatus, now: datetime) -> Payment:
        return attrs.evolve(self, status=status, settled_at=now)


class Chance(StrEnum):
    """What an approved charge can still buy: the reservation's own hold in time, the same
    seats bought late (all still free), or nothing (a seat gone, the hold given up, the
    session cancelled or closed)."""

    IN_TIME = "in_time"
    LATE = "late"
    GONE = "gone"

    @classmethod
    def of(
        cls,
        reservation: Reservation,
        seats: Sequence[Seat],
        session: Session,
        now: datetime,
        sales_close: timedelta,
    ) -> Chance:
        """The chance of ``reservation`` (with its locked ``seats``) in ``session`` at ``now``."""
        try:
            session.check_on_sale(now, sales_close)
        except CinemaError:
            return cls.GONE
        if len(seats) != len(reservation.seats):
            return cls.GONE
        status = reservation.status_at(now)
        if status is ReservationStatus.PENDING:
            if all(seat.is_held_by(reservation.id, now) for seat in seats):
                return cls.IN_TIME
            # Another process saw the hold as lapsed (its clock ran ahead): judge the seats.
        elif status is not ReservationStatus.EXPIRED:
            # Cancelled by the buyer, or already paid by another payment.
            return cls.GONE
        if all(seat.status_at(now) is SeatStatus.AVAILABLE for seat in seats):
            return cls.LATE
        return cls.GONE


class Outcome(StrEnum):
    """What the use case must do for a decision: nothing, make the sale, ask the provider for
    the money back, or record the end the provider already made."""

    NOTHING = "nothing"
    SALE = "sale"
    REFUND = "refund"
    DECLINED = "declined"
    EXPIRED = "expired"
    REFUNDED = "refunded"


@attrs.frozen
class Decision:
    payment: Payment
    outcome: Outcome
