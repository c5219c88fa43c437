"""Taking money through a payment provider: the port, its values and errors, and the sandbox.

The box office asks a provider for a Pix charge, reads it back, cancels it when the hold lapses
unpaid and refunds it (in part or whole). ``PaymentProvider`` is the port; ``SandboxProvider``
is the in-process stand-in for demos and tests; the Mercado Pago adapter lives in
``adapters.mercadopago``.
"""

from __future__ import annotations

from cinema_core.payments.charges import Charge, ChargeRequest, ChargeStatus, PaymentProvider, Pix
from cinema_core.payments.errors import (
    ChargeNotFound,
    PaymentInProgress,
    PaymentProviderUnavailable,
    RefundRefused,
)
from cinema_core.payments.sandbox import SandboxProvider

__all__ = [
    "Charge",
    "ChargeNotFound",
    "ChargeRequest",
    "ChargeStatus",
    "PaymentInProgress",
    "PaymentProvider",
    "PaymentProviderUnavailable",
    "Pix",
    "RefundRefused",
    "SandboxProvider",
]
