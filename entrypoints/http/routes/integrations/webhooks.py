"""Routes of webhooks (admin): register one (its secret shown once), list them, remove one,
rotate its secret, and read its delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import ValidationFailed
from cinema_core.events.envelopes import EVENT_TYPES
from cinema_core.kernel.pagination import Cursor
from cinema_core.webhooks import ALL_EVENTS, WebhookNotFound
from cinema_core.webhooks import Webhook as WebhookModel
from cinema_core.webhooks.deliveries import STATUSES
from cinema_core.webhooks.use_cases import Webhooks
from cinema_core.webhooks.webhook import MAX_EVENTS, MAX_URL
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Param, Reply
from entrypoints.http.framework.shapes import field

EventName = Literal[(*EVENT_TYPES, ALL_EVENTS)]  # type: ignore[valid-type]
DeliveryStatus = Literal[STATUSES]  # type: ignore[valid-type]
EXAMPLE_URL = "https://example.com/cinema-events"


@attrs.frozen
class CreateWebhook:
    """Body of ``POST /webhooks``: where to send events, and which."""

    url: str = field(
        min_length=1,
        max_length=MAX_URL,
        description=(
            "An http or https URL. Addresses of this machine or a private network are refused "
            "unless CINEMA_WEBHOOK_ALLOW_PRIVATE is set."
        ),
        example=EXAMPLE_URL,
    )
    events: list[EventName] = field(
        min_items=1,
        max_items=MAX_EVENTS,
        unique=True,
        description="Event types to send; '*' for every type.",
        example=["payment.confirmed", "sale.refunded"],
    )


def _status(webhook: WebhookModel) -> str:
    return "active" if webhook.active else "disabled"


@attrs.frozen
class Webhook(Answer):
    """A registered webhook (its secret is shown only when it is made or rotated)."""

    id: UUID = out()
    url: str = out(example=EXAMPLE_URL)
    events: list[EventName] = out(lambda w: list(w.events), example=["payment.confirmed"])
    status: Literal["active", "disabled"] = out(
        _status, description="disabled once its receiver answered 410 Gone"
    )
    created_at: datetime = out()
    disabled_at: datetime | None = out()
    disabled_reason: str | None = out(example=None)


@attrs.frozen
class NewWebhook(Answer):
    """A webhook with its signing secret: the only time the secret is shown."""

    id: UUID = out()
    url: str = out(example=EXAMPLE_URL)
    events: list[EventName] = out(lambda w: list(w.events), example=["payment.confirmed"])
    status: Literal["active", "disabled"] = out(_status)
    created_at: datetime = out()
    disabled_at: datetime | None = out()
    disabled_reason: str | None = out(example=None)
    secret: str = out(
        description=(
            "Signs every delivery: Cinema-Signature is t=<unix>,v1=<hex HMAC-SHA256 of "
            "'<t>.<body>'> with it. Keep it: it is not shown again."
        ),
        example="whsec_3q2-7w…",
    )


@attrs.frozen
class WebhookList(Answer):
    """Every webhook, oldest first."""

    items: list[Webhook] = out(lambda found: found)


@attrs.frozen
class Delivery(Answer):
    """One event owed to the webhook, and how sending it went."""

    id: UUID = out()
    event_id: UUID = out()
    event_type: str = out(example="payment.confirmed")
    status: DeliveryStatus = out(
        description=(
            "pending (to be tried, again after a failure), delivered (a 2xx), failed (a day "
            "of failures), disabled (the webhook's receiver answered 410)"
        )
    )
    attempts: int = out(example=1)
    last_status: int | None = out(description="The HTTP status of the last attempt.", example=200)
    last_error: str | None = out(description="What the last failed attempt got.", example=None)
    created_at: datetime = out()
    last_attempt_at: datetime | None = out()
    next_attempt_at: datetime | None = out(description="When it is tried next (pending only).")
    delivered_at: datetime | None = out()


@attrs.frozen
class DeliveryPage(Answer):
    """A page of a webhook's deliveries, newest first; next_cursor asks for the next one."""

    items: list[Delivery] = out(lambda page: page[0])
    next_cursor: str | None = out(lambda page: page[1])


def _webhooks(call: Call) -> Webhooks:
    webhooks = call.services.webhooks
    assert webhooks is not None, "bootstrap always builds the webhooks"
    return webhooks


def create_webhook(call: Call) -> Response:
    body: CreateWebhook = call.body
    webhook = _webhooks(call).register(body.url, body.events)
    return NewWebhook.response(webhook, 201, {"Location": f"/webhooks/{webhook.id}"})


def list_webhooks(call: Call) -> Response:
    return WebhookList.response(_webhooks(call).all())


def delete_webhook(call: Call) -> Response:
    _webhooks(call).remove(call.path_uuid("webhook_id", WebhookNotFound))
    return Response(status_code=204)


def rotate_secret(call: Call) -> Response:
    webhook = _webhooks(call).rotate_secret(call.path_uuid("webhook_id", WebhookNotFound))
    return NewWebhook.response(webhook)


def deliveries(call: Call) -> Response:
    webhook_id = call.path_uuid("webhook_id", WebhookNotFound)
    fields: dict[str, str] = {}
    limit = 50
    try:
        limit = call.limit()
    except ValidationFailed as error:
        fields.update(error.fields)
    before: Cursor | None = None
    if raw := call.cursor():
        try:
            before = Cursor.decode(raw)
        except ValidationFailed as error:
            fields.update(error.fields)
    if fields:
        raise ValidationFailed(fields)
    found = _webhooks(call).deliveries(webhook_id, before, limit + 1)
    page = found[:limit]
    more = Cursor(page[-1].created_at, page[-1].id).encode() if len(found) > limit else None
    return DeliveryPage.response((page, more))


WEBHOOK_NOT_FOUND = Reply("webhook_not_found", "Error")

OPERATIONS = (
    Operation(
        "POST",
        "/webhooks",
        create_webhook,
        "Register a webhook for event types; its secret is in this answer only (admin)",
        {201: Reply("The new webhook, with its secret.", NewWebhook, headers=("Location",))},
        tag="webhooks",
        access="admin",
        body=CreateWebhook,
        description=(
            "Each event of those types is POSTed to the URL as its envelope, with headers "
            "Cinema-Event-Id and Cinema-Signature (t=<unix>,v1=<hex HMAC-SHA256 of "
            "'<t>.<body>'> with the secret). A 2xx is delivered; anything else, a timeout "
            "(CINEMA_WEBHOOK_TIMEOUT_SECONDS, 5 s) or no answer is tried again with exponential "
            "backoff for 24 h; 410 Gone disables the webhook. Redirects are not followed. An "
            "event may come more than once (always with the same Cinema-Event-Id): dedup by it."
        ),
    ),
    Operation(
        "GET",
        "/webhooks",
        list_webhooks,
        "Every webhook, without secrets (admin)",
        {200: Reply("The webhooks, oldest first.", WebhookList)},
        tag="webhooks",
        access="admin",
    ),
    Operation(
        "DELETE",
        "/webhooks/{webhook_id}",
        delete_webhook,
        "Remove a webhook and its delivery log; nothing more is sent to it (admin)",
        {204: Reply("Removed."), 404: WEBHOOK_NOT_FOUND},
        tag="webhooks",
        access="admin",
    ),
    Operation(
        "POST",
        "/webhooks/{webhook_id}/secret",
        rotate_secret,
        "Give a webhook a new secret, shown in this answer only (admin)",
        {200: Reply("The webhook with its new secret.", NewWebhook), 404: WEBHOOK_NOT_FOUND},
        tag="webhooks",
        access="admin",
        description=(
            "The old secret stops at once: every send from now on, retries of older events "
            "too, is signed with the new one. A receiver that refuses a signature it cannot "
            "verify (any non-2xx) gets the event again, signed anew, on the next retry."
        ),
    ),
    Operation(
        "GET",
        "/webhooks/{webhook_id}/deliveries",
        deliveries,
        "A webhook's delivery log, newest first (admin)",
        {200: Reply("A page of deliveries.", DeliveryPage), 404: WEBHOOK_NOT_FOUND},
        tag="webhooks",
        access="admin",
        query=(
            Param(
                "limit",
                "Page size, 1–200 (default 50).",
                {"type": "integer", "minimum": 1, "maximum": 200},
            ),
            Param("cursor", "The next_cursor of the previous page."),
        ),
    ),
)
