"""Webhooks' use cases: an admin's registrations, the fan-out of published events into
deliveries (a consumer of the event bus, in the worker), and sending what is due.

Nothing here runs in a buyer's request: the fan-out is a consumer fed by the relay, and the
sends are the worker's loops, so a slow or dead receiver never slows a sale down.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from cinema_core.events.consumers import Consumer
from cinema_core.events.envelopes import Event
from cinema_core.kernel.clock import Clock
from cinema_core.kernel.pagination import Cursor

from .backoff import Backoff
from .deliveries import Delivery, Outcome
from .signing import EVENT_ID_HEADER, SIGNATURE_HEADER, Signer
from .webhook import Webhook, WebhookNotFound, new_secret

if TYPE_CHECKING:
    from cinema_core.ports import WebhookSender, WebhookStore

log = logging.getLogger("cinema.webhooks")
# How long a claimed delivery is left alone beyond its sender's timeout: a worker killed while
# sending gives it back after this, to be sent again (at least once).
LEASE_MARGIN = 30.0


class Webhooks:
    """Registering webhooks, owing them events, and paying what is owed."""

    def __init__(
        self,
        store: WebhookStore,
        sender: WebhookSender,
        clock: Clock,
        *,
        timeout: float = 5.0,
        backoff: Backoff | None = None,
        allow_private: bool = False,
        new_id: Callable[[], UUID] = uuid.uuid4,
    ):
        self.store = store
        self.sender = sender
        self.clock = clock
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.allow_private = allow_private
        self._new_id = new_id

    # -- an admin's ---------------------------------------------------------------------

    def register(self, url: str, events: Sequence[str]) -> Webhook:
        """A new webhook (with its secret, which only this answer shows)."""
        webhook = Webhook.register(
            self._new_id(), url, events, self.clock.now(), allow_private=self.allow_private
        )
        self.store.add_webhook(webhook)
        return webhook

    def all(self) -> list[Webhook]:
        return self.store.webhooks()

    def get(self, webhook_id: UUID) -> Webhook:
        webhook = self.store.get_webhook(webhook_id)
        if webhook is None:
            raise WebhookNotFound()
        return webhook

    def remove(self, webhook_id: UUID) -> None:
        if not self.store.remove_webhook(webhook_id):
            raise WebhookNotFound()

    def rotate_secret(self, webhook_id: UUID) -> Webhook:
        """A new secret, used for every send from now on (retries of older events too)."""
        secret = new_secret()
        if not self.store.set_secret(webhook_id, secret):
            raise WebhookNotFound()
        return self.get(webhook_id)

    def deliveries(self, webhook_id: UUID, before: Cursor | None, limit: int) -> list[Delivery]:
        self.get(webhook_id)
        return self.store.deliveries(webhook_id, before, limit)

    # -- the worker's -------------------------------------------------------------------

    def fan_out(self, events: Sequence[Event]) -> int:
        """Owe each event to every active webhook that wants it; returns deliveries made."""
        hooks = [w for w in self.store.webhooks() if w.active]
        if not hooks:
            return 0
        now = self.clock.now()
        owed = [
            Delivery.of(self._new_id(), hook.id, event, now)
            for event in events
            for hook in hooks
            if hook.wants(event.type)
        ]
        return self.store.add_deliveries(owed) if owed else 0

    def send_due(self, limit: int = 20) -> int:
        """Send up to ``limit`` due deliveries, one after another, and record their attempts
        together (one write for the batch); returns how many were claimed.

        A sender killed half-way records nothing of its batch: the lease gives it back and it is
        sent again (at least once, as always; receivers dedup by ``Cinema-Event-Id``)."""
        now = self.clock.now()
        lease = timedelta(seconds=self.timeout * limit + LEASE_MARGIN)
        claimed = self.store.claim_due(now, now + lease, limit)
        signers: dict[UUID, Signer] = {}
        gone: set[UUID] = set()
        attempts: list[tuple[Delivery, int]] = []
        for delivery, webhook in claimed:
            # The rest of a batch is not sent to a receiver that has just said 410 (they read
            # disabled already); another sender's claim in flight may still reach it once.
            if webhook.id in gone:
                continue
            signer = signers.get(webhook.id)
            if signer is None:
                signer = signers[webhook.id] = Signer(webhook.secret)
            outcome = self._send(webhook.url, delivery, signer)
            attempts.append((delivery, delivery.attempts))
            delivery.attempted(outcome, self.clock.now(), self.backoff)
            if not outcome.delivered:
                log.debug(
                    "webhook delivery failed",
                    extra={
                        "webhook_id": str(webhook.id),
                        "event_id": str(delivery.event_id),
                        "attempts": delivery.attempts,
                        "status": delivery.status,
                        "reason": delivery.last_error,
                    },
                )
            if outcome.gone:
                gone.add(webhook.id)
                # Its attempt must be in the log before the webhook's pending ones are closed.
                saved, attempts = self.store.save_attempts(attempts), []
                if delivery.id in saved:
                    log.warning(
                        "webhook disabled: its receiver answered 410", extra={"url": webhook.url}
                    )
                    self.store.disable_webhook(webhook.id, self.clock.now(), "gone")
        if attempts:
            self.store.save_attempts(attempts)
        return len(claimed)

    def _send(self, url: str, delivery: Delivery, signer: Signer) -> Outcome:
        sent_at = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "cinema-webhooks/1",
            EVENT_ID_HEADER: str(delivery.event_id),
            "Cinema-Event-Type": delivery.event_type,
            SIGNATURE_HEADER: signer.sign(delivery.body, sent_at),
        }
        return self.sender.send(url, delivery.body, headers)


def webhook_consumer(webhooks: Webhooks) -> Consumer:
    """The consumer that turns every published event into the deliveries it owes; idempotent,
    as a (webhook, event) is owed once however often the event comes."""

    def owe(events: Sequence[Event]) -> None:
        webhooks.fan_out(events)

    return Consumer("webhooks", ["#"], handle_batch=owe, idempotent=True)
