"""A stand-in for Mercado Pago's payments API, written from its public documentation, served
on a port of its own for the adapter's tests.

It keeps Pix charges in memory and answers ``POST /v1/payments`` (``X-Idempotency-Key``
de-duplicated), ``GET /v1/payments/{id}``, ``PUT /v1/payments/{id}`` ``{"status": "cancelled"}``
and ``POST /v1/payments/{id}/refunds`` (partial and full; more than is left is a 400), checks
the bearer token (401), lapses pending charges at their ``date_of_expiration`` by its clock
(``cancelled`` / ``expired``), and sends signed notifications
(``POST <notification_url>?data.id=<id>&type=payment`` with ``x-signature`` and
``x-request-id``) when a charge changes. Controls play the buyer's bank and the network:
``approve``, ``decline``, ``replay`` a notice, ``drop_notices``, ``extra_notice_urls``,
``failure`` (``"error"``: 500, ``"hang"``: no answer for ``hang_seconds``, ``"garbage"``: a
200 that is no JSON), ``unreachable`` (charge ids whose requests alone answer 500: an outage
of one payment's part of the API) and ``refuse_refunds``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import attrs

from cinema_core import Clock, SystemClock

Failure = Literal["error", "hang", "garbage"]
_PENDING = ("pending", "in_process")


@attrs.frozen
class Seen:
    """A request the stand-in received, as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@attrs.frozen
class SignedNotice:
    """One notification as Mercado Pago sends it (a replay sends the same one again)."""

    data_id: str
    query: str
    headers: dict[str, str]
    body: bytes
    urls: tuple[str, ...]


@attrs.frozen
class Delivery:
    url: str
    status: int | None  # None: it could not be delivered
    notice: SignedNotice


@attrs.define
class _Answer:
    status: int
    document: Any


class MercadoPagoStandIn:
    """Mercado Pago's payments API in a thread; ``with`` it, or ``start()`` and ``close()``."""

    def __init__(
        self,
        access_token: str = "TEST-0000-standin-token",
        webhook_secret: str = "standin-webhook-secret",
        clock: Clock | None = None,
    ):
        self.access_token, self.webhook_secret = access_token, webhook_secret
        self.clock = clock or SystemClock()
        self.seen: list[Seen] = []
        self.deliveries: list[Delivery] = []
        self.drop_notices = False
        self.extra_notice_urls: list[str] = []
        self.failure: Failure | None = None
        self.hang_seconds = 30.0
        self.refuse_refunds = False
        self.unreachable: set[str] = set()
        self._charges: dict[str, dict[str, Any]] = {}
        self._by_key: dict[tuple[str, str], _Answer] = {}
        self._last_notice: dict[str, SignedNotice] = {}
        self._ids = itertools.count(1_320_000_001)
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> MercadoPagoStandIn:
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MercadoPagoStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # The bank's and the network's controls.

    def charge(self, charge_id: str) -> dict[str, Any]:
        """The charge's document as the stand-in holds it now."""
        with self._lock:
            self._lapse()
            document: dict[str, Any] = json.loads(_dump(self._charges[charge_id]))
            return document

    def approve(self, charge_id: str) -> list[Delivery]:
        """The buyer paid the Pix: the charge turns approved, and its notice goes out."""
        return self._settle(charge_id, "approved", "accredited")

    def decline(self, charge_id: str) -> list[Delivery]:
        return self._settle(charge_id, "rejected", "rejected_by_bank")

    def lapse(self) -> list[Delivery]:
        """Lapse the pending charges that are due by the clock, delivering their notices."""
        with self._lock:
            notices = self._lapse()
        return self._deliver(notices)

    def replay(self, charge_id: str) -> list[Delivery]:
        """Deliver the charge's last notice again, byte for byte (same ts, same request id)."""
        with self._lock:
            notice = self._last_notice[charge_id]
        return self._deliver([notice], replay=True)

    def last_notice(self, charge_id: str) -> SignedNotice:
        """The charge's last signed notice (made even while notices are dropped), for a test
        to deliver itself, where and as often as it likes."""
        with self._lock:
            return self._last_notice[charge_id]

    def requests(self, method: str, path_prefix: str = "/v1/payments") -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(path_prefix)]

    # The API.

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[_Answer, list[SignedNotice]]:
        """The answer to one request, and the notices of the changes it made (delivered once
        the answer is sent, as Mercado Pago does)."""
        path = urllib.parse.urlsplit(target).path
        try:
            body = json.loads(raw, parse_float=Decimal) if raw else None
        except ValueError:
            body = raw
        with self._lock:
            self.seen.append(Seen(method, path, headers, body))
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return _Answer(401, _error(401, "unauthorized", "invalid access token")), []
        parts = path.strip("/").split("/")
        with self._lock:
            notices = self._lapse()
            if parts == ["v1", "payments"] and method == "POST":
                answer = self._once(path, headers, lambda: self._create(body))
            elif len(parts) == 3 and parts[:2] == ["v1", "payments"]:
                answer = self._on_charge(method, parts[2], body, notices)
            elif len(parts) == 4 and parts[:2] == ["v1", "payments"] and parts[3] == "refunds":
                refund = lambda: self._refund(parts[2], body, notices)  # noqa: E731
                answer = self._once(path, headers, refund) if method == "POST" else None
            else:
                answer = None
        return answer or _Answer(404, _error(404, "not_found", "resource not found")), notices

    def _once(
        self, path: str, headers: dict[str, str], make: Callable[[], _Answer | None]
    ) -> _Answer | None:
        key = headers.get("x-idempotency-key")
        if not key:
            return _Answer(400, _error(400, "bad_request", "X-Idempotency-Key is required"))
        if (path, key) not in self._by_key:
            answer = make()
            if answer is None or answer.status >= 400:
                return answer
            self._by_key[(path, key)] = answer
        return self._by_key[(path, key)]

    def _create(self, body: Any) -> _Answer:
        if not isinstance(body, dict) or body.get("payment_method_id") != "pix":
            return _Answer(400, _error(400, "bad_request", "payment_method_id must be pix"))
        amount = body.get("transaction_amount")
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal) or amount <= 0:
            return _Answer(400, _error(400, "bad_request", "transaction_amount is invalid"))
        try:
            expires = datetime.fromisoformat(body["date_of_expiration"])
        except (KeyError, TypeError, ValueError):
            return _Answer(400, _error(400, "bad_request", "date_of_expiration is invalid"))
        if expires.tzinfo is None:
            return _Answer(400, _error(400, "bad_request", "date_of_expiration needs an offset"))
        charge_id = str(next(self._ids))
        code = (
            "00020101021226830014br.gov.bcb.pix2561standin.invalid/qr/"
            f"{charge_id}5204000053039865802BR6304ABCD"
        )
        charge = {
            "id": int(charge_id),
            "status": "pending",
            "status_detail": "pending_waiting_transfer",
            "payment_method_id": "pix",
            "payment_type_id": "bank_transfer",
            "currency_id": "BRL",
            "transaction_amount": Decimal(amount),
            "transaction_amount_refunded": Decimal(0),
            "description": body.get("description"),
            "external_reference": body.get("external_reference"),
            "notification_url": body.get("notification_url"),
            "date_created": self.clock.now().isoformat(timespec="milliseconds"),
            "date_of_expiration": body["date_of_expiration"],
            "payer": body.get("payer"),
            "point_of_interaction": {
                "type": "PIX",
                "transaction_data": {
                    "qr_code": code,
                    "qr_code_base64": "iVBORw0KGgo=",
                    "ticket_url": f"https://standin.invalid/payments/{charge_id}/ticket",
                },
            },
            "refunds": [],
        }
        self._charges[charge_id] = charge
        return _Answer(201, charge)

    def _on_charge(
        self, method: str, charge_id: str, body: Any, notices: list[SignedNotice]
    ) -> _Answer | None:
        charge = self._charges.get(charge_id)
        if charge is None:
            return None
        if method == "GET":
            return _Answer(200, charge)
        if method != "PUT":
            return None
        if not isinstance(body, dict) or body.get("status") != "cancelled":
            return _Answer(400, _error(400, "bad_request", "only cancelling is supported"))
        if charge["status"] not in _PENDING:
            return _Answer(400, _error(400, "bad_request", "the payment cannot be cancelled"))
        charge.update(status="cancelled", status_detail="by_collector")
        notices += self._notices(charge)
        return _Answer(200, charge)

    def _refund(self, charge_id: str, body: Any, notices: list[SignedNotice]) -> _Answer | None:
        charge = self._charges.get(charge_id)
        if charge is None:
            return None
        left = charge["transaction_amount"] - charge["transaction_amount_refunded"]
        amount = body.get("amount", left) if isinstance(body, dict) else left
        if self.refuse_refunds or charge["status"] != "approved":
            return _Answer(400, _error(400, "bad_request", "the payment cannot be refunded"))
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal) or amount <= 0:
            return _Answer(400, _error(400, "bad_request", "amount is invalid"))
        if amount > left:
            return _Answer(400, _error(400, "bad_request", "amount exceeds what is left"))
        charge["transaction_amount_refunded"] += amount
        if charge["transaction_amount_refunded"] == charge["transaction_amount"]:
            charge.update(status="refunded", status_detail="refunded")
        refund = {"id": next(self._ids), "payment_id": int(charge_id), "amount": amount}
        charge["refunds"].append(refund)
        notices += self._notices(charge)
        return _Answer(201, {**refund, "status": "approved"})

    # Time and notices.

    def _lapse(self) -> list[SignedNotice]:
        notices = []
        now = self.clock.now()
        for charge in self._charges.values():
            due = datetime.fromisoformat(charge["date_of_expiration"]) <= now
            if charge["status"] in _PENDING and due:
                charge.update(status="cancelled", status_detail="expired")
                notices += self._notices(charge)
        return notices

    def _settle(self, charge_id: str, status: str, detail: str) -> list[Delivery]:
        with self._lock:
            notices = self._lapse()
            charge = self._charges[charge_id]
            if charge["status"] in _PENDING:
                charge.update(status=status, status_detail=detail)
                charge["date_approved" if status == "approved" else "date_last_updated"] = (
                    self.clock.now().isoformat(timespec="milliseconds")
                )
                notices += self._notices(charge)
        return self._deliver(notices)

    def _notices(self, charge: dict[str, Any]) -> list[SignedNotice]:
        """The signed notice of a change to ``charge`` (none without a notification_url)."""
        urls = [u for u in [charge["notification_url"], *self.extra_notice_urls] if u]
        if not urls:
            return []
        data_id, request_id, ts = str(charge["id"]), str(uuid.uuid4()), str(int(time.time()))
        signed = f"id:{data_id};request-id:{request_id};ts:{ts};"
        v1 = hmac.new(self.webhook_secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        body = {
            "action": "payment.updated",
            "api_version": "v1",
            "data": {"id": data_id},
            "date_created": datetime.now(UTC).isoformat(timespec="seconds"),
            "id": next(self._ids),
            "live_mode": False,
            "type": "payment",
            "user_id": 1_234_567,
        }
        notice = SignedNotice(
            data_id=data_id,
            query=urllib.parse.urlencode({"data.id": data_id, "type": "payment"}),
            headers={
                "Content-Type": "application/json",
                "x-signature": f"ts={ts},v1={v1}",
                "x-request-id": request_id,
            },
            body=json.dumps(body).encode(),
            urls=tuple(urls),
        )
        self._last_notice[data_id] = notice
        return [notice]

    def _deliver(self, notices: list[SignedNotice], replay: bool = False) -> list[Delivery]:
        done = []
        for notice in notices:
            if self.drop_notices and not replay:
                continue
            for url in notice.urls:
                joiner = "&" if urllib.parse.urlsplit(url).query else "?"
                request = urllib.request.Request(
                    f"{url}{joiner}{notice.query}", notice.body, notice.headers, method="POST"
                )
                try:
                    with urllib.request.urlopen(request, timeout=5) as answer:
                        status: int | None = answer.status
                except urllib.error.HTTPError as e:
                    status = e.code
                except OSError:
                    status = None
                done.append(Delivery(url, status, notice))
        with self._lock:
            self.deliveries += done
        return done

    def wait_for_release(self) -> None:
        self._release.wait(self.hang_seconds)


def _error(status: int, error: str, message: str) -> dict[str, Any]:
    return {"message": message, "error": error, "status": status, "cause": []}


def _dump(document: Any) -> bytes:
    return json.dumps(document, default=_number).encode()


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        # Mercado Pago sends amounts as JSON numbers (25, 25.5).
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _handler(standin: MercadoPagoStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            failure = standin.failure
            parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
            if failure is None and len(parts) >= 3 and parts[2] in standin.unreachable:
                failure = "error"
            if failure is not None:
                with standin._lock:
                    standin.seen.append(Seen(self.command, self.path, headers, raw))
                self._fail(failure)
                return
            answer, notices = standin.handle(self.command, self.path, headers, raw)
            self._send(answer.status, _dump(answer.document), "application/json")
            standin._deliver(notices)

        def _fail(self, failure: Failure) -> None:
            if failure == "hang":
                standin.wait_for_release()
                self.close_connection = True
                return
            if failure == "garbage":
                self._send(200, b"<html><body>Bad gateway, or so</body></html>", "text/html")
                return
            self._send(
                500, _dump(_error(500, "internal_error", "internal error")), "application/json"
            )

        def _send(self, status: int, content: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@attrs.frozen
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class NoticeInbox:
    """A receiver of webhook deliveries that records each and answers ``status``."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[Received] = []
        self._changed = threading.Condition()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                split = urllib.parse.urlsplit(self.path)
                received = Received(
                    split.path,
                    dict(urllib.parse.parse_qsl(split.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                with inbox._changed:
                    inbox.received.append(received)
                    inbox._changed.notify_all()
                self.send_response(inbox.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/payments/mercadopago/notifications"

    def wait(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The deliveries once there are at least ``count`` of them (fails after ``timeout``)."""
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.received) >= count, timeout), (
                f"{len(self.received)} notices arrived, {count} expected"
            )
            return list(self.received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
