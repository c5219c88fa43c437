"""The use cases of money taken through a provider: a payment started, settled, reconciled.

Every word from the provider (a webhook's notice, a read by the reconciler, the sandbox's own
call when an admin plays the bank) goes through one path, ``settle``: the charge is read from
the provider (a notice's body is never trusted), then one transaction locks the reservation's
session, the reservation and its seats, then the payment (the one lock order: a payment after
its reservation's seats, as a session's cancellation takes them), and the model decides
(``Payment.decide``). So however many deliveries and processes race, one of them decides and
the others find the payment already settled: exactly one outcome per payment.

Money owed back is asked of the provider only after the transaction that recorded ``review``
committed, with an idempotency key stable per payment (a retry never refunds twice); another
transaction then records ``refunded``. A refusal or an outage leaves ``review`` for the
reconciler to retry: the debt is in the store, so it is never forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid5

import attrs

from cinema_core.after_sale.admissions import issue_tickets, new_code
from cinema_core.errors import ReservationNotFound
from cinema_core.events import envelopes as events
from cinema_core.kernel.money import Money
from cinema_core.payments.charges import Charge, ChargeRequest, PaymentProvider
from cinema_core.payments.errors import (
    ChargeNotFound,
    PaymentInProgress,
    PaymentNotFound,
    PaymentProviderUnavailable,
    RefundRefused,
)
from cinema_core.payments.instant import InstantProvider
from cinema_core.payments.payment import Chance, Outcome, Payment, PaymentStatus
from cinema_core.ports import Transaction
from cinema_core.rooms.seats import Seat
from cinema_core.selling.holding import Holding
from cinema_core.selling.reservations import Reservation, ReservationStatus, Sale

log = logging.getLogger("cinema.payments")

DEFAULT_PAYMENT_HOLD = timedelta(seconds=600)
DEFAULT_RECONCILE = timedelta(seconds=60)
# Payments read from the provider in one reconciliation pass, at most.
RECONCILE_BATCH = 100

_OUTCOME_EVENTS = {
    Outcome.DECLINED: events.PAYMENT_DECLINED,
    Outcome.EXPIRED: events.PAYMENT_EXPIRED,
    Outcome.REFUNDED: events.PAYMENT_REFUNDED,
}


def refund_key(payment: Payment) -> str:
    """The idempotency key of the one refund of what a payment owes (the whole of late money,
    or the rest of a cancelled session's sale; a payment owes once, never both): stable, so a
    retry after a timeout, a crash or a refusal never gives the money back twice."""
    return f"refund-{payment.id}"


@attrs.define
class Payments:
    """Taking the money for a hold through ``provider`` (what ``BoxOffice`` asks for when
    the provider is not ``instant``)."""

    holding: Holding
    provider: PaymentProvider
    # How long a hold lasts at least once a payment starts: the buyer's bank needs time.
    payment_hold: timedelta = DEFAULT_PAYMENT_HOLD
    # Where the provider sends its notices (Mercado Pago's notification_url).
    notification_url: str | None = None
    # How long a pending payment may go unheard of before the reconciler reads it.
    quiet: timedelta = DEFAULT_RECONCILE
    # The code printed on each ticket of a sale.
    new_code: Callable[[], str] = new_code

    def provider_name(self) -> str:
        """``instant``, ``sandbox`` or ``mercadopago``: who takes the money."""
        return self.provider.name

    def deferred(self) -> bool:
        """Whether a payment is started and settled later (any provider but ``instant``)."""
        return self.provider.name != InstantProvider.name

    # -- starting -------------------------------------------------------------------------

    def start(self, reservation_id: UUID, user_id: str) -> Payment:
        """Ask the buyer's bank for the hold's amount: a pending payment with its Pix code.

        While one is pending, starting again answers it (no second charge). After a decline
        or an expiry a new attempt makes a new payment with a new idempotency key. The first
        payment of a hold keeps it until at least ``payment_hold`` from now; the charge lapses
        no later than the hold. A provider that cannot be asked raises
        ``PaymentProviderUnavailable`` and nothing changes here.
        """
        repo = self.holding.repo
        reservation = repo.get_reservation(reservation_id)
        if reservation is None or reservation.user_id != user_id:
            raise ReservationNotFound()
        tried = repo.payments_of_reservation(reservation_id)
        for payment in tried:
            if payment.status is PaymentStatus.PENDING:
                return payment
        now = self.holding.clock.now()
        session = self.holding.session(reservation.session_id)
        # Refuse what could never be paid (paid, cancelled, lapsed, sales closed) before any
        # money is asked; the transaction below judges again under lock.
        reservation.check_pending(now)
        session.check_on_sale(now, self.holding.sales_close)
        # Once per hold: a new attempt after a decline keeps the hold as it stands.
        until = max(reservation.expires_at, now + self.payment_hold) if not tried else None
        # The attempt's id and key follow from the reservation and the attempt's number, so a
        # retry of an attempt whose answer was lost gets the same charge, never a second one.
        attempt = len(tried)
        payment_id = uuid5(reservation_id, f"payment-{attempt}")
        expires_at = until or reservation.expires_at
        charge = self.provider.start(
            ChargeRequest(
                payment_id=payment_id,
                amount=reservation.amount,
                description=f"{session.movie} ({len(reservation.seats)} seats)",
                expires_at=expires_at,
                idempotency_key=f"{reservation_id}-{attempt}",
                notification_url=self.notification_url,
            )
        )
        payment = Payment.start(
            id=payment_id,
            reservation_id=reservation_id,
            session_id=reservation.session_id,
            user_id=user_id,
            provider=self.provider.name,
            amount=reservation.amount,
            attempt_key=f"{reservation_id}-{attempt}",
            charge=charge,
            expires_at=expires_at,
            now=now,
        )

        def work(tx: Transaction) -> Payment:
            found = tx.lock_session_reservation_and_seats(reservation_id, self.holding.session)
            if found is None:
                raise ReservationNotFound()
            _, held, seats = found
            at = self.holding.clock.now()
            # The charge exists now: its payment is stored whatever became of the hold, so
            # money paid into it is never unknown here (a lapsed hold's charge is cancelled
            # by the reconciler, or its late money judged like any other).
            tx.add_payment(payment)
            pending = held.status_at(at) is ReservationStatus.PENDING
            if until is not None and pending and held.hold_until(until, seats, at):
                tx.save_seats(held.session_id, seats)
                tx.save_reservation(held)
            self._emit(tx, events.PAYMENT_STARTED, payment, at)
            return payment

        try:
            stored = repo.atomic(work)
            self.holding.metrics.payment(stored.status)
        except PaymentInProgress:
            # Another request of the same buyer started it a moment ago: that is the answer.
            for other in repo.payments_of_reservation(reservation_id):
                if other.status is PaymentStatus.PENDING:
                    return other
            raise
        if until is not None:
            # The seat lock mirrors the hold, and the hold now lasts longer.
            left = (until - self.holding.clock.now()).total_seconds()
            if left > 0:
                self.holding.lock(reservation.session_id, reservation.seats, reservation.id, left)
        return stored

    # -- reading --------------------------------------------------------------------------

    def payment(self, payment_id: UUID, user_id: str, *, admin: bool = False) -> Payment:
        """The payment, to its payer or an admin; anyone else is told there is none."""
        payment = self.holding.repo.get_payment(payment_id)
        if payment is None or not (admin or payment.user_id == user_id):
            raise PaymentNotFound()
        return payment

    # -- settling -------------------------------------------------------------------------

    def settle(self, charge_id: str) -> Payment | None:
        """Act on what the provider says of ``charge_id`` now: the one path every notice,
        reconciliation and sandbox change takes. Returns the payment as it then stands, or
        ``None`` for a charge that is not ours. Raises ``PaymentProviderUnavailable`` when
        the provider cannot be read (nothing changed; the notice may be sent again)."""
        try:
            charge = self.provider.read(charge_id)
        except ChargeNotFound:
            return None
        return self.apply(charge)

    def apply(self, charge: Charge) -> Payment | None:
        """Act on ``charge`` as just read from the provider (see ``settle``)."""
        if charge.reference is None:
            return None
        known = self.holding.repo.get_payment(charge.reference)
        if (
            known is None
            or known.provider != self.provider.name
            or known.charge_id != charge.charge_id
        ):
            return None
        if known.settled:
            return known
        payment, sold = self.holding.repo.atomic(lambda tx: self._decide(tx, known, charge))
        if payment.status is not known.status:
            self.holding.metrics.payment(payment.status)
        if sold:
            self.holding.metrics.sold(sold)
        if payment.status is PaymentStatus.REVIEW:
            payment = self.refund_owed(payment)
        return payment

    def _decide(self, tx: Transaction, known: Payment, charge: Charge) -> tuple[Payment, int]:
        """The payment as the charge leaves it, and how many seats that sold (0: no sale)."""
        found = tx.lock_session_reservation_and_seats(known.reservation_id, self.holding.session)
        payment = tx.lock_payment(known.id)
        if found is None or payment is None:
            return known, 0
        session, reservation, seats = found
        now = self.holding.clock.now()
        chance = Chance.of(reservation, seats, session, now, self.holding.sales_close)
        decision = payment.decide(charge, chance, now)
        if (
            decision.outcome is Outcome.SALE
            and chance is Chance.LATE
            and not self.holding.retake_extras(tx, reservation, now)
        ):
            # The lapse gave back its products or its promo code's use, and they are gone
            # since: the money goes back whole, as when a seat is gone.
            decision = payment.decide(charge, Chance.GONE, now)
        payment = decision.payment
        if decision.outcome is Outcome.SALE:
            sale = self._sell(tx, reservation, seats, late=payment.late, now=now)
            payment = payment.sold(sale.id, now)
            tx.save_payment(payment)
            self._emit(tx, events.PAYMENT_APPROVED, payment, now)
            return payment, len(sale.seats)
        if decision.payment != known:
            tx.save_payment(payment)
        kind = _OUTCOME_EVENTS.get(decision.outcome)
        if kind is not None:
            self._emit(tx, kind, payment, now)
        return payment, 0

    def _emit(self, tx: Transaction, kind: str, payment: Payment, at: datetime) -> None:
        tx.emit(events.payment_event(self.holding.new_id(), kind, payment, at))

    def _sell(
        self,
        tx: Transaction,
        reservation: Reservation,
        seats: list[Seat],
        *,
        late: bool,
        now: datetime,
    ) -> Sale:
        sale = Sale.of(self.holding.new_id(), reservation, now)
        if late:
            reservation.confirm_late(sale.id, seats, now)
        else:
            reservation.confirm(sale.id, seats, now)
        tx.save_seats(reservation.session_id, seats)
        tx.save_reservation(reservation)
        tx.add_sale(sale)
        tx.add_tickets(issue_tickets(sale, self.holding.new_id, self.new_code))
        tx.emit(events.payment_confirmed(self.holding.new_id(), sale, now, self.provider.name))
        return sale

    # -- money owed back ------------------------------------------------------------------

    def refund_owed(self, payment: Payment) -> Payment:
        """Ask the provider for what a ``review`` payment owes, then record it ``refunded``.
        A refusal or an outage leaves it in ``review`` for the reconciler."""
        try:
            return self._refund_owed(payment)
        except PaymentProviderUnavailable as down:
            log.warning("refund of payment %s left for later: %s", payment.id, down)
            return payment

    def refund_all_owed(self, owed: Sequence[Payment]) -> None:
        """``refund_owed`` for each payment (a cancelled session's sales), stopping at the
        first outage: a provider down would cost every one of them its timeout, and the
        rest wait in ``review`` for the reconciler anyway."""
        for payment in owed:
            try:
                self._refund_owed(payment)
            except PaymentProviderUnavailable as down:
                log.warning("refunds of %d payments left for later: %s", len(owed), down)
                return

    def _refund_owed(self, payment: Payment) -> Payment:
        if payment.status is not PaymentStatus.REVIEW or payment.charge_id is None:
            return payment
        owed = payment.owed
        try:
            if owed.cents > 0:
                charge = self.provider.refund(payment.charge_id, owed, refund_key(payment))
            else:
                charge = self.provider.read(payment.charge_id)
        except RefundRefused as refused:
            # Refused may mean "given back already" (our earlier try went through): the charge
            # says which.
            log.warning("refund of payment %s refused: %s", payment.id, refused.reason)
            try:
                charge = self.provider.read(payment.charge_id)
            except (PaymentProviderUnavailable, ChargeNotFound):
                return payment
        except ChargeNotFound as failed:
            log.warning("refund of payment %s left for later: %s", payment.id, failed)
            return payment
        if charge.refundable.cents > 0:
            return payment
        refunded = self.holding.repo.atomic(lambda tx: self._refunded(tx, payment.id, charge))
        if refunded.status is not payment.status:
            self.holding.metrics.payment(refunded.status)
        return refunded

    def _refunded(self, tx: Transaction, payment_id: UUID, charge: Charge) -> Payment:
        payment = tx.lock_payment(payment_id)
        if payment is None:
            raise PaymentNotFound()
        if payment.status is not PaymentStatus.REVIEW:
            return payment
        now = self.holding.clock.now()
        payment = payment.refund_accepted(charge, now)
        tx.save_payment(payment)
        self._emit(tx, events.PAYMENT_REFUNDED, payment, now)
        return payment

    def refund_sale(self, payment: Payment, amount: Money, key: str) -> None:
        """Give ``amount`` of the sale ``payment`` made back through the provider, before
        anything changes here (``PaymentProviderUnavailable`` or ``RefundRefused`` if it
        cannot). ``key`` names the refund asked for, so a retry of it refunds once."""
        if payment.charge_id is None:
            return
        self.provider.refund(payment.charge_id, amount, key)

    # -- reconciling ----------------------------------------------------------------------

    def reconcile(self, limit: int = RECONCILE_BATCH) -> int:
        """Read from the provider every pending payment not heard of for ``quiet`` (a lost
        notice still ends in a sale or a refund), cancel at the provider the charges of holds
        that lapsed unpaid, and retry the refunds owed. Returns how many payments it looked
        at. Safe with any number of workers: each claims its payments (marks them heard of)
        in a transaction that skips those another worker holds."""
        now = self.holding.clock.now()

        def claim(tx: Transaction) -> list[Payment]:
            due = tx.lock_payments_due(now - self.quiet, limit)
            claimed = [attrs.evolve(payment, heard_at=now) for payment in due]
            for payment in claimed:
                tx.save_payment(payment)
            return claimed

        due = self.holding.repo.atomic(claim)
        for payment in due:
            try:
                self._reconcile_one(payment)
            except PaymentProviderUnavailable as down:
                log.warning("reconciling payment %s: %s", payment.id, down)
            except ChargeNotFound:
                log.warning("reconciling payment %s: the provider has no such charge", payment.id)
        return len(due)

    def _reconcile_one(self, payment: Payment) -> None:
        if payment.status is PaymentStatus.REVIEW:
            self.refund_owed(payment)
            return
        if payment.charge_id is None:
            return
        reservation = self.holding.repo.get_reservation(payment.reservation_id)
        now = self.holding.clock.now()
        lapsed = (
            reservation is None
            or reservation.status_at(now) is not ReservationStatus.PENDING
            or now >= payment.expires_at
        )
        if lapsed:
            # Withdrawn so it can no longer be paid; the answer says whether money came first.
            self.apply(self.provider.cancel(payment.charge_id))
        else:
            self.apply(self.provider.read(payment.charge_id))
