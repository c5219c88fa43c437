"""The Mercado Pago adapter against the stand-in: what it sends, how failures read, and how
webhook deliveries are verified."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from adapters.mercadopago import BadSignature, MercadoPagoProvider, read_notice, verified_charge_id
from adapters.mercadopago.notifications import sign
from cinema_core import ManualClock, Money
from cinema_core.payments import (
    Charge,
    ChargeRequest,
    ChargeStatus,
    PaymentProviderUnavailable,
    RefundRefused,
)
from tests.mercadopago_standin import MercadoPagoStandIn, NoticeInbox

SECRET = "standin-webhook-secret"


@pytest.fixture
def standin(clock: ManualClock) -> Iterator[MercadoPagoStandIn]:
    with MercadoPagoStandIn(webhook_secret=SECRET, clock=clock) as standin:
        yield standin


@pytest.fixture
def provider(standin: MercadoPagoStandIn) -> Iterator[MercadoPagoProvider]:
    provider = MercadoPagoProvider(standin.access_token, api_base=standin.url)
    yield provider
    provider.close()


@pytest.fixture
def inbox() -> Iterator[NoticeInbox]:
    inbox = NoticeInbox()
    yield inbox
    inbox.close()


def _request(
    clock: ManualClock, key: str = "attempt-1", notification_url: str | None = None
) -> ChargeRequest:
    return ChargeRequest(
        payment_id=uuid.uuid4(),
        amount=Money.parse("37.50"),
        description="2 seats, Dune, room 1",
        expires_at=clock.now() + timedelta(minutes=10),
        idempotency_key=key,
        notification_url=notification_url
        or "https://box.example/payments/mercadopago/notifications",
        payer_email="buyer@example.com",
    )


def _paid(provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock) -> Charge:
    charge = provider.start(_request(clock))
    standin.approve(charge.charge_id)
    return charge


# What the adapter sends.


def test_a_charge_is_asked_for_as_mercado_pago_documents(
    provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock
) -> None:
    """POST /v1/payments carries the bearer token, the attempt's key and a Pix body."""
    request = _request(clock)
    provider.start(request)
    [seen] = standin.requests("POST")
    assert seen.path == "/v1/payments"
    assert seen.headers["authorization"] == f"Bearer {standin.access_token}"
    assert seen.headers["x-idempotency-key"] == "attempt-1"
    body = seen.body
    assert body["payment_method_id"] == "pix"
    assert body["transaction_amount"] == Decimal("37.5")
    assert body["description"] == "2 seats, Dune, room 1"
    assert body["external_reference"] == str(request.payment_id)
    assert body["notification_url"] == request.notification_url
    assert body["payer"] == {"email": "buyer@example.com"}
    expiry = datetime.fromisoformat(body["date_of_expiration"])
    assert expiry.utcoffset() is not None
    assert expiry == request.expires_at


def test_amounts_travel_as_exact_numbers(
    provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock
) -> None:
    """Cents survive the JSON number both ways, however many digits the amount has."""
    for text in ("0.01", "0.10", "19.99", "1234567890123.45"):
        request = _request(clock, key=f"key-{text}")
        request = attrs.evolve(request, amount=Money.parse(text))
        charge = provider.start(request)
        assert standin.requests("POST")[-1].body["transaction_amount"] == Decimal(text)
        assert charge.amount == Money.parse(text)


def test_each_attempt_sends_its_own_idempotency_key(
    provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock
) -> None:
    """A retry of one attempt sends its key again; a new attempt's new key makes a new charge."""
    first = provider.start(_request(clock, key="attempt-1"))
    retried = provider.start(_request(clock, key="attempt-1"))
    second = provider.start(_request(clock, key="attempt-2"))
    keys = [seen.headers["x-idempotency-key"] for seen in standin.requests("POST")]
    assert keys == ["attempt-1", "attempt-1", "attempt-2"]
    assert retried.charge_id == first.charge_id != second.charge_id


def test_cancel_and_refund_are_sent_as_documented(
    provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock
) -> None:
    """Cancel is PUT {"status": "cancelled"}; a refund POSTs {"amount"} with its own key."""
    pending = provider.start(_request(clock, key="attempt-1"))
    provider.cancel(pending.charge_id)
    [put] = standin.requests("PUT")
    assert (put.path, put.body) == (f"/v1/payments/{pending.charge_id}", {"status": "cancelled"})
    paid = provider.start(_request(clock, key="attempt-2"))
    standin.approve(paid.charge_id)
    provider.refund(paid.charge_id, Money.parse("12.50"), "refund-1")
    [refund] = standin.requests("POST", f"/v1/payments/{paid.charge_id}/refunds")
    assert refund.body == {"amount": Decimal("12.5")}
    assert refund.headers["x-idempotency-key"] == "refund-1"


def test_a_charge_carrying_no_payment_id_of_ours_has_no_reference(
    provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock
) -> None:
    """A charge whose external_reference is no UUID reads with reference None: not ours."""
    charge = provider.start(_request(clock))
    with standin._lock:
        standin._charges[charge.charge_id]["external_reference"] = "order-77"
    assert provider.read(charge.charge_id).reference is None


# How failures read.


def test_a_provider_that_hangs_is_unavailable_within_five_seconds(
    provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock
) -> None:
    """No answer within the 5 s bound is PaymentProviderUnavailable, not a wait without end."""
    standin.failure = "hang"
    started = time.monotonic()
    with pytest.raises(PaymentProviderUnavailable) as raised:
        provider.start(_request(clock))
    assert time.monotonic() - started < 8
    assert raised.value.status == 503
    assert raised.value.details["retry_after_seconds"] > 0


@pytest.mark.parametrize("failure", ["error", "garbage"])
def test_a_failing_or_garbled_answer_is_unavailable(
    provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock, failure: str
) -> None:
    """A 500 or an answer that is no JSON is PaymentProviderUnavailable on every call."""
    charge = provider.start(_request(clock))
    standin.failure = failure  # type: ignore[assignment]
    with pytest.raises(PaymentProviderUnavailable):
        provider.start(_request(clock, key="attempt-2"))
    with pytest.raises(PaymentProviderUnavailable):
        provider.read(charge.charge_id)
    with pytest.raises(PaymentProviderUnavailable):
        provider.cancel(charge.charge_id)
    with pytest.raises(PaymentProviderUnavailable):
        provider.refund(charge.charge_id, Money.parse("1.00"), "refund-1")


def test_an_unreachable_provider_is_unavailable(clock: ManualClock) -> None:
    """Nobody listening at the address is PaymentProviderUnavailable, at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = MercadoPagoProvider("token", api_base=f"http://127.0.0.1:{port}")
    with pytest.raises(PaymentProviderUnavailable):
        provider.start(_request(clock))
    provider.close()


def test_a_wrong_access_token_is_unavailable(
    standin: MercadoPagoStandIn, clock: ManualClock
) -> None:
    """A 401 (our credentials) is no buyer's fault: PaymentProviderUnavailable."""
    provider = MercadoPagoProvider("TEST-wrong", api_base=standin.url)
    with pytest.raises(PaymentProviderUnavailable):
        provider.start(_request(clock))
    provider.close()


def test_a_refund_the_provider_refuses_is_refund_refused(
    provider: MercadoPagoProvider, standin: MercadoPagoStandIn, clock: ManualClock
) -> None:
    """A 400 to a refund is RefundRefused, and the charge keeps its money."""
    charge = _paid(provider, standin, clock)
    standin.refuse_refunds = True
    with pytest.raises(RefundRefused):
        provider.refund(charge.charge_id, Money.parse("1.00"), "refund-1")
    assert provider.read(charge.charge_id).refunded == Money(0)


# Webhook signatures.


def _delivery(data_id: str = "1320000001", request_id: str = "req-1", ts: str = "1767268800"):
    query = {"data.id": data_id, "type": "payment"}
    headers = {"x-signature": sign(SECRET, data_id, request_id, ts), "x-request-id": request_id}
    return query, headers


def test_a_well_signed_notice_names_its_charge() -> None:
    """A delivery signed with the webhook secret verifies and names the payment to read."""
    query, headers = _delivery()
    assert verified_charge_id(SECRET, query, headers) == "1320000001"


def test_the_manifest_is_the_documented_text() -> None:
    """v1 is HMAC-SHA256 of id:<data.id>;request-id:<x-request-id>;ts:<ts>; (data.id lowered)."""
    import hashlib
    import hmac

    text = b"id:abc123;request-id:req-1;ts:1767268800;"
    digest = hmac.new(SECRET.encode(), text, hashlib.sha256).hexdigest()
    query = {"data.id": "ABC123", "type": "payment"}
    headers = {"x-signature": f"ts=1767268800,v1={digest}", "x-request-id": "req-1"}
    assert verified_charge_id(SECRET, query, headers) == "abc123"


@pytest.mark.parametrize(
    "change",
    [
        {"x-signature": None},
        {"x-signature": ""},
        {"x-signature": "v1=abc"},
        {"x-signature": "ts=1767268800"},
        {"x-signature": "ts=soon,v1=" + "0" * 64},
        {"x-signature": "ts=1767268800,v1=not-hex"},
        {"x-signature": "garbage"},
        {"x-signature": "ts=1767268800,v1=" + "0" * 64},
        {"x-signature": "ts=1" + "0" * 600},
        {"x-request-id": "req-2"},
        {"data.id": "1320000002"},
        {"data.id": None},
        {"data.id": "../1"},
    ],
)
def test_a_missing_malformed_or_wrong_signature_is_bad_signature(
    change: dict[str, str | None],
) -> None:
    """Anything but a signature of this very delivery with our secret is 401 bad_signature."""
    query, headers = _delivery()
    for name, value in change.items():
        target = query if name == "data.id" else headers
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    with pytest.raises(BadSignature) as raised:
        verified_charge_id(SECRET, query, headers)
    assert (raised.value.status, raised.value.code) == (401, "bad_signature")


def test_another_secret_does_not_verify() -> None:
    """A delivery signed with another secret, or checked with none, is bad_signature."""
    query, headers = _delivery()
    with pytest.raises(BadSignature):
        verified_charge_id("another-secret", query, headers)
    with pytest.raises(BadSignature):
        verified_charge_id("", query, headers)


def test_an_old_notice_replayed_verifies() -> None:
    """A replayed delivery (a ts of long ago) verifies: acting once is the box office's job."""
    query, headers = _delivery(ts="1000000000")
    assert verified_charge_id(SECRET, query, headers) == "1320000001"


def test_a_notice_is_read_from_its_query_string_only() -> None:
    """The type and data.id come from the query (older topic/id too), implausible ones dropped."""
    assert read_notice({"type": "payment", "data.id": "123"}).about_a_payment
    assert read_notice({"topic": "payment", "id": "123"}).data_id == "123"
    assert not read_notice({"type": "merchant_order", "data.id": "123"}).about_a_payment
    assert read_notice({"type": "payment", "data.id": "x" * 65}).data_id is None
    assert read_notice({}).kind is None


# Notices the stand-in sends.


def test_notices_of_approval_and_refund_verify_with_the_shared_secret(
    provider: MercadoPagoProvider,
    standin: MercadoPagoStandIn,
    inbox: NoticeInbox,
    clock: ManualClock,
) -> None:
    """The stand-in's signed deliveries verify and name the charge that changed."""
    charge = provider.start(_request(clock, notification_url=inbox.url))
    standin.approve(charge.charge_id)
    provider.refund(charge.charge_id, Money.parse("37.50"), "refund-1")
    received = inbox.wait(2)
    assert [r.path for r in received] == ["/payments/mercadopago/notifications"] * 2
    for notice in received:
        assert verified_charge_id(SECRET, notice.query, notice.headers) == charge.charge_id
    assert provider.read(charge.charge_id).status is ChargeStatus.REFUNDED


def test_a_replayed_notice_is_the_same_delivery_and_verifies(
    provider: MercadoPagoProvider,
    standin: MercadoPagoStandIn,
    inbox: NoticeInbox,
    clock: ManualClock,
) -> None:
    """Replay sends the same signed notice again, and it verifies again."""
    charge = provider.start(_request(clock, notification_url=inbox.url))
    standin.approve(charge.charge_id)
    standin.replay(charge.charge_id)
    first, again = inbox.wait(2)
    assert first.headers["x-signature"] == again.headers["x-signature"]
    assert verified_charge_id(SECRET, again.query, again.headers) == charge.charge_id


def test_lost_notices_never_arrive_and_several_urls_each_get_one(
    provider: MercadoPagoProvider,
    standin: MercadoPagoStandIn,
    inbox: NoticeInbox,
    clock: ManualClock,
) -> None:
    """With notices dropped none arrives; with extra URLs every one of them is told."""
    standin.drop_notices = True
    lost = provider.start(_request(clock, key="attempt-1", notification_url=inbox.url))
    standin.approve(lost.charge_id)
    assert inbox.received == []
    standin.drop_notices = False
    other = NoticeInbox()
    try:
        standin.extra_notice_urls.append(other.url)
        charge = provider.start(_request(clock, key="attempt-2", notification_url=inbox.url))
        standin.approve(charge.charge_id)
        assert [r.query["data.id"] for r in inbox.wait(1)] == [charge.charge_id]
        assert [r.query["data.id"] for r in other.wait(1)] == [charge.charge_id]
    finally:
        other.close()


def test_a_lapsed_charge_is_notified(
    provider: MercadoPagoProvider,
    standin: MercadoPagoStandIn,
    inbox: NoticeInbox,
    clock: ManualClock,
) -> None:
    """A Pix unpaid past date_of_expiration turns cancelled/expired and its notice goes out."""
    charge = provider.start(_request(clock, notification_url=inbox.url))
    clock.advance(minutes=10)
    standin.lapse()
    [notice] = inbox.wait(1)
    assert verified_charge_id(SECRET, notice.query, notice.headers) == charge.charge_id
    assert provider.read(charge.charge_id).lapsed


def test_a_notice_without_a_request_id_is_signed_without_one() -> None:
    """As Mercado Pago documents, a value absent from the delivery is left out of the manifest."""
    query = {"data.id": "1320000001", "type": "payment"}
    headers = {"x-signature": sign(SECRET, "1320000001", None, "1767268800")}
    assert verified_charge_id(SECRET, query, headers) == "1320000001"
    headers["x-request-id"] = "req-added-later"
    with pytest.raises(BadSignature):
        verified_charge_id(SECRET, query, headers)
