"""Webhook senders racing for the same due deliveries on PostgreSQL: each delivery is taken by
one claim only, so no event is sent twice at once by two senders (threads or workers).

The guard is the claim's row lock (``FOR UPDATE OF d SKIP LOCKED``, sql/webhooks.py). The
CONTROL RUN claims through tests/unguarded_postgres.py's store, the same statement without
the lock: claims released together take the same deliveries.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from adapters.postgres.webhooks import PostgresWebhookStore
from cinema_core import ManualClock
from cinema_core.events.envelopes import Event
from cinema_core.webhooks.use_cases import Webhooks
from tests.concurrency import run_together
from tests.unguarded_postgres import UnguardedWebhookStore
from tests.webhook_senders import ScriptedSender

pytestmark = pytest.mark.postgres

THREADS = 8
ROUNDS = 5
DUE = 20
BATCH = 5


@pytest.fixture
def stores(clean_postgres_url: str) -> Iterator[tuple[Any, Any]]:
    guarded = PostgresWebhookStore(clean_postgres_url)
    unguarded = UnguardedWebhookStore(clean_postgres_url)
    yield guarded, unguarded
    guarded.close()
    unguarded.close()


def claim(store: Any, now: datetime, _: int) -> Any:
    return store.claim_due(now, now + timedelta(minutes=1), BATCH)


def claimed_twice(store: Any, clock: ManualClock) -> int:
    """Claims released together over DUE due deliveries: how many were taken more than once,
    summed over the rounds."""
    webhooks = Webhooks(store, ScriptedSender(), clock)
    webhooks.register("https://hooks.example.com/race", ["*"])
    doubled = 0
    for _ in range(ROUNDS):
        events = [Event(uuid4(), "payment.confirmed", clock.now(), {}) for _ in range(DUE)]
        webhooks.fan_out(events)
        results = run_together(THREADS, functools.partial(claim, store, clock.now()))
        taken = [delivery.id for claim in results for delivery, _ in claim]
        doubled += len(taken) - len(set(taken))
        # The next round races over deliveries of its own: this round's are set aside.
        store.disable_webhook(webhooks.all()[-1].id, clock.now(), "round over")
        webhooks = Webhooks(store, ScriptedSender(), clock)
        webhooks.register("https://hooks.example.com/race", ["*"])
    return doubled


def test_control_unlocked_claims_take_the_same_deliveries(
    stores: tuple[Any, Any], clock: ManualClock
) -> None:
    """CONTROL: without the lock, claims released together take deliveries twice."""
    _, unguarded = stores
    doubled = claimed_twice(unguarded, clock)
    print(f"control: {doubled} deliveries claimed twice in {ROUNDS} rounds")
    assert doubled > 0


def test_locked_claims_never_take_a_delivery_twice(
    stores: tuple[Any, Any], clock: ManualClock
) -> None:
    """GUARDED: with the lock, every delivery is in one claim only, round after round."""
    guarded, _ = stores
    doubled = claimed_twice(guarded, clock)
    print(f"guarded: {doubled} deliveries claimed twice in {ROUNDS} rounds")
    assert doubled == 0
