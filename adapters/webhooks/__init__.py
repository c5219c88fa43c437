"""Sending webhook deliveries over HTTP (httpx)."""

from .sender import HttpWebhookSender

__all__ = ["HttpWebhookSender"]
