"""Payments through a provider: a payment read by its payer, the provider's webhook, and the
sandbox's hand controls that play the buyer's bank."""

from . import payments

OPERATIONS = payments.OPERATIONS
