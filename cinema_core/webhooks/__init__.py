"""Webhooks: URLs an admin registers for event types, each event POSTed to them signed, retried
with backoff for a day, and every delivery's attempts kept in a log.

The use cases are in ``cinema_core.webhooks.use_cases`` (they need the ports, which need this
package's model).
"""

from .backoff import Backoff
from .deliveries import Delivery, DeliveryStatus, Outcome
from .signing import sign, verify
from .webhook import ALL_EVENTS, Webhook, WebhookNotFound, new_secret

__all__ = [
    "ALL_EVENTS",
    "Backoff",
    "Delivery",
    "DeliveryStatus",
    "Outcome",
    "Webhook",
    "WebhookNotFound",
    "new_secret",
    "sign",
    "verify",
]
