"""Routes of payments through a provider: read one, Mercado Pago's notifications, and the
sandbox's approve and decline (admin, only when the provider is the sandbox)."""

from __future__ import annotations

import io
from datetime import datetime
from uuid import UUID

import attrs
import segno
from starlette.responses import Response

from cinema_core import Money
from cinema_core.errors import CinemaError, NotFound
from cinema_core.payments.errors import PaymentNotFound
from cinema_core.payments.payment import Payment as PaymentRecord
from cinema_core.payments.payment import PaymentStatus
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.responses import json_response
from entrypoints.http.framework.shapes import days_from_now

# A notice's query string longer than this is no notice of Mercado Pago's.
MAX_NOTICE_QUERY = 1024


class NoticeTooLarge(CinemaError):
    code, status = "payload_too_large", 413
    default_message = "The notification is larger than any the provider sends."


@attrs.frozen
class Pix(Answer):
    """What the buyer pays with: the copy-paste code, its QR image, the provider's page."""

    qr_code: str = out(description="The Pix copy-paste code (BR Code).", example="000201…")
    qr_code_base64: str = out(description="A PNG of the QR code, base64.", example="iVBORw0…")
    ticket_url: str | None = out(description="The provider's page for the charge.")


def _refunded(payment: PaymentRecord) -> Money:
    return payment.refunded_amount


@attrs.frozen
class Payment(Answer):
    """Money asked of the buyer's provider for a reservation, and where it stands."""

    id: UUID = out()
    reservation_id: UUID = out()
    user_id: str = out(description="The payer.", example="alice")
    provider: str = out(description="sandbox or mercadopago.", example="sandbox")
    provider_payment_id: str | None = out("charge_id", description="The provider's charge id.")
    status: PaymentStatus = out(
        description=(
            "pending → approved (sale_id) · declined · expired (the hold lapsed unpaid) · "
            "refunded (late money for seats gone, refunded in full) · review (money owed "
            "back, retried until the provider takes it)"
        )
    )
    amount: Money = out(example="50.00")
    currency: str = out("amount.currency", example="BRL")
    created_at: datetime = out(example=days_from_now(0, hour=18))
    expires_at: datetime = out(
        description="When the Pix charge lapses.", example=days_from_now(0, hour=18)
    )
    late: bool = out(description="The money arrived after the hold had lapsed.")
    sale_id: UUID | None = out(description="The sale the payment made, once approved.")
    refunded_amount: Money = out(_refunded, example="0.00")
    pix: Pix | None = out()


@attrs.frozen
class Started(Answer):
    """A payment started (or the one already pending)."""

    payment: Payment = out(lambda payment: payment)


@attrs.frozen
class PaymentList(Answer):
    """Payments, oldest first."""

    items: list[Payment] = out(lambda payments: payments)


def _own_payment(call: Call) -> PaymentRecord:
    payment_id = call.path_uuid("payment_id", PaymentNotFound)
    user = call.user
    return call.services.box.payment(payment_id, user.user_id, admin=user.is_admin)


def read_payment(call: Call) -> Response:
    return Payment.response(_own_payment(call))


def payment_qr(call: Call) -> Response:
    payment = _own_payment(call)
    if payment.pix is None:
        raise PaymentNotFound()
    svg = io.BytesIO()
    # Drawn from the copy-paste code, so every provider's charge looks alike; medium error
    # correction, as the tickets', for a phone's camera pointed at a screen.
    segno.make(payment.pix.qr_code, error="m", micro=False).save(svg, kind="svg", scale=4, border=4)
    return Response(svg.getvalue(), 200, {"Cache-Control": "private, no-store"}, "image/svg+xml")


def mercadopago_notice(call: Call) -> Response:
    verifier = call.services.notices
    if verifier is None:
        # Not the configured provider: nothing here listens to Mercado Pago.
        raise NotFound()
    if len(call.request.url.query) > MAX_NOTICE_QUERY:
        raise NoticeTooLarge()
    charge_id = verifier(call.request.query_params, call.request.headers)
    if charge_id is not None:
        call.services.box.settle_payment(charge_id)
    return json_response({"status": "ok"}, 200)


def _sandbox(call: Call, act: str) -> Response:
    sandbox = call.services.sandbox
    if sandbox is None:
        raise NotFound()
    payment_id = call.path_uuid("payment_id", PaymentNotFound)
    payment = call.services.box.payment(payment_id, call.user.user_id, admin=True)
    if payment.charge_id is None or payment.provider != sandbox.name:
        raise PaymentNotFound()
    if act == "approve":
        sandbox.approve(payment.charge_id)
    else:
        sandbox.decline(payment.charge_id)
    # The sandbox tells the box office of the change itself; this makes sure it was heard.
    call.services.box.settle_payment(payment.charge_id)
    return Payment.response(call.services.box.payment(payment_id, "", admin=True))


def sandbox_pending(call: Call) -> Response:
    sandbox = call.services.sandbox
    if sandbox is None:
        raise NotFound()
    found = []
    for charge in sandbox.pending():
        if charge.reference is None:
            continue
        try:
            found.append(call.services.box.payment(charge.reference, "", admin=True))
        except PaymentNotFound:
            # A charge whose payment was never recorded (its start failed half way).
            continue
    return PaymentList.response(found)


def approve(call: Call) -> Response:
    return _sandbox(call, "approve")


def decline(call: Call) -> Response:
    return _sandbox(call, "decline")


OPERATIONS = (
    Operation(
        "GET",
        "/payments/{payment_id}",
        read_payment,
        "A payment through the provider, to its payer or an admin",
        {
            200: Reply("The payment as it stands.", Payment),
            404: Reply("payment_not_found (also another user's payment)", "Error"),
        },
        tag="payments",
        access="user",
    ),
    Operation(
        "GET",
        "/payments/{payment_id}/qr.svg",
        payment_qr,
        "A payment's Pix copy-paste code as a QR code (SVG), for the payer's bank app",
        {
            200: Reply("The QR code of pix.qr_code.", media="image/svg+xml"),
            404: Reply("payment_not_found (also another user's payment)", "Error"),
        },
        tag="payments",
        access="user",
        description="Only the payment's payer or an admin; others get 404.",
    ),
    Operation(
        "POST",
        "/payments/mercadopago/notifications",
        mercadopago_notice,
        "Mercado Pago's webhook: the charge named is read from Mercado Pago and acted on",
        {
            200: Reply("Handled, or about nothing of ours: nothing more to send."),
            401: Reply("bad_signature: x-signature missing or wrong; nothing changed", "Error"),
            404: Reply("not_found: the box office does not take money through Mercado Pago"),
            413: Reply("payload_too_large: larger than any notice", "Error"),
            503: Reply(
                "payment_provider_unavailable: Mercado Pago could not be read; send it again",
                "Error",
                headers=("Retry-After",),
            ),
        },
        tag="payments",
        access="public",
        body_required=False,
        description=(
            "Verifies x-signature (HMAC-SHA256 of id:<data.id>;request-id:<x-request-id>;"
            "ts:<ts>; with the webhook secret) on every delivery; never trusts the body. The "
            "same notice any number of times, to any processes, has one effect."
        ),
    ),
    Operation(
        "GET",
        "/sandbox/payments",
        sandbox_pending,
        "Sandbox: the payments still waiting for the buyer's bank, oldest first",
        {
            200: Reply("The pending sandbox payments.", PaymentList),
            404: Reply("not_found when the provider is no sandbox"),
        },
        tag="payments",
        access="admin",
    ),
    Operation(
        "POST",
        "/sandbox/payments/{payment_id}/approve",
        approve,
        "Sandbox: the buyer's bank approves the payment",
        {
            200: Reply("The payment after the bank's approval.", Payment),
            404: Reply("payment_not_found, or not_found when the provider is no sandbox"),
        },
        tag="payments",
        access="admin",
    ),
    Operation(
        "POST",
        "/sandbox/payments/{payment_id}/decline",
        decline,
        "Sandbox: the buyer's bank declines the payment",
        {
            200: Reply("The payment after the bank's decline.", Payment),
            404: Reply("payment_not_found, or not_found when the provider is no sandbox"),
        },
        tag="payments",
        access="admin",
    ),
)
