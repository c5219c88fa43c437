"""A webhook: a URL an admin registered, the event types it wants, and the secret that signs
what is sent to it. A receiver that answers 410 Gone disables it for good."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit
from uuid import UUID

import attrs

from cinema_core.errors import NotFound, ValidationFailed
from cinema_core.events.envelopes import EVENT_TYPES

ALL_EVENTS: Final = "*"
MAX_URL: Final = 2048
MAX_EVENTS: Final = len(EVENT_TYPES) + 1
SCHEMES: Final = ("http", "https")
# Names that always mean this machine, whatever DNS says.
_LOCAL_NAMES: Final = ("localhost", "localhost.localdomain")


class WebhookNotFound(NotFound):
    code, default_message = "webhook_not_found", "No such webhook."


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, as text a receiver can paste anywhere."""
    return "whsec_" + secrets.token_urlsafe(32)


def _private_host(host: str) -> bool:
    if host.lower().rstrip(".") in _LOCAL_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with ``url`` as a webhook's address, if anything.

    Only http(s) with a host. Unless ``allow_private``, an address that is this machine or a
    private network (loopback, RFC 1918, link-local, ``localhost``) is refused: an admin's token
    must not turn the worker into a probe of the internal network. Names are not resolved here
    (README, Known limitations).
    """
    if len(url) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "may not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return "is not a URL"
    if parts.scheme.lower() not in SCHEMES:
        return "must be an http or https URL"
    if not host:
        return "must name a host"
    if parts.fragment:
        return "may not have a fragment"
    if not allow_private and _private_host(host):
        return "must not point to this machine or a private network"
    return None


def events_problem(events: Sequence[str]) -> str | None:
    """What is wrong with the list of event types a webhook wants, if anything."""
    if not events:
        return "must name at least one event type (or '*' for all)"
    if len(set(events)) != len(events):
        return "may not repeat an event type"
    unknown = [e for e in events if e != ALL_EVENTS and e not in EVENT_TYPES]
    if unknown:
        return f"unknown event types {unknown}: use '*' or any of {', '.join(EVENT_TYPES)}"
    return None


def _tuple_of_str(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.define
class Webhook:
    """A registered URL. ``disabled_at`` is set when its receiver answered 410 Gone."""

    id: UUID
    url: str
    events: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    secret: str
    created_at: datetime
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    @classmethod
    def register(
        cls,
        id: UUID,
        url: str,
        events: Sequence[str],
        now: datetime,
        *,
        allow_private: bool = False,
    ) -> Webhook:
        """A new webhook with a new secret, or ``ValidationFailed`` naming url and events."""
        fields: dict[str, str] = {}
        if problem := url_problem(url, allow_private=allow_private):
            fields["url"] = problem
        if problem := events_problem(events):
            fields["events"] = problem
        if fields:
            raise ValidationFailed(fields)
        return cls(id, url, tuple(events), new_secret(), now)

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def wants(self, event_type: str) -> bool:
        """Whether events of this type are sent here (never once disabled)."""
        return self.active and (ALL_EVENTS in self.events or event_type in self.events)

    def disable(self, now: datetime, reason: str) -> None:
        if self.disabled_at is None:
            self.disabled_at, self.disabled_reason = now, reason
