"""Pix through Mercado Pago across three `cinema serve` processes on PostgreSQL, Redis and
RabbitMQ, the provider played by tests/mercadopago_standin.py on a port of its own.

The stand-in sends its notices to the first process (``CINEMA_PUBLIC_URL``) unless a test drops
them and delivers them itself to the processes it picks. Its clock stands still, so no charge
lapses there by itself: a lapsed hold's charge is cancelled only by the box office's reconciler
(every ``RECONCILE_SECONDS``), which is what the late-money cases race against.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import sqlalchemy as sa

from cinema_core import ManualClock
from tests import services
from tests.flow.processes import environment, free_port, spawn, stop, wait_healthy
from tests.flow.test_many_processes import SECRET, together, token
from tests.mercadopago_standin import MercadoPagoStandIn, SignedNotice

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.slow]

RECONCILE_SECONDS = 1.0
# The hold once a payment starts: long enough for the cases that must not lapse, short enough
# for those that wait for a lapse.
HOLD_SECONDS = 6.0
NOTICES = "/payments/mercadopago/notifications"


@attrs.define
class Cluster:
    urls: list[str]
    database_url: str
    standin: MercadoPagoStandIn
    transport: httpx.HTTPTransport = attrs.field(
        factory=lambda: httpx.HTTPTransport(limits=httpx.Limits(max_connections=50))
    )

    def client(self, index: int, user: str, role: str = "customer") -> httpx.Client:
        return httpx.Client(
            base_url=self.urls[index % len(self.urls)],
            headers={"Authorization": f"Bearer {token(user, role)}"},
            timeout=15.0,
            transport=self.transport,
            trust_env=False,
        )

    def new_session(self) -> str:
        starts_at = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        body = {
            "movie": "Filme X",
            "room": "Sala 1",
            "starts_at": starts_at,
            "price": "25.00",
            "rows": 4,
            "seats_per_row": 4,
        }
        answer = self.client(0, "admin-1", "admin").post("/sessions", json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def hold(self, index: int, user: str, session_id: str, seats: list[str]) -> dict[str, Any]:
        answer = self.client(index, user).post(
            "/reservations", json={"session_id": session_id, "seats": seats}
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def start(self, index: int, user: str, session_id: str, seats: list[str]) -> dict[str, Any]:
        """A hold of ``seats`` by ``user`` and its Pix payment, pending."""
        reservation = self.hold(index, user, session_id, seats)
        answer = self.client(index + 1, user).post(f"/reservations/{reservation['id']}/payment")
        assert answer.status_code == 202, answer.text
        payment: dict[str, Any] = answer.json()["payment"]
        assert payment["status"] == "pending"
        return payment

    def payment(self, payment: dict[str, Any], index: int = 2) -> dict[str, Any]:
        answer = self.client(index, payment["user_id"]).get(f"/payments/{payment['id']}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait_for(
        self, payment: dict[str, Any], done: Callable[[dict[str, Any]], bool], within: float
    ) -> tuple[dict[str, Any], float]:
        """The payment once ``done`` holds of it, and how long that took (fails after
        ``within`` seconds)."""
        started = time.monotonic()
        while True:
            read = self.payment(payment)
            elapsed = time.monotonic() - started
            if done(read):
                return read, elapsed
            assert elapsed < within, f"after {within} s the payment reads {read}"
            time.sleep(0.1)

    def deliver(self, notice: SignedNotice, index: int) -> httpx.Response:
        return httpx.post(
            f"{self.urls[index % len(self.urls)]}{NOTICES}?{notice.query}",
            content=notice.body,
            headers=notice.headers,
            timeout=15.0,
        )

    def sql(self, query: str, **params: Any) -> int:
        engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                return int(connection.execute(sa.text(query), params).scalar_one())
        finally:
            engine.dispose()

    def sales_of(self, reservation_id: str) -> int:
        return self.sql("SELECT count(*) FROM sales WHERE reservation_id = :r", r=reservation_id)

    def events(self, session_id: str, kind: str) -> list[dict[str, Any]]:
        answer = self.client(0, "admin-1", "admin").get(
            "/admin/events", params={"session_id": session_id, "type": kind, "limit": "200"}
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])


@contextlib.contextmanager
def three_processes(tmp: Path) -> Iterator[Cluster]:
    from adapters.postgres.migrations import upgrade

    for name, url, port in (
        ("PostgreSQL", services.POSTGRES_ADMIN_URL, 5432),
        ("Redis", services.REDIS_URL, 6379),
        ("RabbitMQ", services.AMQP_URL, 5672),
    ):
        services.need(name, url, port)
    namespace = services.unique("cinema_test")
    # A clock that stands still: Mercado Pago's side never lapses a charge by itself here.
    standin = MercadoPagoStandIn(clock=ManualClock(datetime.now(UTC))).start()
    ports = [free_port() for _ in range(3)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    processes = []
    try:
        with services.database("cinema_test") as (_, database_url):
            upgrade(database_url)
            env = environment(
                {
                    "CINEMA_DATABASE_URL": database_url,
                    "CINEMA_REDIS_URL": services.REDIS_URL,
                    "CINEMA_AMQP_URL": services.AMQP_URL,
                    "CINEMA_AUTH_SECRET": SECRET,
                    "CINEMA_NAMESPACE": namespace,
                    "CINEMA_RATE_LIMIT_USER_PER_SECOND": "0",
                    "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND": "0",
                    "CINEMA_LOG_LEVEL": "WARNING",
                    "CINEMA_DATABASE_POOL_SIZE": "4",
                    "CINEMA_PAYMENT_PROVIDER": "mercadopago",
                    "CINEMA_MERCADOPAGO_API_BASE": standin.url,
                    "CINEMA_MERCADOPAGO_ACCESS_TOKEN": standin.access_token,
                    "CINEMA_MERCADOPAGO_WEBHOOK_SECRET": standin.webhook_secret,
                    "CINEMA_PUBLIC_URL": urls[0],
                    "CINEMA_PAYMENT_RECONCILE_SECONDS": str(RECONCILE_SECONDS),
                    "CINEMA_PAYMENT_HOLD_SECONDS": str(HOLD_SECONDS),
                    "CINEMA_RESERVATION_TTL_SECONDS": str(HOLD_SECONDS),
                }
            )
            for index, port in enumerate(ports):
                command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]
                processes.append(spawn(command, env, tmp / f"serve-{index}.log"))
            for index, (url, process) in enumerate(zip(urls, processes, strict=True)):
                wait_healthy(url, process, tmp / f"serve-{index}.log")
            cluster = Cluster(urls, database_url, standin)
            try:
                yield cluster
            finally:
                cluster.transport.close()
                stop(processes)
    finally:
        stop(processes)
        standin.close()
        services.drop_amqp_namespace(services.AMQP_URL, namespace)
        services.drop_redis_keys(services.REDIS_URL, namespace)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with three_processes(tmp_path_factory.mktemp("payments")) as running:
        yield running


@pytest.fixture
def standin(cluster: Cluster) -> Iterator[MercadoPagoStandIn]:
    """The cluster's stand-in, its network and bank controls put back after each test."""
    yield cluster.standin
    cluster.standin.drop_notices = False
    cluster.standin.failure = None
    cluster.standin.refuse_refunds = False
    cluster.standin.unreachable.clear()


def test_five_copies_of_one_notice_over_three_processes_make_one_sale(
    cluster: Cluster, standin: MercadoPagoStandIn
) -> None:
    """One signed notice delivered five times at once to the three processes: one sale, one
    payment.confirmed."""
    session_id = cluster.new_session()
    payment = cluster.start(0, "alice", session_id, ["A1", "A2"])
    standin.drop_notices = True
    standin.approve(payment["provider_payment_id"])
    notice = standin.last_notice(payment["provider_payment_id"])
    answers = together(5, lambda i: cluster.deliver(notice, i))
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]

    read = cluster.payment(payment)
    assert read["status"] == "approved"
    assert read["late"] is False
    assert cluster.sales_of(payment["reservation_id"]) == 1
    assert (
        cluster.sql(
            "SELECT count(*) FROM outbox WHERE type = 'payment.confirmed' "
            "AND data->>'reservation_id' = :r",
            r=payment["reservation_id"],
        )
        == 1
    )
    deadline = time.monotonic() + 10
    while not cluster.events(session_id, "payment.confirmed"):
        assert time.monotonic() < deadline, "payment.confirmed never reached the audit trail"
        time.sleep(0.2)
    time.sleep(1.0)  # any second copy would be relayed by now
    confirmed = cluster.events(session_id, "payment.confirmed")
    assert len(confirmed) == 1, confirmed
    assert len(cluster.events(session_id, "payment.approved")) == 1


def test_late_money_buys_free_seats_and_is_refunded_for_a_seat_sold_meanwhile(
    cluster: Cluster, standin: MercadoPagoStandIn
) -> None:
    """Approvals after the holds lapsed: the hold whose seat is still free becomes a late
    sale; the one whose seat was sold to someone else is refunded in full within 10 s."""
    session_id = cluster.new_session()
    free = cluster.start(0, "late-free", session_id, ["A1"])
    gone = cluster.start(1, "late-gone", session_id, ["A2"])
    # Mercado Pago fails for these two charges alone: the reconciler can neither read nor
    # cancel them while their holds lapse, and the buyers' banks pay in that time.
    standin.unreachable |= {free["provider_payment_id"], gone["provider_payment_id"]}
    lapse = max(datetime.fromisoformat(p["expires_at"]) for p in (free, gone))
    time.sleep(max(0.0, (lapse - datetime.now(UTC)).total_seconds()) + 1.0)
    seats = {
        s["label"]: s["status"]
        for s in cluster.client(2, "x").get(f"/sessions/{session_id}/seats").json()["seats"]
    }
    assert seats["A1"] == seats["A2"] == "available", seats

    # Someone else buys A2 meanwhile.
    other = cluster.start(2, "meanwhile", session_id, ["A2"])
    standin.approve(other["provider_payment_id"])
    cluster.wait_for(other, lambda p: p["status"] == "approved", 10)

    standin.approve(free["provider_payment_id"])
    standin.approve(gone["provider_payment_id"])
    standin.unreachable.clear()
    # The approvals become known now (the reconciler's next cancel finds them paid).
    refunded, took = cluster.wait_for(gone, lambda p: p["status"] == "refunded", 10)
    print(f"late money refunded {took:.2f} s after the provider came back")
    assert refunded["late"] is True
    assert refunded["sale_id"] is None
    assert refunded["refunded_amount"] == refunded["amount"]
    charge = standin.charge(gone["provider_payment_id"])
    assert charge["status"] == "refunded"
    assert charge["transaction_amount_refunded"] == charge["transaction_amount"]

    sold, _ = cluster.wait_for(free, lambda p: p["status"] == "approved", 10)
    assert sold["late"] is True
    assert sold["sale_id"] is not None
    assert cluster.sales_of(free["reservation_id"]) == 1
    assert cluster.sales_of(gone["reservation_id"]) == 0
    assert standin.charge(free["provider_payment_id"])["status"] == "approved"


def test_a_lost_notice_ends_in_a_sale_by_reconciliation(
    cluster: Cluster, standin: MercadoPagoStandIn
) -> None:
    """The stand-in drops the approval's notice: reconciliation reads the charge and sells
    within CINEMA_PAYMENT_RECONCILE_SECONDS and a few seconds."""
    session_id = cluster.new_session()
    payment = cluster.start(1, "lost", session_id, ["B1"])
    standin.drop_notices = True
    standin.approve(payment["provider_payment_id"])
    sold, took = cluster.wait_for(
        payment, lambda p: p["status"] == "approved", RECONCILE_SECONDS + 4
    )
    print(f"reconciled {took:.2f} s after the approval")
    assert sold["late"] is False
    assert cluster.sales_of(payment["reservation_id"]) == 1


def test_a_refused_refund_is_review_until_the_provider_takes_it(
    cluster: Cluster, standin: MercadoPagoStandIn
) -> None:
    """The session of a Pix-paid sale is cancelled while the stand-in refuses refunds: the
    payment reads review; once refunds are accepted again it ends refunded."""
    session_id = cluster.new_session()
    payment = cluster.start(2, "refused", session_id, ["B2", "B3"])
    standin.approve(payment["provider_payment_id"])
    cluster.wait_for(payment, lambda p: p["status"] == "approved", 10)

    standin.refuse_refunds = True
    cancelled = cluster.client(1, "admin-1", "admin").delete(f"/sessions/{session_id}")
    assert cancelled.status_code == 200, cancelled.text
    review, _ = cluster.wait_for(payment, lambda p: p["status"] == "review", 10)
    assert review["refunded_amount"] == "0.00"
    # Retried while refused, but once per CINEMA_PAYMENT_RECONCILE_SECONDS across all the
    # processes, never in a loop that hammers the provider (it did: ~35 asks a second).
    asked = f"/v1/payments/{payment['provider_payment_id']}/refunds"
    before = len(standin.requests("POST", asked))
    time.sleep(3 * RECONCILE_SECONDS)
    assert cluster.payment(payment)["status"] == "review"
    retries = len(standin.requests("POST", asked)) - before
    print(f"refund asked {retries} times in {3 * RECONCILE_SECONDS} s of refusals")
    assert 1 <= retries <= 3 + 3, retries

    standin.refuse_refunds = False
    refunded, took = cluster.wait_for(
        payment, lambda p: p["status"] == "refunded", RECONCILE_SECONDS + 4
    )
    print(f"refunded {took:.2f} s after refunds were accepted")
    assert refunded["refunded_amount"] == refunded["amount"] == "50.00"
    charge = standin.charge(payment["provider_payment_id"])
    assert charge["status"] == "refunded"


def test_a_forged_notice_is_401_and_a_provider_down_is_503_with_the_hold_unchanged(
    cluster: Cluster, standin: MercadoPagoStandIn
) -> None:
    """A notice with a wrong signature: 401 bad_signature, the payment still pending. The
    provider answering 500: starting a payment is 503 payment_provider_unavailable with
    Retry-After, and the hold is as it was."""
    session_id = cluster.new_session()
    payment = cluster.start(0, "forged", session_id, ["A3"])
    standin.drop_notices = True
    ts = str(int(time.time()))
    forged = httpx.post(
        f"{cluster.urls[1]}{NOTICES}",
        params={"data.id": payment["provider_payment_id"], "type": "payment"},
        headers={"x-signature": f"ts={ts},v1={'0' * 64}", "x-request-id": "forged-1"},
        json={"data": {"id": payment["provider_payment_id"]}, "type": "payment"},
        timeout=15,
    )
    assert forged.status_code == 401, forged.text
    assert forged.json()["error"]["code"] == "bad_signature"
    assert cluster.payment(payment)["status"] == "pending"
    assert cluster.sales_of(payment["reservation_id"]) == 0

    held = cluster.hold(1, "down", session_id, ["A4"])
    standin.failure = "error"
    answer = cluster.client(2, "down").post(f"/reservations/{held['id']}/payment")
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "payment_provider_unavailable"
    assert int(answer.headers["Retry-After"]) >= 1
    after = cluster.client(0, "down").get(f"/reservations/{held['id']}")
    assert after.status_code == 200, after.text
    assert after.json()["status"] == held["status"] == "pending"
    assert after.json()["expires_at"] == held["expires_at"]
    assert cluster.sql("SELECT count(*) FROM payments WHERE reservation_id = :r", r=held["id"]) == 0
    standin.failure = None
    again = cluster.client(1, "down").post(f"/reservations/{held['id']}/payment")
    assert again.status_code == 202, again.text
