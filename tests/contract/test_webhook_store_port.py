"""The WebhookStore port, in memory and on PostgreSQL: the same registrations, the same
delivery log, the same claims, driven through the webhooks' use cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import attrs
import pytest

from cinema_core import ManualClock
from cinema_core.events.envelopes import Event
from cinema_core.kernel.pagination import Cursor
from cinema_core.memory import InMemoryWebhookStore
from cinema_core.webhooks import Outcome, verify
from cinema_core.webhooks.use_cases import Webhooks
from tests.webhook_senders import ScriptedSender

URL = "https://hooks.example.com/cinema"


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemoryWebhookStore()
        return
    from adapters.postgres.webhooks import PostgresWebhookStore

    store = PostgresWebhookStore(request.getfixturevalue("clean_postgres_url"))
    yield store
    store.close()


def event(clock: ManualClock, type: str = "payment.confirmed") -> Event:
    return Event(uuid4(), type, clock.now(), {"sale_id": str(uuid4()), "amount": "25.00"})


def test_a_webhook_is_kept_whole_and_listed_oldest_first(store: Any, clock: ManualClock) -> None:
    """Registered webhooks read back as registered; a new secret replaces the old."""
    webhooks = Webhooks(store, ScriptedSender(), clock)
    first = webhooks.register(URL + "/1", ["payment.confirmed", "sale.refunded"])
    clock.advance(1)
    second = webhooks.register(URL + "/2", ["*"])
    assert [(w.id, w.url, w.events, w.secret) for w in webhooks.all()] == [
        (first.id, first.url, ("payment.confirmed", "sale.refunded"), first.secret),
        (second.id, second.url, ("*",), second.secret),
    ]
    assert webhooks.get(first.id).created_at == first.created_at
    rotated = webhooks.rotate_secret(first.id)
    assert store.get_webhook(first.id).secret == rotated.secret != first.secret
    assert not store.set_secret(uuid4(), "x")
    assert store.remove_webhook(first.id)
    assert not store.remove_webhook(first.id)
    assert [w.id for w in webhooks.all()] == [second.id]


def test_an_event_is_owed_once_per_webhook_and_sent_as_kept(store: Any, clock: ManualClock) -> None:
    """Fanning an event out again adds nothing; what is sent is the stored envelope, signed."""
    sender = ScriptedSender()
    webhooks = Webhooks(store, sender, clock)
    hook = webhooks.register(URL, ["*"])
    paid = event(clock)
    assert webhooks.fan_out([paid]) == 1
    assert webhooks.fan_out([paid]) == 0
    assert webhooks.send_due() == 1
    [sent] = sender.sent
    assert sent.headers["Cinema-Event-Id"] == str(paid.id)
    assert verify(
        hook.secret, sent.headers["Cinema-Signature"], sent.body, now=int(clock.now().timestamp())
    )
    [delivery] = webhooks.deliveries(hook.id, None, 5)
    assert delivery.body == sent.body
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.delivered_at == clock.now()


def test_attempts_and_errors_are_logged_and_due_again_on_schedule(
    store: Any, clock: ManualClock
) -> None:
    """A failed attempt keeps its status or error and its next time; until then, unclaimed."""
    sender = ScriptedSender([Outcome(error="timed out after 5 s"), Outcome(status=502)])
    webhooks = Webhooks(store, sender, clock)
    hook = webhooks.register(URL, ["payment.confirmed"])
    webhooks.fan_out([event(clock), event(clock, "session.created")])
    assert webhooks.send_due() == 1
    [delivery] = webhooks.deliveries(hook.id, None, 5)
    assert (delivery.attempts, delivery.last_status, delivery.last_error) == (
        1,
        None,
        "timed out after 5 s",
    )
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at > clock.now()
    assert webhooks.send_due() == 0
    clock.advance(2)
    assert webhooks.send_due() == 1
    [delivery] = webhooks.deliveries(hook.id, None, 5)
    assert (delivery.attempts, delivery.last_status, delivery.last_error) == (2, 502, "HTTP 502")
    clock.advance(4)
    webhooks.send_due()
    [delivery] = webhooks.deliveries(hook.id, None, 5)
    assert delivery.status == "delivered"
    assert delivery.last_error is None


def test_a_claim_is_taken_once_and_a_stale_attempt_is_not_written(
    store: Any, clock: ManualClock
) -> None:
    """Claimed deliveries are not claimed again before their lease ends; an attempt recorded
    by a claim whose lease lapsed (attempts moved on) is refused."""
    webhooks = Webhooks(store, ScriptedSender(), clock)
    webhooks.register(URL, ["*"])
    webhooks.fan_out([event(clock)])
    now = clock.now()
    [(first, hook)] = store.claim_due(now, now + timedelta(seconds=30), 5)
    assert hook.url == URL
    assert store.claim_due(now, now + timedelta(seconds=30), 5) == []
    later = now + timedelta(seconds=31)
    [(second, _)] = store.claim_due(later, later + timedelta(seconds=30), 5)
    second.attempted(Outcome(status=200), later, webhooks.backoff)
    assert store.save_attempts([(second, 0)]) == {second.id}
    first.attempted(Outcome(status=500), later, webhooks.backoff)
    assert store.save_attempts([(first, 0)]) == set()
    assert store.deliveries(hook.id, None, 5)[0].status == "delivered"


def test_a_batch_of_attempts_is_written_at_once_but_the_stale_ones(
    store: Any, clock: ManualClock
) -> None:
    """One write records a sender's whole batch: each delivery as its attempt left it, except
    one whose attempts moved on since (another claim's), which is left as that claim wrote it."""
    webhooks = Webhooks(store, ScriptedSender(), clock)
    hook = webhooks.register(URL, ["*"])
    webhooks.fan_out([event(clock) for _ in range(3)])
    now = clock.now()
    claimed = [d for d, _ in store.claim_due(now, now + timedelta(seconds=30), 5)]
    assert len(claimed) == 3
    stale = claimed[2]
    stale.attempted(Outcome(status=200), now, webhooks.backoff)
    assert store.save_attempts([(stale, 0)]) == {stale.id}
    claimed[0].attempted(Outcome(status=200), now, webhooks.backoff)
    claimed[1].attempted(Outcome(status=503), now, webhooks.backoff)
    retried = attrs.evolve(stale, attempts=1, status="pending")
    retried.attempted(Outcome(status=500), now, webhooks.backoff)
    saved = store.save_attempts([(claimed[0], 0), (claimed[1], 0), (retried, 0)])
    assert saved == {claimed[0].id, claimed[1].id}
    log = {d.id: d for d in store.deliveries(hook.id, None, 5)}
    assert log[claimed[0].id].status == "delivered"
    assert (log[claimed[1].id].status, log[claimed[1].id].last_status) == ("pending", 503)
    assert (log[stale.id].status, log[stale.id].attempts) == ("delivered", 1)
    assert store.save_attempts([]) == set()


def test_disabling_stops_every_pending_delivery(store: Any, clock: ManualClock) -> None:
    """A disabled webhook's pending deliveries read disabled and are never claimed."""
    webhooks = Webhooks(store, ScriptedSender([Outcome(status=410)]), clock)
    hook = webhooks.register(URL, ["*"])
    webhooks.fan_out([event(clock) for _ in range(3)])
    assert webhooks.send_due(limit=1) == 1
    disabled = webhooks.get(hook.id)
    assert (disabled.disabled_at, disabled.disabled_reason) == (clock.now(), "gone")
    assert {d.status for d in webhooks.deliveries(hook.id, None, 5)} == {"disabled"}
    clock.advance(3600)
    assert store.claim_due(clock.now(), clock.now(), 5) == []


def test_the_log_pages_newest_first_and_goes_with_its_webhook(
    store: Any, clock: ManualClock
) -> None:
    """Deliveries page by (created_at, id) descending without overlap; removing the webhook
    removes its log."""
    webhooks = Webhooks(store, ScriptedSender(), clock)
    hook = webhooks.register(URL, ["*"])
    other = webhooks.register(URL + "/other", ["session.created"])
    for _ in range(7):
        webhooks.fan_out([event(clock), event(clock)])
        clock.advance(1)
    seen: list[Any] = []
    before = None
    while True:
        page = store.deliveries(hook.id, before, 3)
        seen += page
        if len(page) < 3:
            break
        before = Cursor(page[-1].created_at, page[-1].id)
    assert len(seen) == len({d.id for d in seen}) == 14
    keys = [(d.created_at, d.id) for d in seen]
    assert keys == sorted(keys, reverse=True)
    assert store.deliveries(other.id, None, 10) == []
    store.remove_webhook(hook.id)
    assert store.deliveries(hook.id, None, 10) == []
    assert store.add_deliveries([]) == 0
