"""A charge at a payment provider, what the box office asks for, and the port that asks.

A charge is the provider's record of money asked of a buyer (here a Pix charge); the box
office's own record is the payment, whose id the charge carries as its ``reference``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

import attrs

from cinema_core.kernel.money import Money


class ChargeStatus(StrEnum):
    """Where a charge stands, in the box office's words.

    Mercado Pago's statuses map so (``adapters.mercadopago.statuses``):

    - ``pending``, ``in_process``, ``authorized`` → ``pending``: no money is ours yet;
    - ``approved``, ``in_mediation`` → ``approved``: the money was taken (a dispute does not
      undo the sale until it is lost, and then MP says ``charged_back``);
    - ``rejected`` → ``declined``;
    - ``cancelled`` → ``cancelled`` (a Pix that lapsed unpaid is ``cancelled`` with
      ``detail`` ``expired``);
    - ``refunded``, ``charged_back`` → ``refunded``: every cent went back to the buyer.

    A partial refund leaves a charge ``approved`` with ``refunded`` above zero.
    """

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@attrs.frozen
class Pix:
    """What the buyer pays with: the copy-paste code, its QR image, the provider's page."""

    qr_code: str
    # A base64 image of the QR code as the provider drew it (PNG at Mercado Pago); the
    # sandbox's is a fixed placeholder, so pages draw the QR from ``qr_code`` themselves.
    qr_code_base64: str
    ticket_url: str | None = None


@attrs.frozen
class Charge:
    """The provider's charge as last read.

    ``reference`` is the box office's payment id the charge was made for (Mercado Pago's
    ``external_reference``); ``None`` when it carries none or one that is no payment id of
    ours: such a charge is not ours to act on.
    """

    charge_id: str
    reference: UUID | None
    status: ChargeStatus
    amount: Money
    refunded: Money
    expires_at: datetime | None = None
    pix: Pix | None = None
    # The provider's finer reason (Mercado Pago's status_detail: "expired", "accredited", …).
    detail: str | None = None

    @property
    def refundable(self) -> Money:
        """What is left to give back: the money taken less what was refunded already."""
        if self.status is not ChargeStatus.APPROVED:
            return Money(0, self.amount.currency)
        return Money(self.amount.cents - self.refunded.cents, self.amount.currency)

    @property
    def lapsed(self) -> bool:
        """Cancelled because its time ran out unpaid (rather than by a cancel)."""
        return self.status is ChargeStatus.CANCELLED and self.detail == "expired"


@attrs.frozen
class ChargeRequest:
    """What the box office asks a provider to charge.

    ``idempotency_key`` is fresh per attempt to pay: a retry of the same attempt (after a
    timeout, say) sends it again and gets the same charge, a new attempt after a decline
    sends a new one and gets a new charge.
    """

    payment_id: UUID
    amount: Money
    description: str
    expires_at: datetime
    idempotency_key: str
    notification_url: str | None = None
    payer_email: str | None = None


class PaymentProvider(Protocol):
    """A provider of Pix charges (Mercado Pago, or the in-process sandbox).

    Every method may raise ``PaymentProviderUnavailable`` (unreachable, slower than 5 s, a 5xx,
    an unreadable answer): then the caller knows nothing changed because of it, and retries
    with the same idempotency key.
    """

    @property
    def name(self) -> str:
        """The provider's name as the API shows it: ``sandbox``, ``mercadopago``."""
        ...

    def start(self, request: ChargeRequest) -> Charge:
        """Ask the buyer for ``request.amount``: a new ``pending`` charge, or, for an
        idempotency key seen before, the charge that key made (as it stands now)."""
        ...

    def read(self, charge_id: str) -> Charge:
        """The charge as the provider has it now. Raises ``ChargeNotFound`` for an id the
        provider does not know (a malformed one included)."""
        ...

    def cancel(self, charge_id: str) -> Charge:
        """Withdraw a pending charge so it can no longer be paid, and answer it as it then
        stands: ``cancelled``, or, when it is no longer pending (paid a moment ago, declined,
        lapsed), unchanged, so the caller sees the money that did arrive. Raises
        ``ChargeNotFound`` for an unknown id."""
        ...

    def refund(self, charge_id: str, amount: Money, idempotency_key: str) -> Charge:
        """Give ``amount`` of an approved charge back to the buyer and answer the charge
        after the refund (``refunded`` once nothing is left). The same idempotency key
        refunds once however often it is sent. Raises ``ChargeNotFound`` for an unknown
        id, ``RefundRefused`` when the provider says no (more than is left, a charge that
        took no money)."""
        ...
