"""Expiry on time, measured: with two ``cinema worker`` processes on PostgreSQL and RabbitMQ,
each of 240 lapsed reservations yields exactly one ``reservation.expired`` and one
``seat.released``, arriving at a subscriber within 2 s of ``expires_at``.

Prints the delay (arrival at a subscriber − ``expires_at``): run with ``-s`` to see it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from cinema_core.events.envelopes import Event
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from tests.conftest import new_session
from tests.flow.subscribers import Subscriber

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

RESERVATIONS = 240
HOLD_SECONDS = 3.0
WORKERS = 2
WORKER = "import sys; from entrypoints.cli import main; sys.exit(main())"


class Arrivals:
    """A subscriber of the expiry events, noting when each arrives."""

    def __init__(self, url: str, exchange: str):
        self.got: list[tuple[str, str, float]] = []
        self.swept: dict[str, float] = {}
        self._subscriber = Subscriber(
            url, exchange, self._heard, "reservation.expired", "seat.released"
        )

    def _heard(self, event: Event) -> None:
        self.got.append((event.type, event.data["reservation_id"], time.time()))
        self.swept[event.data["reservation_id"]] = event.occurred_at.timestamp()

    def stop(self) -> None:
        self._subscriber.stop()


def test_each_lapsed_hold_yields_its_two_events_once_within_2_seconds(
    migrated_postgres_url: str, amqp_url: str, namespace: str, tmp_path: Path
) -> None:
    """240 holds lapse with two workers running: one expired and one seat.released each,
    every one at the subscriber within 2 s of expires_at."""
    env = {
        **os.environ,
        "CINEMA_DATABASE_URL": migrated_postgres_url,
        "CINEMA_AMQP_URL": amqp_url,
        "CINEMA_NAMESPACE": namespace,
        "CINEMA_LOG_LEVEL": "WARNING",
        "CINEMA_LOG_FORMAT": "text",
    }
    arrivals = Arrivals(amqp_url, f"{namespace}.events")
    logs = [(tmp_path / f"worker{n}.log").open("wb") for n in range(WORKERS)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for log in logs
    ]
    services = bootstrap(
        Settings(
            database_url=migrated_postgres_url,
            amqp_url=amqp_url,
            namespace=namespace,
            hold_seconds=HOLD_SECONDS,
        )
    )
    expires: dict[str, float] = {}
    try:
        view = new_session(services.box, rows=20, seats_per_row=20, price="10.00", days=1)
        time.sleep(1.0)  # let the workers start before the first hold can lapse
        for n in range(RESERVATIONS):
            label = f"{'ABCDEFGHIJKLMNOPQRST'[n // 20]}{n % 20 + 1}"
            reservation = services.box.reserve(f"u{n}", view.session.id, [label])
            expires[str(reservation.id)] = reservation.expires_at.timestamp()
        deadline = time.monotonic() + HOLD_SECONDS + 10
        while len(arrivals.got) < 2 * RESERVATIONS and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # duplicates, if any, would arrive now
    finally:
        arrivals.stop()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(10)
        for log in logs:
            log.close()
        services.close()

    counts = Counter((type, reservation) for type, reservation, _ in arrivals.got)
    assert set(counts.values()) == {1}, "an expiry event arrived twice"
    for type in ("reservation.expired", "seat.released"):
        assert {r for t, r in counts if t == type} == set(expires), f"missing {type}"
    delays = sorted(at - expires[reservation] for _, reservation, at in arrivals.got)
    median, worst = statistics.median(delays), delays[-1]
    # Of which the sweeper's part: from expires_at to the event's occurred_at.
    swept = sorted(arrivals.swept[r] - expires[r] for r in expires)
    print(
        f"\nexpiry → event at subscriber: n={len(delays)} median={median * 1000:.0f} ms "
        f"p95={delays[int(0.95 * len(delays)) - 1] * 1000:.0f} ms worst={worst * 1000:.0f} ms "
        f"(workers={WORKERS}, hold={HOLD_SECONDS}s); sweeper's part: median "
        f"{statistics.median(swept) * 1000:.0f} ms, worst {swept[-1] * 1000:.0f} ms"
    )
    assert delays[0] >= 0, "an event went out before its hold lapsed"
    said = "".join(p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("worker*.log"))
    assert worst < 2.0, said
