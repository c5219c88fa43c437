"""Webhooks end to end: a real receiver that fails, then answers too late, then accepts gets
every sale's ``payment.confirmed`` in the end, exactly once by its event id, each signature
verified; a worker killed half-way (SIGKILL) and started again loses none; a receiver answering
410 disables its webhook after one try; RabbitMQ cut for a while loses none either."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest

from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from entrypoints.worker import WEBHOOK_SENDERS, BackgroundWorker
from tests.conftest import new_session
from tests.flow.processes import environment, spawn, stop
from tests.proxy import Outage
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

SALES = 12
TIMEOUT = 0.5
AMQP = "amqp://guest:guest@127.0.0.1:{port}/%2F"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(late=TIMEOUT * 3)
    yield receiver
    receiver.close()


def settings(database_url: str, amqp_url: str, namespace: str) -> Settings:
    return Settings(
        database_url=database_url,
        amqp_url=amqp_url,
        namespace=namespace,
        webhook_timeout_seconds=TIMEOUT,
        webhook_allow_private=True,
    )


def register(services: Services, receiver: Receiver, path: str) -> str:
    assert services.webhooks is not None
    hook = services.webhooks.register(receiver.url + path, ["payment.confirmed"])
    receiver.secrets[path] = hook.secret
    return str(hook.id)


def sell(services: Services, count: int, user: str) -> None:
    box = services.box
    session = new_session(box, rows=4, seats_per_row=max(4, count))
    for n in range(count):
        reservation = box.reserve(user, session.session.id, [f"A{n + 1}"])
        box.pay(reservation.id, user)


def wait_for(done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        time.sleep(0.1)


def test_a_flaky_receiver_gets_each_event_once_across_a_killed_worker(
    clean_postgres_url: str, amqp_url: str, namespace: str, receiver: Receiver, tmp_path: Path
) -> None:
    """500, then a timeout, then a 200: each of the sales' events is accepted once, signed;
    the delivery log shows the three attempts; the 410 receiver was tried once (twice if
    both senders had one in flight) and its webhook is disabled with nothing pending."""
    services = bootstrap(settings(clean_postgres_url, amqp_url, namespace))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        assert services.webhooks is not None
        flaky = register(services, receiver, "/flaky")
        gone = register(services, receiver, "/gone")
        env = environment(
            {
                "CINEMA_DATABASE_URL": clean_postgres_url,
                "CINEMA_AMQP_URL": amqp_url,
                "CINEMA_NAMESPACE": namespace,
                "CINEMA_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
                "CINEMA_LOG_LEVEL": "WARNING",
            }
        )
        # The killed worker's claims come back when their lease lapses: a short one (see there).
        command = [sys.executable, "-m", "tests.flow.short_lease_worker"]
        first = spawn(command, env, tmp_path / "worker-1.log")
        processes.append(first)
        sell(services, SALES, "alice")
        # Half-way: some events accepted, others waiting out their backoff. No warning.
        wait_for(lambda: len(receiver.accepted) >= 1, 60, "a first accepted event")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        processes.append(spawn(command, env, tmp_path / "worker-2.log"))
        wait_for(lambda: len(receiver.accepted) == SALES, 90, f"{SALES} accepted events")
        time.sleep(1)  # anything sent twice would have arrived by now
        log = services.webhooks.deliveries(UUID(flaky), None, 100)
        gone_hook = services.webhooks.get(UUID(gone))
        gone_log = services.webhooks.deliveries(gone_hook.id, None, 100)
    finally:
        stop(processes)
        services.close()
    assert receiver.bad_signatures == 0
    assert {e["type"] for e in receiver.accepted.values()} == {"payment.confirmed"}
    assert len(log) == SALES
    assert {d.status for d in log} == {"delivered"}
    # Each was tried three times at least; an attempt in flight when the worker was killed
    # reached the receiver but not the log (it is sent again: at least once).
    assert all(receiver.tries[str(d.event_id)] >= 3 for d in log)
    assert all(2 <= d.attempts <= receiver.tries[str(d.event_id)] for d in log)
    assert {str(d.event_id) for d in log} == set(receiver.accepted)
    # A 200 the killed worker got but never logged is sent again: the receiver, deduplicating by
    # Cinema-Event-Id, takes it once. No other event comes twice.
    unlogged = sum(1 for d in log if d.attempts < receiver.tries[str(d.event_id)])
    assert receiver.duplicates <= unlogged
    # Once it said 410, only a claim already in flight on the other sender could still try.
    assert 1 <= receiver.gone_hits <= WEBHOOK_SENDERS
    assert gone_hook.disabled_reason == "gone"
    assert len(gone_log) == SALES
    assert {d.status for d in gone_log} == {"disabled"}


def test_nothing_is_lost_while_the_broker_is_cut(
    clean_postgres_url: str, amqp_url: str, namespace: str, receiver: Receiver
) -> None:
    """Sales made while RabbitMQ is unreachable wait in the outbox; once it is back each of
    their events reaches the receiver, once."""
    host, port = "127.0.0.1", int(amqp_url.split("@", 1)[1].split("/", 1)[0].split(":")[1])
    with Outage(host, port) as outage:
        url = outage.url(AMQP)
        services = bootstrap(settings(clean_postgres_url, url, namespace))
        worker = BackgroundWorker(services)
        try:
            # A receiver that takes each event at once: what is tried here is the broker.
            register(services, receiver, "/ok")
            worker.start()
            sell(services, 3, "bob")
            wait_for(lambda: len(receiver.accepted) == 3, 60, "the first sales' events")
            outage.cut()
            sell(services, SALES, "carol")
            time.sleep(2)
            assert len(receiver.accepted) == 3
            outage.restore()
            wait_for(lambda: len(receiver.accepted) == 3 + SALES, 90, "every event")
            time.sleep(1)
        finally:
            worker.stop()
            services.close()
    assert receiver.duplicates == 0
    assert receiver.bad_signatures == 0
