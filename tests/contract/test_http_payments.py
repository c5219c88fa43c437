"""Payments over HTTP: the sandbox played by an admin, and Mercado Pago through its stand-in,
its webhook believed only when signed, and never trusted beyond the charge id it names."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.mercadopago.notifications import sign
from cinema_core import ManualClock
from tests.contract.http_app import Api, error_code, open_api
from tests.mercadopago_standin import MercadoPagoStandIn

NOTICES = "/payments/mercadopago/notifications"


@pytest.fixture
def sandbox_api(clock: ManualClock) -> Iterator[Api]:
    with open_api(clock, payment_provider="sandbox") as api:
        yield api


@pytest.fixture
def standin(clock: ManualClock) -> Iterator[MercadoPagoStandIn]:
    with MercadoPagoStandIn(clock=clock) as standin:
        # The app under test listens on no port: notices are delivered by the test itself.
        standin.drop_notices = True
        yield standin


@pytest.fixture
def mp_api(clock: ManualClock, standin: MercadoPagoStandIn) -> Iterator[Api]:
    with open_api(
        clock,
        payment_provider="mercadopago",
        mercadopago_access_token=standin.access_token,
        mercadopago_webhook_secret=standin.webhook_secret,
        mercadopago_api_base=standin.url,
    ) as api:
        yield api


def start(api: Api) -> dict[str, Any]:
    session = api.create_session()
    reservation = api.reserve(session["id"], ["A1", "A2"]).json()
    answer = api.pay(reservation["id"])
    assert answer.status_code == 202, answer.text
    return dict(answer.json()["payment"])


def notice(secret: str, data_id: str, request_id: str = "req-1") -> dict[str, Any]:
    ts = str(int(time.time()))
    return {
        "params": {"data.id": data_id, "type": "payment"},
        "headers": {
            "x-signature": sign(secret, data_id, request_id, ts),
            "x-request-id": request_id,
        },
        "json": {"data": {"id": data_id}, "type": "payment", "action": "payment.updated"},
    }


def test_a_sandbox_payment_is_pending_then_approved_by_the_admin(sandbox_api: Api) -> None:
    """202 with a Pix code; the admin's approval makes the sale the payment names."""
    payment = start(sandbox_api)
    assert payment["status"] == "pending"
    assert payment["pix"]["qr_code"]
    assert payment["provider"] == "sandbox"
    approved = sandbox_api.post(
        f"/sandbox/payments/{payment['id']}/approve", headers=sandbox_api.admin
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    read = sandbox_api.get(f"/payments/{payment['id']}", headers=sandbox_api.auth())
    sale_id = read.json()["sale_id"]
    assert sandbox_api.get(f"/sales/{sale_id}", headers=sandbox_api.auth()).status_code == 200


def test_a_declined_sandbox_payment_leaves_the_hold_to_pay_again(sandbox_api: Api) -> None:
    """The bank's no: the payment reads declined, no sale is made, and paying again starts a new
    payment for the same hold."""
    payment = start(sandbox_api)
    declined = sandbox_api.post(
        f"/sandbox/payments/{payment['id']}/decline", headers=sandbox_api.admin
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert declined.json()["sale_id"] is None
    again = sandbox_api.pay(payment["reservation_id"])
    assert again.status_code == 202, again.text
    assert again.json()["payment"]["id"] != payment["id"]
    assert again.json()["payment"]["status"] == "pending"


def test_a_payment_is_its_payers_alone(sandbox_api: Api) -> None:
    """Another user reads 404 payment_not_found; a customer cannot play the bank."""
    payment = start(sandbox_api)
    other = sandbox_api.get(f"/payments/{payment['id']}", headers=sandbox_api.auth("bob"))
    assert other.status_code == 404
    assert error_code(other) == "payment_not_found"
    assert sandbox_api.get("/payments/not-a-uuid", headers=sandbox_api.auth()).status_code == 404
    customer = sandbox_api.post(
        f"/sandbox/payments/{payment['id']}/approve", headers=sandbox_api.auth()
    )
    assert customer.status_code == 403


def test_a_payments_pix_code_is_drawn_as_a_qr_code_for_its_payer_alone(sandbox_api: Api) -> None:
    """GET /payments/{id}/qr.svg: an SVG of the Pix code to the payer and an admin; 404 else."""
    payment = start(sandbox_api)
    url = f"/payments/{payment['id']}/qr.svg"
    for headers in (sandbox_api.auth(), sandbox_api.admin):
        drawn = sandbox_api.get(url, headers=headers)
        assert drawn.status_code == 200, drawn.text
        assert drawn.headers["content-type"].startswith("image/svg+xml")
        assert drawn.headers["cache-control"] == "private, no-store"
        assert "<svg" in drawn.text
    other = sandbox_api.get(url, headers=sandbox_api.auth("bob"))
    assert other.status_code == 404
    assert error_code(other) == "payment_not_found"
    assert sandbox_api.get(url).status_code == 401


def test_the_admin_lists_the_sandbox_payments_waiting_for_the_bank(sandbox_api: Api) -> None:
    """GET /sandbox/payments: pending ones only, oldest first; approved ones leave the list;
    a customer is refused."""
    first = start(sandbox_api)
    second = start(sandbox_api)
    listed = sandbox_api.get("/sandbox/payments", headers=sandbox_api.admin)
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()["items"]] == [first["id"], second["id"]]
    assert listed.json()["items"][0]["pix"]["qr_code"] == first["pix"]["qr_code"]
    sandbox_api.post(f"/sandbox/payments/{first['id']}/approve", headers=sandbox_api.admin)
    after = sandbox_api.get("/sandbox/payments", headers=sandbox_api.admin).json()["items"]
    assert [p["id"] for p in after] == [second["id"]]
    customer = sandbox_api.get("/sandbox/payments", headers=sandbox_api.auth())
    assert customer.status_code == 403


def test_sandbox_routes_are_absent_without_the_sandbox(clock: ManualClock) -> None:
    """With the instant provider the bank's controls are 404 and payment sells at once."""
    with open_api(clock) as api:
        session = api.create_session()
        reservation = api.reserve(session["id"], ["A1"]).json()
        assert api.pay(reservation["id"]).status_code == 201
        missing = api.post(f"/sandbox/payments/{reservation['id']}/approve", headers=api.admin)
        assert missing.status_code == 404
        assert api.get("/sandbox/payments", headers=api.admin).status_code == 404


def test_a_signed_notice_makes_the_sale(mp_api: Api, standin: MercadoPagoStandIn) -> None:
    """Mercado Pago's approval, told by a signed notice, is read back and sells the seats."""
    payment = start(mp_api)
    charge_id = payment["provider_payment_id"]
    standin.approve(charge_id)
    for _ in range(5):
        answer = mp_api.post(NOTICES, **notice(standin.webhook_secret, charge_id))
        assert answer.status_code == 200, answer.text
    read = mp_api.get(f"/payments/{payment['id']}", headers=mp_api.auth()).json()
    assert read["status"] == "approved"
    purchases = mp_api.get("/users/alice/purchases", headers=mp_api.auth()).json()
    assert len(purchases["items"]) == 1


@pytest.mark.parametrize("forged", ["missing", "wrong"])
def test_an_unsigned_notice_is_refused_and_changes_nothing(
    mp_api: Api, standin: MercadoPagoStandIn, forged: str
) -> None:
    """A notice without a valid x-signature is 401 bad_signature; the payment stays pending."""
    payment = start(mp_api)
    charge_id = payment["provider_payment_id"]
    standin.approve(charge_id)
    sent = notice("not-the-secret" if forged == "wrong" else standin.webhook_secret, charge_id)
    if forged == "missing":
        del sent["headers"]["x-signature"]
    answer = mp_api.post(NOTICES, **sent)
    assert answer.status_code == 401
    assert error_code(answer) == "bad_signature"
    read = mp_api.get(f"/payments/{payment['id']}", headers=mp_api.auth()).json()
    assert read["status"] == "pending"


def test_a_notice_for_a_charge_not_ours_is_answered_and_ignored(
    mp_api: Api, standin: MercadoPagoStandIn
) -> None:
    """A signed notice naming a charge we never asked for: 200, nothing happens."""
    answer = mp_api.post(NOTICES, **notice(standin.webhook_secret, "999999"))
    assert answer.status_code == 200


def test_an_oversized_notice_is_refused(mp_api: Api, standin: MercadoPagoStandIn) -> None:
    """A query string longer than any notice is a 4xx, never a 5xx."""
    sent = notice(standin.webhook_secret, "1")
    sent["params"]["junk"] = "x" * 5000
    assert mp_api.post(NOTICES, **sent).status_code == 413


def test_a_provider_down_is_503_and_the_hold_unchanged(
    mp_api: Api, standin: MercadoPagoStandIn
) -> None:
    """Mercado Pago failing: 503 payment_provider_unavailable with Retry-After, nothing kept."""
    session = mp_api.create_session()
    reservation = mp_api.reserve(session["id"], ["A1"]).json()
    standin.failure = "error"
    answer = mp_api.pay(reservation["id"])
    assert answer.status_code == 503
    assert error_code(answer) == "payment_provider_unavailable"
    assert answer.headers.get("retry-after")
    held = mp_api.get(f"/reservations/{reservation['id']}", headers=mp_api.auth()).json()
    assert held["expires_at"] == reservation["expires_at"]
