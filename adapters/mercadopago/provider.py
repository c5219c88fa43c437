"""Pix charges through Mercado Pago's payments API, as a ``PaymentProvider``.

A small client on ``httpx`` rather than the official ``mercadopago`` SDK: the SDK fixes the API
address in a private class attribute (tests and the stand-in need to set it), retries 5xx
answers on its own (which would break the 5 s bound a buyer waits at most) and brings
``requests`` along. Four documented calls need no SDK.

Every call is bounded by ``timeout`` (5 s) for connecting and for each read; anything but a
readable, documented answer becomes ``PaymentProviderUnavailable``.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from cinema_core.kernel.money import Money
from cinema_core.payments import (
    Charge,
    ChargeNotFound,
    ChargeRequest,
    PaymentProviderUnavailable,
    RefundRefused,
)
from cinema_core.payments.errors import DEFAULT_RETRY_AFTER

from .payments import CHARGE_ID, Garbage, charge_body, json_number, read_charge, read_json

log = logging.getLogger("cinema.payments")

DEFAULT_API_BASE = "https://api.mercadopago.com"
TIMEOUT_SECONDS = 5.0
# An answer larger than this is no payment document.
_MAX_ANSWER = 1 << 20
# Answers that say no to a refund itself (too much, nothing taken), not to us or the network.
_REFUSALS = {400, 409, 422}


class MercadoPagoProvider:
    """Mercado Pago's ``/v1/payments`` API with one access token (a test account's for its
    sandbox). Thread-safe; ``close()`` releases its connections."""

    name = "mercadopago"

    def __init__(
        self,
        access_token: str,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ):
        self._http = httpx.Client(
            base_url=api_base.rstrip("/"),
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def start(self, request: ChargeRequest) -> Charge:
        status, document = self._call(
            "POST", "/v1/payments", charge_body(request), request.idempotency_key
        )
        if status not in (200, 201):
            # Nothing was charged: a request Mercado Pago refuses is ours to fix, not the
            # buyer's; the operator reads why in the log.
            raise self._unavailable(f"creating a charge answered {status}: {_message(document)}")
        return self._charge(document)

    def read(self, charge_id: str) -> Charge:
        status, document = self._call("GET", self._path(charge_id))
        return self._answered(charge_id, status, document)

    def cancel(self, charge_id: str) -> Charge:
        status, document = self._call("PUT", self._path(charge_id), {"status": "cancelled"})
        if status in _REFUSALS:
            # Not pending any more (paid a moment ago, declined, lapsed): answer it as it is.
            return self.read(charge_id)
        return self._answered(charge_id, status, document)

    def refund(self, charge_id: str, amount: Money, idempotency_key: str) -> Charge:
        body = {"amount": json_number(amount)}
        status, document = self._call(
            "POST", f"{self._path(charge_id)}/refunds", body, idempotency_key
        )
        if status == 404:
            raise ChargeNotFound(charge_id)
        if status in _REFUSALS:
            raise RefundRefused(charge_id, f"answered {status}: {_message(document)}")
        if status not in (200, 201):
            raise self._unavailable(f"a refund answered {status}: {_message(document)}")
        # The refund's own document says little of the charge; read the charge it left.
        return self.read(charge_id)

    def _path(self, charge_id: str) -> str:
        if not CHARGE_ID.fullmatch(charge_id):
            raise ChargeNotFound(charge_id)
        return f"/v1/payments/{charge_id}"

    def _answered(self, charge_id: str, status: int, document: Any) -> Charge:
        if status == 404:
            raise ChargeNotFound(charge_id)
        if status != 200:
            raise self._unavailable(f"{charge_id} answered {status}: {_message(document)}")
        return self._charge(document)

    def _charge(self, document: Any) -> Charge:
        try:
            return read_charge(document)
        except Garbage as e:
            raise self._unavailable(f"an unreadable payment: {e}") from e

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[int, Any]:
        """Mercado Pago's status and JSON answer; unavailable for no answer, a 5xx, a 429 or an
        answer that is not JSON."""
        headers = {} if idempotency_key is None else {"X-Idempotency-Key": idempotency_key}
        try:
            answer = self._http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as e:
            raise self._unavailable(f"{method} {path}: {type(e).__name__}: {e}") from e
        if answer.status_code >= 500 or answer.status_code in (401, 403, 429):
            # 401/403: our credentials are wrong; no buyer can fix that, so it is an outage.
            raise self._unavailable(
                f"{method} {path} answered {answer.status_code}", _retry_after(answer)
            )
        if len(answer.content) > _MAX_ANSWER:
            raise self._unavailable(f"{method} {path}: an answer of {len(answer.content)} bytes")
        if not answer.content:
            return answer.status_code, None
        try:
            return answer.status_code, read_json(answer.content)
        except Garbage as e:
            if answer.status_code >= 400:
                return answer.status_code, None
            raise self._unavailable(f"{method} {path}: {e}") from e

    @staticmethod
    def _unavailable(
        reason: str, retry_after: float = DEFAULT_RETRY_AFTER
    ) -> PaymentProviderUnavailable:
        log.warning("Mercado Pago: %s", reason)
        return PaymentProviderUnavailable(reason, retry_after)


def _message(document: Any) -> str:
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        return str(document["message"])[:200]
    return "no message"


def _retry_after(answer: httpx.Response) -> float:
    value = answer.headers.get("Retry-After", "")
    if value.isascii() and value.isdigit():
        return float(min(int(value), 300))
    return DEFAULT_RETRY_AFTER
