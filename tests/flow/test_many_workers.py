"""Four `cinema serve` and three `cinema worker` processes on one PostgreSQL and one RabbitMQ:
seven sweepers, seven relays and seven webhook consumers at once.

Holds made through all four API processes, some paid, the rest left to lapse. Then: every lapsed
hold is expired exactly once (one `reservation.expired` and one `seat.released` each, in the
outbox and at a subscriber), every event in the outbox reaches a subscriber exactly once, each
reservation's events in their outbox order, and an SSE
client on every API process has seen each seat change exactly once, ending on the true map.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pika
import pytest
import sqlalchemy as sa

from cinema_core.events.envelopes import Event
from tests.flow.processes import environment, free_port, spawn, stop, wait_healthy
from tests.flow.subscribers import Subscriber
from tests.flow.test_events_sse import StreamReader
from tests.flow.test_many_processes import SECRET, token

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

APIS, WORKERS = 4, 3
HOLD_SECONDS = 2.0
RESERVATIONS = 48  # one seat each, a quarter through each API process; every third is paid


class Tap:
    """A subscriber of every event (an exclusive queue bound with ``#``), in arrival order."""

    def __init__(self, url: str, exchange: str):
        self.got: list[tuple[str, str, str | None]] = []  # (event id, type, reservation id)
        self._subscriber = Subscriber(url, exchange, self._heard)

    def _heard(self, event: Event) -> None:
        self.got.append((str(event.id), event.type, event.data.get("reservation_id")))

    def stop(self) -> None:
        self._subscriber.stop()


@pytest.fixture
def fleet(
    migrated_postgres_url: str, amqp_url: str, namespace: str, tmp_path: Path
) -> Iterator[list[str]]:
    """Four API processes and three workers on one database and broker; the APIs' URLs."""
    env = environment(
        {
            "CINEMA_DATABASE_URL": migrated_postgres_url,
            "CINEMA_AMQP_URL": amqp_url,
            "CINEMA_NAMESPACE": namespace,
            "CINEMA_AUTH_SECRET": SECRET,
            "CINEMA_RESERVATION_TTL_SECONDS": str(HOLD_SECONDS),
            "CINEMA_RATE_LIMIT_USER_PER_SECOND": "0",
            "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND": "0",
            # Seven processes on one PostgreSQL: keep their pools small.
            "CINEMA_DATABASE_POOL_SIZE": "3",
            "CINEMA_LOG_LEVEL": "WARNING",
        }
    )
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    logs = [tmp_path / f"serve-{n}.log" for n in range(APIS)]
    logs += [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
    try:
        for n, log_path in enumerate(logs):
            command = ["worker"]
            if n < APIS:
                port = free_port()
                urls.append(f"http://127.0.0.1:{port}")
                command = ["serve", "--port", str(port)]
            processes.append(
                spawn([sys.executable, "-m", "entrypoints.cli", *command], env, log_path)
            )
        for url, process, log_path in zip(urls, processes, logs, strict=False):
            wait_healthy(url, process, log_path)
        _wait_for_consumers(amqp_url, f"{namespace}.webhooks", APIS + WORKERS, processes, logs)
        yield urls
    finally:
        stop(processes)


def _wait_for_consumers(
    url: str, queue: str, count: int, processes: list[Any], logs: list[Path]
) -> None:
    """Until ``count`` runners consume the webhooks queue: every process's worker is running."""
    deadline = time.monotonic() + 30
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        while True:
            for process, log in zip(processes, logs, strict=True):
                if process.poll() is not None:
                    pytest.fail(f"{log.name} exited: {log.read_text()[-2000:]}")
            try:
                declared = connection.channel().queue_declare(queue, passive=True)
                if declared.method.consumer_count >= count:
                    return
            except pika.exceptions.ChannelClosedByBroker:
                pass  # not declared yet
            assert time.monotonic() < deadline, f"fewer than {count} consumers on {queue}"
            time.sleep(0.1)
    finally:
        connection.close()


def _outbox(database_url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT seq, id::text AS id, type, data->>'reservation_id' AS reservation,"
                    " published_at IS NOT NULL AS published"
                    " FROM outbox o ORDER BY seq"
                )
            )
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def test_seven_sweepers_and_relays_expire_and_publish_each_event_once_in_order(
    fleet: list[str], migrated_postgres_url: str, amqp_url: str, namespace: str
) -> None:
    """Holds through four APIs with seven workers running: each lapsed hold expired once, each
    event published once and in its reservation's order, and every live feed exact."""
    tap = Tap(amqp_url, f"{namespace}.events")
    admin = {"Authorization": f"Bearer {token('admin-1', 'admin')}"}
    created = httpx.post(
        f"{fleet[0]}/sessions",
        headers=admin,
        json={
            "movie": "Filme X",
            "room": "Sala 1",
            "starts_at": "2099-01-01T19:00:00Z",
            "price": "25.00",
            "rows": 4,
            "seats_per_row": 12,
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    readers = [StreamReader(f"{url}/sessions/{session_id}/seats/stream") for url in fleet]
    try:
        for reader in readers:
            assert reader.snapshot.wait(10), "no snapshot"
        labels = [f"{row}{number}" for row in "ABCD" for number in range(1, 13)]
        paid: dict[str, str] = {}
        lapsing: dict[str, str] = {}
        for n, label in enumerate(labels[:RESERVATIONS]):
            with httpx.Client(
                base_url=fleet[n % APIS],
                headers={"Authorization": f"Bearer {token(f'u{n}')}"},
                timeout=10,
            ) as client:
                answer = client.post(
                    "/reservations", json={"session_id": session_id, "seats": [label]}
                )
                assert answer.status_code == 201, answer.text
                reservation_id = answer.json()["id"]
                if n % 3 == 0:
                    payment = client.post(f"/reservations/{reservation_id}/payment")
                    assert payment.status_code == 201, payment.text
                    paid[reservation_id] = label
                else:
                    lapsing[reservation_id] = label

        def all_arrived() -> bool:
            kinds = Counter((kind, reservation) for _, kind, reservation in tap.got)
            return all(kinds[("reservation.expired", r)] for r in lapsing) and all(
                kinds[("payment.confirmed", r)] for r in paid
            )

        deadline = time.monotonic() + HOLD_SECONDS + 15
        while not all_arrived():
            assert time.monotonic() < deadline, "the expiry and payment events did not all arrive"
            time.sleep(0.05)
        time.sleep(1.5)  # duplicates, if any, would arrive now
    finally:
        tap.stop()
        for reader in readers:
            reader.close()

    outbox = _outbox(migrated_postgres_url)
    arrived = [event_id for event_id, _, _ in tap.got]
    duplicates = [event_id for event_id, times in Counter(arrived).items() if times > 1]
    assert not duplicates, f"{len(duplicates)} events arrived more than once"
    assert set(arrived) == {row["id"] for row in outbox}, "an event was lost or made up"
    assert all(row["published"] for row in outbox)

    by_reservation = Counter((row["type"], row["reservation"]) for row in outbox)
    for reservation in lapsing:
        assert by_reservation[("reservation.expired", reservation)] == 1
        assert by_reservation[("seat.released", reservation)] == 1
    for reservation in paid:
        assert by_reservation[("reservation.expired", reservation)] == 0
        assert by_reservation[("payment.confirmed", reservation)] == 1

    # The relay's guarantee: one aggregate's events go out in the order they were recorded.
    seq = {row["id"]: row["seq"] for row in outbox}
    for reservation in [*paid, *lapsing]:
        order = [seq[e] for e, _, r in tap.got if r == reservation]
        assert order == sorted(order), f"reservation {reservation}'s events out of order"

    expected = {label: ["held", "sold"] for label in paid.values()}
    expected |= {label: ["held", "available"] for label in lapsing.values()}
    for url, reader in zip(fleet, readers, strict=True):
        seen: dict[str, list[str]] = {}
        for change in reader.changes:
            seen.setdefault(change["label"], []).append(change["status"])
        assert seen == expected, f"the live feed of {url} is not exact"
        final = httpx.get(f"{url}/sessions/{session_id}/seats", timeout=10).json()["seats"]
        assert {s["label"]: s["status"] for s in final if s["label"] in expected} == {
            label: statuses[-1] for label, statuses in expected.items()
        }
    print(
        f"\n{len(outbox)} events, {len(lapsing)} holds lapsed, {len(paid)} paid, through "
        f"{APIS} API processes and {WORKERS} workers: each once, in order"
    )


def test_control_relays_without_the_lock_publish_events_twice(
    migrated_postgres_url: str, amqp_url: str, namespace: str
) -> None:
    """Control run: seven relays reading and publishing the outbox as the relay does but
    without its advisory lock, released together, publish events more than once; so the run
    above would have seen a duplicate had the lock not held."""
    from adapters.postgres import rows
    from adapters.postgres.sql import outbox as statements
    from adapters.rabbitmq import RabbitEventBus, Topology
    from tests.concurrency import run_together

    engine = sa.create_engine(migrated_postgres_url, poolclass=sa.pool.NullPool)
    tap = Tap(amqp_url, f"{namespace}.events")
    buses = [RabbitEventBus(amqp_url, Topology(namespace)) for _ in range(7)]
    read = threading.Barrier(7)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO outbox (id, type, occurred_at, data) SELECT gen_random_uuid(),"
                    " 'reservation.created', now(), jsonb_build_object('n', n)"
                    " FROM generate_series(1, 40) AS n"
                )
            )

        def lockless_relay(index: int) -> int:
            with engine.connect() as connection, connection.begin():
                batch = (
                    connection.exec_driver_sql(statements.UNPUBLISHED_EVENTS, {"limit": 500})
                    .mappings()
                    .all()
                )
                read.wait()  # every relay has read before any marks: the window a race hits
                buses[index].publish([rows.event_from_row(row) for row in batch])
                connection.exec_driver_sql(
                    statements.MARK_PUBLISHED, {"seqs": rows.array(row["seq"] for row in batch)}
                )
                return len(batch)

        results = run_together(7, lockless_relay)
        assert all(isinstance(result, int) for result in results), results
        deadline = time.monotonic() + 10
        while len(tap.got) < sum(results) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        tap.stop()
        for bus in buses:
            bus.close()
        engine.dispose()
    times = Counter(event_id for event_id, _, _ in tap.got)
    assert len(times) == 40
    assert max(times.values()) > 1, "the race never fired: the run above proves nothing"
