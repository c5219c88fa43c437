"""A worker killed with SIGKILL in the middle of a batch: nothing is lost, nothing applied twice.

The worker (relay, sweeper, consumers) runs as a real process with a ``ledger`` consumer whose
effect is a row per event in PostgreSQL. Once it has handled some events it stalls inside its
effect; the test kills it there, starts a new worker, and counts the rows. The guarded run uses
``exactly_once`` (effect and handled ids in one transaction); the control run marks the ids
after the effect, in a separate transaction, and shows that the kill then does double an effect.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
import sqlalchemy as sa

from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from tests import services as test_services
from tests.conftest import new_session

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

EVENTS = 300
# The session's own session.created, then one reservation.created per reservation.
PUBLISHED = EVENTS + 1
STALL_AFTER = 120

WORKER = f"""
import os, sys, time
import sqlalchemy as sa
from cinema_core.events.consumers import Consumer
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.worker import BackgroundWorker

guarded = sys.argv[1] == "guarded"
stall, inside = sys.argv[2], sys.argv[3]
services = bootstrap(Settings.from_env())
handled = 0

def maybe_stall(count):
    global handled
    handled += count
    if handled > {STALL_AFTER} and os.path.exists(stall):
        open(inside, "w").close()
        time.sleep(60)

def write(conn, events):
    conn.execute(
        sa.text("INSERT INTO ledger (event_id) VALUES (:id)"), [{{"id": e.id}} for e in events]
    )

if guarded:
    handle = services.events.processed.exactly_once("ledger", lambda conn, events: (
        write(conn, events), maybe_stall(len(events))))
    consumer = Consumer("ledger", ["#"], handle_batch=handle, idempotent=True)
else:
    engine = services.events.processed.engine
    def handle_one(event):
        with engine.begin() as conn:
            write(conn, [event])
        maybe_stall(1)
    consumer = Consumer("ledger", ["#"], handle=handle_one)
services.events.register(consumer)
BackgroundWorker(services).run_forever()
"""


@pytest.fixture
def namespace(amqp_url: str) -> Iterator[str]:
    name = test_services.unique("cinema_test")
    yield name
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    for consumer in ("webhooks", "ledger"):
        for suffix in ("", ".dead", ".retry.1s", ".retry.5s", ".retry.25s", ".retry.125s"):
            channel.queue_delete(f"{name}.{consumer}{suffix}")
    channel.exchange_delete(f"{name}.events")
    connection.close()


def _start_worker(
    mode: str, env: dict[str, str], stall: Path, inside: Path
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, mode, str(stall), str(inside)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("mode", ["guarded", "control"])
def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    mode: str, migrated_postgres_url: str, amqp_url: str, namespace: str, tmp_path: Path
) -> None:
    """After SIGKILL mid-batch and a restart, every event has its effect exactly once (guarded);
    with the ids marked after the effect instead (control), the kill doubles one."""
    engine = sa.create_engine(migrated_postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE ledger (event_id uuid NOT NULL)"))
    settings = Settings(database_url=migrated_postgres_url, amqp_url=amqp_url, namespace=namespace)
    services = bootstrap(settings)
    try:
        box = services.box
        view = new_session(box, rows=20, seats_per_row=20, price="10.00", days=1)
        for n in range(EVENTS):
            box.reserve(
                f"u{n}", view.session.id, [f"{'ABCDEFGHIJKLMNOPQRST'[n // 20]}{n % 20 + 1}"]
            )
    finally:
        services.close()

    env = {
        **os.environ,
        "CINEMA_DATABASE_URL": migrated_postgres_url,
        "CINEMA_AMQP_URL": amqp_url,
        "CINEMA_NAMESPACE": namespace,
        "CINEMA_LOG_LEVEL": "ERROR",
    }
    stall, inside = tmp_path / "stall", tmp_path / "inside"
    stall.touch()

    def rows() -> tuple[int, int]:
        with engine.connect() as conn:
            total, distinct = conn.execute(
                sa.text("SELECT count(*), count(DISTINCT event_id) FROM ledger")
            ).one()
        return int(total), int(distinct)

    worker = _start_worker(mode, env, stall, inside)
    try:
        _wait(inside.exists, 30, "the worker to stall inside a batch")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        at_kill = rows()
        assert 0 < at_kill[0] < PUBLISHED, at_kill

        stall.unlink()
        worker = _start_worker(mode, env, stall, inside)
        _wait(lambda: rows()[1] == PUBLISHED, 30, "every event to have its effect")
        time.sleep(0.5)  # a duplicate would be written within this
        total, distinct = rows()
    finally:
        worker.kill()
        worker.wait(10)
        engine.dispose()

    assert distinct == PUBLISHED, "an event was lost"
    if mode == "guarded":
        assert total == PUBLISHED, f"{total - PUBLISHED} effects applied twice"
    else:
        assert total > PUBLISHED, "the control run should show the double effect the guard prevents"
