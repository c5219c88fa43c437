"""Mercado Pago: Pix charges through its payments API, and its webhook's signatures.

See docs/payments.md for credentials (a test account's access token for the sandbox), the
settings, and what the test stand-in covers.
"""

from .notifications import BadSignature, Notice, read_notice, verified_charge_id
from .provider import DEFAULT_API_BASE, MercadoPagoProvider

__all__ = [
    "DEFAULT_API_BASE",
    "BadSignature",
    "MercadoPagoProvider",
    "Notice",
    "read_notice",
    "verified_charge_id",
]
