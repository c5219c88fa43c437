"""Webhooks' rules: the backoff schedule, the signature, registration, and what each answer
of a receiver does to a delivery, on a clock turned by hand."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import uuid4

import pytest

from cinema_core import ManualClock, ValidationFailed
from cinema_core.events.envelopes import Event
from cinema_core.memory import InMemoryWebhookStore
from cinema_core.webhooks import Backoff, Outcome, sign, verify
from cinema_core.webhooks.use_cases import Webhooks
from tests.webhook_senders import ScriptedSender

URL = "https://hooks.example.com/cinema"


def event(clock: ManualClock, type: str = "payment.confirmed") -> Event:
    return Event(uuid4(), type, clock.now(), {"sale_id": str(uuid4())})


def webhooks_with(clock: ManualClock, sender: ScriptedSender) -> Webhooks:
    return Webhooks(InMemoryWebhookStore(), sender, clock)


def test_backoff_doubles_from_two_seconds_up_to_an_hour() -> None:
    """Retry n waits 2·2^(n-1) s (capped at 1 h) times a jitter factor in [0.5, 1)."""
    backoff = Backoff()
    assert [backoff.delay(n, jitter=1.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff.delay(12, jitter=1.0) == 3600.0
    assert backoff.delay(10_000, jitter=1.0) == 3600.0
    assert backoff.delay(3, jitter=0.5) == 4.0
    delays = {backoff.delay(5) for _ in range(50)}
    assert all(16.0 <= d < 32.0 for d in delays)
    assert len(delays) > 1


def test_backoff_gives_up_after_a_day(clock: ManualClock) -> None:
    """A next attempt that would fall more than 24 h after the delivery was made is none."""
    made = clock.now()
    backoff = Backoff()
    assert backoff.next_attempt(made, made + timedelta(hours=23), 20, jitter=1.0) is not None
    late = made + timedelta(hours=23, minutes=30)
    assert backoff.next_attempt(made, late, 30, jitter=1.0) is None


def test_a_signature_verifies_with_its_secret_only_and_not_when_stale() -> None:
    """v1 is the HMAC-SHA256 of "<t>.<body>": the wrong secret, a changed body or a
    timestamp older than the tolerance fail."""
    body = b'{"id":"1"}'
    header = sign("secret", body, 1_800_000_000)
    timestamp, v1 = header.split(",")
    assert timestamp == "t=1800000000"
    assert len(v1) == len("v1=") + 64
    assert verify("secret", header, body, now=1_800_000_100)
    assert not verify("other", header, body, now=1_800_000_100)
    assert not verify("secret", header, body + b" ", now=1_800_000_100)
    assert not verify("secret", header, body, now=1_800_001_000)
    assert not verify("secret", "v1=abc", body, now=1_800_000_000)


@pytest.mark.parametrize(
    ("url", "events", "bad"),
    [
        ("ftp://example.com/x", ["payment.confirmed"], {"url"}),
        ("https://", ["payment.confirmed"], {"url"}),
        ("http://127.0.0.1:8080/x", ["*"], {"url"}),
        ("http://10.1.2.3/x", ["*"], {"url"}),
        ("http://localhost/x", ["*"], {"url"}),
        ("http://[::1]/x", ["*"], {"url"}),
        ("https://example.com/a b", ["*"], {"url"}),
        (URL, [], {"events"}),
        (URL, ["payment.confirmed", "payment.confirmed"], {"events"}),
        (URL, ["payment.nope"], {"events"}),
        ("nope", ["nope"], {"url", "events"}),
    ],
)
def test_registration_refuses_bad_urls_and_unknown_event_types(
    clock: ManualClock, url: str, events: list[str], bad: set[str]
) -> None:
    """Only http(s) URLs of public hosts, and known event types (or '*'), non-empty, once."""
    with pytest.raises(ValidationFailed) as refused:
        webhooks_with(clock, ScriptedSender()).register(url, events)
    assert set(refused.value.fields) == bad


def test_private_addresses_are_allowed_when_the_operator_says_so(clock: ManualClock) -> None:
    """With allow_private a receiver on this machine may be registered."""
    webhooks = Webhooks(InMemoryWebhookStore(), ScriptedSender(), clock, allow_private=True)
    assert webhooks.register("http://127.0.0.1:8080/x", ["*"]).active


def test_each_event_goes_to_the_webhooks_that_want_it_signed(clock: ManualClock) -> None:
    """A webhook gets the types it named ('*': all), as the envelope, with the event id and a
    signature its secret verifies; an event fanned out twice is sent once."""
    sender = ScriptedSender()
    webhooks = webhooks_with(clock, sender)
    paid = webhooks.register(URL + "/paid", ["payment.confirmed"])
    every = webhooks.register(URL + "/all", ["*"])
    confirmed, created = event(clock), event(clock, "session.created")
    assert webhooks.fan_out([confirmed, created]) == 3
    assert webhooks.fan_out([confirmed]) == 0
    assert webhooks.send_due() == 3
    assert webhooks.send_due() == 0
    by_url = {(s.url, s.headers["Cinema-Event-Id"]) for s in sender.sent}
    assert by_url == {
        (paid.url, str(confirmed.id)),
        (every.url, str(confirmed.id)),
        (every.url, str(created.id)),
    }
    secrets = {paid.url: paid.secret, every.url: every.secret}
    now = int(clock.now().timestamp())
    for sent in sender.sent:
        assert verify(secrets[sent.url], sent.headers["Cinema-Signature"], sent.body, now=now)
        assert json.loads(sent.body)["id"] == sent.headers["Cinema-Event-Id"]
    log = webhooks.deliveries(every.id, None, 10)
    assert {d.status for d in log} == {"delivered"}
    assert {d.attempts for d in log} == {1}


def test_failures_are_retried_on_the_backoff_schedule_until_a_2xx(clock: ManualClock) -> None:
    """A 500 and a timeout are attempts logged with their error; the delivery is due again
    only after its backoff, and delivered by the 2xx that follows."""
    sender = ScriptedSender([Outcome(status=500), Outcome(error="timed out after 5 s")])
    webhooks = webhooks_with(clock, sender)
    hook = webhooks.register(URL, ["*"])
    webhooks.fan_out([event(clock)])
    assert webhooks.send_due() == 1
    [delivery] = webhooks.deliveries(hook.id, None, 10)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at is not None
    assert 1.0 <= (delivery.next_attempt_at - clock.now()).total_seconds() < 2.0
    assert webhooks.send_due() == 0  # not yet due
    clock.advance(2)
    assert webhooks.send_due() == 1
    [delivery] = webhooks.deliveries(hook.id, None, 10)
    assert (delivery.attempts, delivery.last_error) == (2, "timed out after 5 s")
    clock.advance(4)
    assert webhooks.send_due() == 1
    [delivery] = webhooks.deliveries(hook.id, None, 10)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)
    assert len({s.headers["Cinema-Event-Id"] for s in sender.sent}) == 1
    assert len({s.body for s in sender.sent}) == 1


def test_a_delivery_failing_for_a_day_is_given_up(clock: ManualClock) -> None:
    """Retries stop once the next would be more than 24 h after the event came: failed."""
    webhooks = webhooks_with(clock, ScriptedSender(then=Outcome(status=503)))
    hook = webhooks.register(URL, ["*"])
    webhooks.fan_out([event(clock)])
    attempts = 0
    while webhooks.send_due():
        attempts += 1
        clock.advance(3600)
    [delivery] = webhooks.deliveries(hook.id, None, 10)
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None
    assert delivery.attempts == attempts
    assert delivery.last_attempt_at is not None
    assert delivery.last_attempt_at - delivery.created_at <= timedelta(hours=24)
    assert 20 <= attempts <= 40


def test_a_410_disables_the_webhook_and_its_pending_deliveries(clock: ManualClock) -> None:
    """Gone: the webhook reads disabled, nothing more is sent to it, new events owe nothing."""
    sender = ScriptedSender([Outcome(status=410)])
    webhooks = webhooks_with(clock, sender)
    hook = webhooks.register(URL, ["*"])
    webhooks.fan_out([event(clock), event(clock)])
    assert webhooks.send_due(limit=1) == 1
    assert webhooks.get(hook.id).disabled_reason == "gone"
    assert not webhooks.get(hook.id).active
    assert webhooks.send_due() == 0
    assert webhooks.fan_out([event(clock)]) == 0
    assert sorted(d.status for d in webhooks.deliveries(hook.id, None, 10)) == [
        "disabled",
        "disabled",
    ]
    assert len(sender.sent) == 1


def test_a_rotated_secret_signs_every_send_from_then_on(clock: ManualClock) -> None:
    """After rotation the new secret signs (retries of older events too); the old does not."""
    sender = ScriptedSender([Outcome(status=401)])
    webhooks = webhooks_with(clock, sender)
    hook = webhooks.register(URL, ["*"])
    webhooks.fan_out([event(clock)])
    webhooks.send_due()
    rotated = webhooks.rotate_secret(hook.id)
    assert rotated.secret != hook.secret
    clock.advance(2)
    webhooks.send_due()
    last = sender.sent[-1]
    now = int(clock.now().timestamp())
    assert verify(rotated.secret, last.headers["Cinema-Signature"], last.body, now=now)
    assert not verify(hook.secret, last.headers["Cinema-Signature"], last.body, now=now)


def test_a_sender_that_died_holding_a_claim_gives_it_back_after_the_lease(
    clock: ManualClock,
) -> None:
    """A claimed delivery is no one else's until its lease (timeout × batch + 30 s) ends,
    then it is due again with its attempts unchanged."""
    store = InMemoryWebhookStore()
    webhooks = Webhooks(store, ScriptedSender(), clock, timeout=5)
    webhooks.register(URL, ["*"])
    webhooks.fan_out([event(clock)])
    [_] = store.claim_due(clock.now(), clock.now() + timedelta(seconds=55), 5)
    assert webhooks.send_due() == 0
    clock.advance(56)
    assert webhooks.send_due() == 1
