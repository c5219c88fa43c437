"""The limits after the sale, and the ticket quota, through three `cinema serve` processes on
PostgreSQL, Redis and RabbitMQ.

Ten scanners of one code, two refunds of one seat, a refund racing the check-in of its seat,
sixteen buyers of half-price seats against a quota of six: each spread over the three
processes, released together. The control runs use the same
requests against processes whose guards are off (tests/flow/unguarded_server.py: no row locks,
no "still untouched" conditions, ``tickets_used_or_refunded`` dropped) and show each race
really firing; the guarded runs show exactly one winner. The guarded cluster also shows a
refund's seat turning available on another process's live stream, sold again, and the events
reaching RabbitMQ and the audit trail.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import sqlalchemy as sa

from tests import services
from tests.flow.processes import created_id, environment, session_json, start_servers, stop
from tests.flow.test_many_processes import together, token

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.slow]

SECRET = "many-processes-secret-long-enough-for-hs256"
SCANNERS = 10
ROUNDS = 3


@attrs.define
class Cluster:
    urls: list[str]
    database_url: str
    namespace: str
    transport: httpx.HTTPTransport = attrs.field(
        factory=lambda: httpx.HTTPTransport(limits=httpx.Limits(max_connections=100))
    )

    def client(self, index: int, user: str, role: str = "customer") -> httpx.Client:
        return httpx.Client(
            base_url=self.urls[index % len(self.urls)],
            headers={"Authorization": f"Bearer {token(user, role)}"},
            timeout=15.0,
            transport=self.transport,
            trust_env=False,
        )

    def new_session(self, **extra: Any) -> str:
        answer = self.client(0, "admin-1", "admin").post("/sessions", json=session_json(**extra))
        return created_id(answer)

    def buy(self, index: int, user: str, session_id: str, seats: list[str]) -> dict[str, Any]:
        client = self.client(index, user)
        held = client.post("/reservations", json={"session_id": session_id, "seats": seats})
        assert held.status_code == 201, held.text
        paid = client.post(f"/reservations/{held.json()['id']}/payment")
        assert paid.status_code == 201, paid.text
        return dict(paid.json())

    def codes(self, sale: dict[str, Any]) -> list[str]:
        answer = self.client(1, sale["user_id"]).get(f"/sales/{sale['id']}/tickets")
        assert answer.status_code == 200, answer.text
        return [ticket["code"] for ticket in answer.json()["items"]]

    def scan(self, index: int, code: str) -> httpx.Response:
        return self.client(index, f"door-{index}", "staff").post("/checkins", json={"code": code})

    def refund(self, index: int, sale: dict[str, Any], seats: list[str]) -> httpx.Response:
        client = self.client(index, sale["user_id"])
        return client.post(f"/sales/{sale['id']}/refunds", json={"seats": seats})

    def sql(self, query: str) -> int:
        engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                return int(connection.execute(sa.text(query)).scalar_one())
        finally:
            engine.dispose()

    def invariants(self) -> dict[str, int]:
        """The database's own account after the sale (each must be 0)."""
        return {
            "tickets both used and refunded": self.sql(
                "SELECT count(*) FROM tickets WHERE checked_in_at IS NOT NULL "
                "AND refund_id IS NOT NULL"
            ),
            "seats refunded twice": self.sql(
                "SELECT count(*) FROM (SELECT sale_id, seat FROM refunds, unnest(seats) seat "
                "GROUP BY 1, 2 HAVING count(*) > 1) twice"
            ),
            "tickets let in twice": self.sql(
                "SELECT count(*) FROM (SELECT data->>'ticket_id' FROM outbox "
                "WHERE type = 'ticket.checked_in' GROUP BY 1 HAVING count(*) > 1) twice"
            ),
            "seats with two live tickets": self.sql(
                'SELECT count(*) FROM (SELECT session_id, "row", number FROM tickets '
                "WHERE refund_id IS NULL GROUP BY 1, 2, 3 HAVING count(*) > 1) twice"
            ),
            "refunded seats still sold": self.sql(
                "SELECT count(*) FROM tickets t JOIN seats s ON s.session_id = t.session_id "
                'AND s."row" = t."row" AND s.number = t.number '
                "WHERE t.refund_id IS NOT NULL AND s.sale_id = t.sale_id"
            ),
        }


@contextlib.contextmanager
def cluster_of_three(tmp: Path, *, guarded: bool) -> Iterator[Cluster]:
    """Three API processes on a fresh database, Redis and RabbitMQ, under a namespace of their
    own; everything they made is dropped after."""
    from adapters.postgres.migrations import upgrade

    for name, url, port in (
        ("PostgreSQL", services.POSTGRES_ADMIN_URL, 5432),
        ("Redis", services.REDIS_URL, 6379),
        ("RabbitMQ", services.AMQP_URL, 5672),
    ):
        services.need(name, url, port)
    namespace = services.unique("cinema_test")
    with services.database("cinema_test") as (_, database_url):
        upgrade(database_url)
        if not guarded:
            engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
            with engine.begin() as connection:
                connection.execute(
                    sa.text("ALTER TABLE tickets DROP CONSTRAINT tickets_used_or_refunded")
                )
            engine.dispose()
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
                # Two clusters of three may be up at once: stay well within max_connections.
                "CINEMA_DATABASE_POOL_SIZE": "4",
            }
        )
        processes: list[subprocess.Popen[bytes]] = []

        def command(port: int) -> list[str]:
            if guarded:
                return [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]
            return [sys.executable, "-m", "tests.flow.unguarded_server", str(port)]

        try:
            urls = start_servers(range(3), command, env, tmp, processes)
            cluster = Cluster(urls, database_url, namespace)
            yield cluster
            cluster.transport.close()
        finally:
            stop(processes)
            _forget_namespace(namespace)


def _forget_namespace(namespace: str) -> None:
    import pika
    import redis

    connection = pika.BlockingConnection(pika.URLParameters(services.AMQP_URL))
    channel = connection.channel()
    for suffix in ("", ".dead", ".retry.1s", ".retry.5s", ".retry.25s", ".retry.125s"):
        channel.queue_delete(f"{namespace}.webhooks{suffix}")
    channel.exchange_delete(f"{namespace}.events")
    connection.close()
    client = redis.Redis.from_url(services.REDIS_URL)
    keys = list(client.scan_iter(match=f"*{namespace}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def unguarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster_of_three(tmp_path_factory.mktemp("unguarded"), guarded=False) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster_of_three(tmp_path_factory.mktemp("guarded"), guarded=True) as cluster:
        yield cluster


def ten_scanners(cluster: Cluster) -> list[Counter[int]]:
    """Each round: one ticket, ten scanners spread over the processes, released together."""
    session_id = cluster.new_session()
    rounds = []
    for number in range(1, ROUNDS + 1):
        sale = cluster.buy(number, f"fan-{number}", session_id, [f"A{number}"])
        (code,) = cluster.codes(sale)
        answers = together(SCANNERS, lambda i, c=code: cluster.scan(i, c))
        rounds.append(Counter(answer.status_code for answer in answers))
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json()["error"]["code"] == "already_checked_in"
    return rounds


def two_refunds(cluster: Cluster) -> list[Counter[int]]:
    """Each round: a two-seat sale, and two refunds of its first seat through two processes."""
    session_id = cluster.new_session()
    rounds = []
    for number in range(1, ROUNDS + 1):
        sale = cluster.buy(0, f"buyer-{number}", session_id, [f"B{number}", f"C{number}"])
        answers = together(2, lambda i, s=sale, n=number: cluster.refund(i, s, [f"B{n}"]))
        rounds.append(Counter(answer.status_code for answer in answers))
    return rounds


def refund_against_scan(cluster: Cluster) -> list[tuple[int, int]]:
    """Each round: a refund of a seat and the check-in of its ticket, at once, on two processes."""
    session_id = cluster.new_session()
    rounds = []
    for number in range(1, ROUNDS + 1):
        sale = cluster.buy(2, f"late-{number}", session_id, [f"D{number}"])
        (code,) = cluster.codes(sale)
        refund, scan = together(
            2,
            lambda i, s=sale, c=code, n=number: (
                cluster.refund(0, s, [f"D{n}"]) if i == 0 else cluster.scan(1, c)
            ),
        )
        if refund.status_code == 409:
            assert refund.json()["error"]["code"] == "ticket_used"
        if scan.status_code == 409:
            assert scan.json()["error"]["code"] == "ticket_refunded"
        rounds.append((refund.status_code, scan.status_code))
    return rounds


def half_price_rush(cluster: Cluster) -> list[Counter[int]]:
    """Each round: a 16-seat session (half price limited to 40 %: 6 seats) and 16 buyers of one
    half-price seat each, spread over the processes and released together."""
    labels = [f"{row}{number}" for row in "ABCD" for number in range(1, 5)]
    rounds = []
    for _ in range(ROUNDS):
        session_id = cluster.new_session()

        def hold(i: int, session_id: str = session_id) -> httpx.Response:
            body = {"session_id": session_id, "seats": [labels[i]], "tickets": {"half": 1}}
            return cluster.client(i, f"student-{i}").post("/reservations", json=body)

        answers = together(16, hold)
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json()["error"]["code"] == "ticket_quota_exhausted"
        rounds.append(Counter(answer.status_code for answer in answers))
    return rounds


def test_control_without_the_quota_lock_more_than_the_quota_is_held(unguarded: Cluster) -> None:
    """CONTROL: counting the quota without the session's lock, concurrent buyers on three
    processes all see room in it, and more than 6 half-price seats are held."""
    rounds = half_price_rush(unguarded)
    print("control, half-price rush:", rounds)
    assert max(r[201] for r in rounds) > 6, rounds


def test_the_half_price_quota_holds_across_three_processes(guarded: Cluster) -> None:
    """16 buyers of one half-price seat each on a 16-seat session, released together on three
    processes: exactly 6 win and 10 are told the quota is spent, round after round."""
    assert half_price_rush(guarded) == [Counter({201: 6, 409: 10})] * ROUNDS


# Two types sharing the group meia (40 % of 16 seats: 6 together), as the law's one quota for
# students and people with disabilities.
GROUP_TYPES = [
    {"code": "full", "name": "Inteira", "percent": 100},
    {"code": "student", "name": "Estudante", "percent": 50, "quota_percent": 40,
     "quota_group": "meia"},
    {"code": "pcd", "name": "PcD", "percent": 50, "quota_percent": 40, "quota_group": "meia"},
]  # fmt: skip


def group_rush(cluster: Cluster) -> list[tuple[Counter[int], int]]:
    """Each round: 16 buyers of one seat each, half as students and half as people with
    disabilities, spread over the processes and released together; with what the session then
    says is used of its group."""
    labels = [f"{row}{number}" for row in "ABCD" for number in range(1, 5)]
    rounds = []
    for _ in range(ROUNDS):
        session_id = cluster.new_session(ticket_types=GROUP_TYPES)

        def hold(i: int, session_id: str = session_id) -> httpx.Response:
            kind = "student" if i % 2 else "pcd"
            body = {"session_id": session_id, "seats": [labels[i]], "tickets": {kind: 1}}
            return cluster.client(i, f"buyer-{i}").post("/reservations", json=body)

        answers = together(16, hold)
        for answer in answers:
            if answer.status_code == 409:
                error = answer.json()["error"]
                assert (error["code"], error["details"]["quota_group"]) == (
                    "ticket_quota_exhausted",
                    "meia",
                )
        read = cluster.client(0, "reader").get(f"/sessions/{session_id}").json()
        rounds.append((Counter(a.status_code for a in answers), read["quotas"]["meia"]["used"]))
    return rounds


def test_control_without_the_quota_lock_a_group_is_passed_by_its_two_types(
    unguarded: Cluster,
) -> None:
    """CONTROL: counting the group without the session's lock, students and people with
    disabilities on three processes together hold more than the group's 6 seats."""
    rounds = group_rush(unguarded)
    print("control, group rush:", rounds)
    assert max(r[201] for r, _ in rounds) > 6, rounds
    assert max(used for _, used in rounds) > 6, rounds


def test_a_quota_group_holds_across_three_processes_over_both_its_types(
    guarded: Cluster,
) -> None:
    """16 buyers of two types of one group, released together on three processes: exactly 6
    win, 10 are told the group is spent, and the session says 6 used, round after round."""
    assert group_rush(guarded) == [(Counter({201: 6, 409: 10}), 6)] * ROUNDS


def test_control_without_guards_ten_scanners_let_one_ticket_in_many_times(
    unguarded: Cluster,
) -> None:
    """CONTROL: guards off, a ticket scanned by ten scanners at once checks in more than once."""
    rounds = ten_scanners(unguarded)
    print("control, ten scanners:", rounds)
    assert all(r[201] > 1 for r in rounds), rounds
    assert unguarded.invariants()["tickets let in twice"] == ROUNDS


def test_ten_scanners_of_one_code_on_three_processes_let_it_in_once(guarded: Cluster) -> None:
    """One 201, nine 409 already_checked_in, every round."""
    rounds = ten_scanners(guarded)
    assert rounds == [Counter({201: 1, 409: SCANNERS - 1})] * ROUNDS
    assert guarded.invariants()["tickets let in twice"] == 0


def test_control_without_guards_a_seat_is_refunded_twice(unguarded: Cluster) -> None:
    """CONTROL: guards off, two refunds of one seat at once both succeed."""
    rounds = two_refunds(unguarded)
    print("control, two refunds:", rounds)
    assert all(r == {201: 2} for r in rounds), rounds
    assert unguarded.invariants()["seats refunded twice"] == ROUNDS


def test_two_refunds_of_one_seat_on_two_processes_refund_it_once(guarded: Cluster) -> None:
    """One 201, one 409 already_refunded, every round."""
    rounds = two_refunds(guarded)
    assert rounds == [Counter({201: 1, 409: 1})] * ROUNDS
    assert guarded.invariants()["seats refunded twice"] == 0


def test_control_without_guards_a_ticket_is_refunded_and_used(unguarded: Cluster) -> None:
    """CONTROL: guards off, a refund and a check-in of one ticket at once both succeed."""
    rounds = refund_against_scan(unguarded)
    print("control, refund against scan:", rounds)
    assert all(r == (201, 201) for r in rounds), rounds
    assert unguarded.invariants()["tickets both used and refunded"] == ROUNDS


def test_a_refund_racing_the_check_in_of_its_seat_ends_in_one_outcome(guarded: Cluster) -> None:
    """Exactly one of the two is 201, the other 409 (ticket_used or ticket_refunded)."""
    rounds = refund_against_scan(guarded)
    assert all(sorted(r) == [201, 409] for r in rounds), rounds
    checks = guarded.invariants()
    assert checks == dict.fromkeys(checks, 0), checks


def test_refund_is_seen_live_by_other_processes_and_its_events_reach_the_broker(
    guarded: Cluster,
) -> None:
    """A refund through process 0: process 2's live stream shows the seat available, process 1
    sells it again, the broker carries sale.refunded, seat.released (refunded) and
    ticket.checked_in, and the audit trail lists them."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(services.AMQP_URL))
    channel = connection.channel()
    queue = channel.queue_declare("", exclusive=True).method.queue
    for key in ("sale.refunded", "seat.released", "ticket.checked_in"):
        channel.queue_bind(queue, f"{guarded.namespace}.events", routing_key=key)

    session_id = guarded.new_session()
    sale = guarded.buy(0, "ana", session_id, ["A1", "A2"])
    changes: list[Any] = []
    streaming = threading.Event()

    def watch() -> None:
        with httpx.stream(
            "GET", f"{guarded.urls[2]}/sessions/{session_id}/seats/stream", timeout=15
        ) as response:
            for line in response.iter_lines():
                if line.startswith("event: snapshot"):
                    streaming.set()
                if line.startswith("data:") and streaming.is_set() and '"changes"' in line:
                    changes.extend(json.loads(line[5:])["changes"])
                    if {"label": "A2", "status": "available"} in changes:
                        return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert streaming.wait(10)
    time.sleep(0.5)  # the stream's feed binds its queue as it starts
    refund = guarded.refund(0, sale, ["A2"])
    assert refund.status_code == 201, refund.text
    watcher.join(15)
    assert {"label": "A2", "status": "available"} in changes

    resold = guarded.buy(1, "bia", session_id, ["A2"])
    assert resold["seats"] == ["A2"]
    assert guarded.scan(2, guarded.codes(resold)[0]).status_code == 201

    wanted = {"sale.refunded", "seat.released", "ticket.checked_in"}
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 15
    while wanted - set(seen) and time.monotonic() < deadline:
        method, _, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            time.sleep(0.1)
            continue
        event = json.loads(body)
        if event["data"].get("session_id") == session_id:
            seen[event["type"]] = event["data"]
    connection.close()
    assert set(seen) == wanted, seen
    assert seen["sale.refunded"]["refund_id"] == refund.json()["id"]
    assert seen["seat.released"] == {
        "session_id": session_id,
        "seats": ["A2"],
        "reservation_id": sale["reservation_id"],
        "reason": "refunded",
        "sale_id": sale["id"],
    }
    assert seen["ticket.checked_in"]["sale_id"] == resold["id"]

    admin = guarded.client(1, "root", "admin")
    deadline = time.monotonic() + 15
    while True:
        trail = admin.get(f"/admin/events?session_id={session_id}&limit=50").json()["items"]
        types = {event["type"] for event in trail}
        if wanted <= types or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert wanted <= types, types
