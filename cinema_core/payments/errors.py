"""What a payment provider's answers become: each error with its API code and HTTP status.

Adapters translate transport failures and provider answers into these; no ``httpx`` (or other
driver) exception crosses the port.
"""

from __future__ import annotations

from uuid import UUID

from cinema_core.errors import CinemaError, NotFound

# How long a client is told to wait when the provider fails: long enough for a blip to pass,
# short enough that a buyer at the seat picker retries before the hold lapses.
DEFAULT_RETRY_AFTER = 5.0


class PaymentProviderUnavailable(CinemaError):
    """The provider could not be asked: unreachable, too slow (5 s), a 5xx, or an answer we
    cannot read. Nothing is known to have changed at the provider because of this call; an
    idempotency key sent with it makes a retry safe."""

    code, status = "payment_provider_unavailable", 503
    default_message = "The payment provider cannot be reached right now; try again shortly."

    def __init__(self, reason: str, retry_after: float = DEFAULT_RETRY_AFTER):
        # The reason is for the operator's log; the client is only told to retry.
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(None, {"retry_after_seconds": retry_after})

    def __str__(self) -> str:
        return f"{self.message} ({self.reason})"


class ChargeNotFound(NotFound):
    """The provider does not know this charge id."""

    code, default_message = "charge_not_found", "The payment provider has no such charge."

    def __init__(self, charge_id: str):
        self.charge_id = charge_id
        super().__init__(None, {"charge_id": charge_id[:64]})


class RefundRefused(CinemaError):
    """The provider answered no to a refund: more than is left to refund, a charge that took no
    money, or a refusal of its own. The use case parks the payment in ``review`` and retries."""

    code, status = "refund_refused", 409
    default_message = "The payment provider refused the refund."

    def __init__(self, charge_id: str, reason: str):
        self.charge_id, self.reason = charge_id, reason
        super().__init__(None, {"charge_id": charge_id[:64], "reason": reason[:200]})


class PaymentInProgress(CinemaError):
    """The reservation already has a pending payment: a second one would be a second charge
    for the same seats. Judged by the store (one pending payment per reservation), whatever
    the use case above decided."""

    code, status = "payment_in_progress", 409
    default_message = "A payment of this reservation is already in progress."

    def __init__(self, reservation_id: UUID):
        self.reservation_id = reservation_id
        super().__init__(None, {"reservation_id": str(reservation_id)})


class PaymentNotFound(NotFound):
    """No payment by this id, or not the asker's."""

    code, default_message = "payment_not_found", "No such payment."
