"""The ``WebhookStore`` port in PostgreSQL: the ``webhooks`` and ``webhook_deliveries`` tables
(migration 0011). Every call is one transaction; claims lock what they pick (sql.webhooks)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cinema_core.kernel.pagination import Cursor
from cinema_core.webhooks.deliveries import Delivery
from cinema_core.webhooks.webhook import Webhook

from .driver_errors import unavailable
from .engine import engine_for
from .executor import Executor
from .sql import webhooks as sql

T = TypeVar("T")


def _webhook(row: dict[str, Any], prefix: str = "") -> Webhook:
    return Webhook(
        row[prefix + "id"] if not prefix else row["webhook_id"],
        row[prefix + "url"],
        tuple(row[prefix + "events"]),
        row[prefix + "secret"],
        row[prefix + "created_at"],
        row[prefix + "disabled_at"],
        row[prefix + "disabled_reason"],
    )


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(
        row["id"],
        row["webhook_id"],
        row["event_id"],
        row["event_type"],
        bytes(row["body"]),
        row["created_at"],
        row["status"],
        row["attempts"],
        row["next_attempt_at"],
        row["last_attempt_at"],
        row["last_status"],
        row["last_error"],
        row["delivered_at"],
    )


class PostgresWebhookStore:
    """Webhooks and their delivery log on one engine (the box office's, or one of its own)."""

    claim_sql = sql.CLAIM_DUE

    def __init__(self, engine_or_url: Engine | str):
        self.engine, self._owns_engine = engine_for(engine_or_url)

    def _run(self, doing: str, work: Callable[[Executor], T]) -> T:
        try:
            with self.engine.begin() as connection:
                return work(Executor(connection))
        except sa.exc.SQLAlchemyError as error:
            raise unavailable(error, doing) from error

    def _rows(self, doing: str, text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._run(doing, lambda db: list(db.execute(text, params, mapped=True)))

    def _count(self, doing: str, text: str, params: dict[str, Any]) -> int:
        return self._run(doing, lambda db: db.execute(text, params).rowcount)

    def add_webhook(self, webhook: Webhook) -> None:
        params = {
            "id": webhook.id,
            "url": webhook.url,
            "events": list(webhook.events),
            "secret": webhook.secret,
            "created_at": webhook.created_at,
            "disabled_at": webhook.disabled_at,
            "disabled_reason": webhook.disabled_reason,
        }
        self._count("registering a webhook", sql.ADD_WEBHOOK, params)

    def webhooks(self) -> list[Webhook]:
        return [_webhook(row) for row in self._rows("reading the webhooks", sql.WEBHOOKS, {})]

    def get_webhook(self, webhook_id: UUID) -> Webhook | None:
        found = self._rows("reading a webhook", sql.WEBHOOK, {"id": webhook_id})
        return _webhook(found[0]) if found else None

    def remove_webhook(self, webhook_id: UUID) -> bool:
        return self._count("removing a webhook", sql.REMOVE_WEBHOOK, {"id": webhook_id}) > 0

    def set_secret(self, webhook_id: UUID, secret: str) -> bool:
        params = {"id": webhook_id, "secret": secret}
        return self._count("rotating a webhook's secret", sql.SET_SECRET, params) > 0

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        if not deliveries:
            return 0
        params = {
            "ids": [d.id for d in deliveries],
            "webhooks": [d.webhook_id for d in deliveries],
            "events": [d.event_id for d in deliveries],
            "types": [d.event_type for d in deliveries],
            "bodies": [d.body for d in deliveries],
            "made": [d.created_at for d in deliveries],
        }
        return self._count("recording webhook deliveries", sql.ADD_DELIVERIES, params)

    def deliveries(self, webhook_id: UUID, before: Cursor | None, limit: int) -> list[Delivery]:
        params = {
            "webhook_id": webhook_id,
            "at": None if before is None else before.at,
            "id": None if before is None else before.id,
            "limit": limit,
        }
        rows = self._rows("reading a webhook's deliveries", sql.DELIVERIES, params)
        return [_delivery(row) for row in rows]

    def claim_due(
        self, now: datetime, until: datetime, limit: int
    ) -> list[tuple[Delivery, Webhook]]:
        params = {"now": now, "until": until, "limit": limit}
        rows = self._rows("claiming due webhook deliveries", self.claim_sql, params)
        claimed = [(_delivery(row), _webhook(row, "w_")) for row in rows]
        # RETURNING gives no order: oldest due first, as the claim picked them.
        claimed.sort(key=lambda pair: (pair[0].created_at, pair[0].id))
        return claimed

    def save_attempts(self, attempts: Sequence[tuple[Delivery, int]]) -> set[UUID]:
        if not attempts:
            return set()
        params = {
            "ids": [d.id for d, _ in attempts],
            "before": [before for _, before in attempts],
            "statuses": [d.status for d, _ in attempts],
            "attempts": [d.attempts for d, _ in attempts],
            "next": [d.next_attempt_at for d, _ in attempts],
            "last": [d.last_attempt_at for d, _ in attempts],
            "codes": [d.last_status for d, _ in attempts],
            "errors": [d.last_error for d, _ in attempts],
            "delivered": [d.delivered_at for d, _ in attempts],
        }
        rows = self._run(
            "recording webhook attempts",
            lambda db: db.execute(sql.SAVE_ATTEMPTS, params).fetchall(),
        )
        return {row[0] for row in rows}

    def disable_webhook(self, webhook_id: UUID, now: datetime, reason: str) -> None:
        def disable(db: Executor) -> None:
            db.execute(sql.DISABLE_WEBHOOK, {"id": webhook_id, "now": now, "reason": reason})
            db.execute(sql.DISABLE_PENDING, {"id": webhook_id})

        self._run("disabling a webhook", disable)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()
