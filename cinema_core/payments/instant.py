"""The provider of the ``instant`` box office (the default): paying a hold sells it there and
then (``BoxOffice.pay``), so no charge is ever made, read, cancelled or refunded."""

from __future__ import annotations

from cinema_core.kernel.money import Money
from cinema_core.payments.charges import Charge, ChargeRequest
from cinema_core.payments.errors import ChargeNotFound


class InstantProvider:
    """The ``PaymentProvider`` with no charges: reading one says it is not ours."""

    name = "instant"

    def start(self, request: ChargeRequest) -> Charge:
        raise RuntimeError("instant payments are sold at once by BoxOffice.pay, not started")

    def read(self, charge_id: str) -> Charge:
        raise ChargeNotFound(charge_id)

    def cancel(self, charge_id: str) -> Charge:
        raise ChargeNotFound(charge_id)

    def refund(self, charge_id: str, amount: Money, idempotency_key: str) -> Charge:
        raise ChargeNotFound(charge_id)
