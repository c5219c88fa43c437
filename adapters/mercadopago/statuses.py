"""Mercado Pago's payment statuses in the box office's words (see ``ChargeStatus``)."""

from __future__ import annotations

from cinema_core.payments import ChargeStatus

STATUSES: dict[str, ChargeStatus] = {
    "pending": ChargeStatus.PENDING,
    "in_process": ChargeStatus.PENDING,
    # Pix does not authorize and capture; should it ever, nothing is ours until captured.
    "authorized": ChargeStatus.PENDING,
    "approved": ChargeStatus.APPROVED,
    # A dispute freezes the money but does not return it; losing it turns charged_back.
    "in_mediation": ChargeStatus.APPROVED,
    "rejected": ChargeStatus.DECLINED,
    "cancelled": ChargeStatus.CANCELLED,
    "refunded": ChargeStatus.REFUNDED,
    "charged_back": ChargeStatus.REFUNDED,
}


def charge_status(status: str) -> ChargeStatus:
    """The box office's status for Mercado Pago's; ``KeyError`` for one it never documented
    (the adapter then answers unavailable rather than act on what it cannot read)."""
    return STATUSES[status]
