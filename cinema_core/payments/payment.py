"""The box office's record of money asked for a reservation: a payment, and where it stands.

A payment lives beside its reservation. It is started once per attempt (a fresh idempotency key
at the provider each time), and it ends in exactly one outcome: a sale (``approved``), a decline,
an expiry (the hold lapsed unpaid, the charge cancelled at the provider), or a full refund of
money that came too late for seats gone to someone else (``refunded``); ``review`` holds money
taken that is still owed back, until the provider accepts the refund.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

from cinema_core.kernel.money import Money
from cinema_core.payments.charges import Pix


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
