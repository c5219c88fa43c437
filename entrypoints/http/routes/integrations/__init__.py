"""Integrations: webhooks that receive the box office's events, signed."""

from . import webhooks

OPERATIONS = webhooks.OPERATIONS
