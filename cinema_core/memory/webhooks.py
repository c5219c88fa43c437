"""Webhooks and their delivery log in process memory."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import attrs

from cinema_core.kernel.pagination import Cursor
from cinema_core.webhooks.deliveries import Delivery
from cinema_core.webhooks.webhook import Webhook


class InMemoryWebhookStore:
    """The ``WebhookStore`` port in process memory; thread-safe. It hands out copies, so a
    caller's changes count only once saved, as with a database."""

    def __init__(self) -> None:
        self._webhooks: dict[UUID, Webhook] = {}
        self._deliveries: dict[UUID, Delivery] = {}
        self._owed: set[tuple[UUID, UUID]] = set()
        self._mutex = threading.Lock()

    def add_webhook(self, webhook: Webhook) -> None:
        with self._mutex:
            self._webhooks[webhook.id] = attrs.evolve(webhook)

    def webhooks(self) -> list[Webhook]:
        with self._mutex:
            found = sorted(self._webhooks.values(), key=lambda w: (w.created_at, w.id))
            return [attrs.evolve(w) for w in found]

    def get_webhook(self, webhook_id: UUID) -> Webhook | None:
        with self._mutex:
            webhook = self._webhooks.get(webhook_id)
            return None if webhook is None else attrs.evolve(webhook)

    def remove_webhook(self, webhook_id: UUID) -> bool:
        with self._mutex:
            if self._webhooks.pop(webhook_id, None) is None:
                return False
            for delivery_id, delivery in list(self._deliveries.items()):
                if delivery.webhook_id == webhook_id:
                    del self._deliveries[delivery_id]
                    self._owed.discard((webhook_id, delivery.event_id))
            return True

    def set_secret(self, webhook_id: UUID, secret: str) -> bool:
        with self._mutex:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None:
                return False
            webhook.secret = secret
            return True

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        added = 0
        with self._mutex:
            for delivery in deliveries:
                key = (delivery.webhook_id, delivery.event_id)
                if key in self._owed or delivery.webhook_id not in self._webhooks:
                    continue
                self._owed.add(key)
                self._deliveries[delivery.id] = attrs.evolve(delivery)
                added += 1
        return added

    def deliveries(self, webhook_id: UUID, before: Cursor | None, limit: int) -> list[Delivery]:
        with self._mutex:
            mine = [d for d in self._deliveries.values() if d.webhook_id == webhook_id]
        mine.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        if before is not None:
            mine = [d for d in mine if (d.created_at, d.id) < (before.at, before.id)]
        return [attrs.evolve(d) for d in mine[:limit]]

    def claim_due(
        self, now: datetime, until: datetime, limit: int
    ) -> list[tuple[Delivery, Webhook]]:
        with self._mutex:
            due = [
                d
                for d in self._deliveries.values()
                if d.status == "pending"
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
                and self._webhooks[d.webhook_id].active
            ]
            due.sort(key=lambda d: (d.next_attempt_at or now, d.created_at, d.id))
            claimed = []
            for delivery in due[:limit]:
                delivery.next_attempt_at = until
                webhook = self._webhooks[delivery.webhook_id]
                claimed.append((attrs.evolve(delivery), attrs.evolve(webhook)))
            return claimed

    def save_attempts(self, attempts: Sequence[tuple[Delivery, int]]) -> set[UUID]:
        saved = set()
        with self._mutex:
            for delivery, before in attempts:
                kept = self._deliveries.get(delivery.id)
                if kept is None or kept.attempts != before or kept.status != "pending":
                    continue
                self._deliveries[delivery.id] = attrs.evolve(delivery)
                saved.add(delivery.id)
        return saved

    def disable_webhook(self, webhook_id: UUID, now: datetime, reason: str) -> None:
        with self._mutex:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None:
                return
            webhook.disable(now, reason)
            for delivery in self._deliveries.values():
                if delivery.webhook_id == webhook_id and delivery.status == "pending":
                    delivery.status, delivery.next_attempt_at = "disabled", None
