"""What metrics cost per sale: the CPU of the same sales with CINEMA_METRICS on and off.

Each round sells ``SALES`` holds (GET the seat map, POST /reservations, POST its payment)
through the real HTTP app in this process, in memory, and reads the process's CPU time; rounds
alternate on and off so that drift hurts neither. The metrics calls of one sale are then timed
alone. ``--multiprocess`` measures prometheus-client's multiprocess mode (memory-mapped files;
the directory must be set before the client loads).

    python -m bench.metrics_cost [--multiprocess]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

SECRET = "metrics-cost-secret-long-enough-for-hs256"
SALES = 400
ROUNDS = 6


def cpu_per_sale(metrics: bool) -> float:
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import Settings
    from entrypoints.http.app import create_app

    settings = Settings(
        auth_secret=SECRET,
        rate_per_user=0.0,
        rate_per_client=0.0,
        metrics=metrics,
        metrics_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR"),
        log_level="WARNING",
    )
    return cpu_of_sales(create_app(bootstrap(settings), run_worker=False), SECRET, SALES)


def cpu_of_sales(app: Any, secret: str, sales: int, room: str = "Sala") -> float:
    """The process's CPU per sale of ``sales`` sales through ``app`` (signed with ``secret``):
    each a seat map read, a hold of one seat of a new session in ``room``, and its payment."""
    from starlette.testclient import TestClient

    from entrypoints.http.framework.auth import issue_token

    admin = {"Authorization": f"Bearer {issue_token(secret, 'admin', 'admin')}"}
    users = [
        {"Authorization": f"Bearer {issue_token(secret, f'b{n}', 'customer')}"}
        for n in range(sales)
    ]
    starts = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    with TestClient(app) as client:
        session = client.post(
            "/sessions",
            json={
                "movie": "X",
                "room": room,
                "starts_at": starts,
                "price": "25.00",
                "rows": 20,
                "seats_per_row": 20,
            },
            headers=admin,
        ).json()["id"]
        seats = [f"{chr(65 + r)}{n}" for r in range(20) for n in range(1, 21)]
        started = time.process_time()
        for n, user in enumerate(users):
            client.get(f"/sessions/{session}/seats")
            held = client.post(
                "/reservations", json={"session_id": session, "seats": [seats[n]]}, headers=user
            ).json()
            client.post(f"/reservations/{held['id']}/payment", headers=user)
        return (time.process_time() - started) / sales


def calls_per_sale(n: int = 50_000) -> float:
    """CPU of the metrics calls one sale makes (three requests recorded, a hold, a sale),
    alone: the precise figure the rounds above are too noisy to give."""
    from adapters.prometheus import PrometheusMetrics

    metrics = PrometheusMetrics(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    routes = (
        ("GET", "/sessions/{session_id}/seats", 200),
        ("POST", "/reservations", 201),
        ("POST", "/reservations/{reservation_id}/payment", 201),
    )

    def sale() -> None:
        for method, route, status in routes:
            metrics.request_started()
            metrics.request(method, route, status, 0.003)
        metrics.held(1)
        metrics.sold(1)

    for _ in range(1000):
        sale()
    started = time.process_time()
    for _ in range(n):
        sale()
    return (time.process_time() - started) / n


def main(argv: list[str]) -> int:
    if "--multiprocess" in argv:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cinema-metrics-")
    cpu_per_sale(True)  # warm up imports and caches
    on, off = [], []
    for _ in range(ROUNDS):
        off.append(cpu_per_sale(False))
        on.append(cpu_per_sale(True))
    m_on, m_off = statistics.median(on), statistics.median(off)
    mode = "multiprocess (mmap files)" if "--multiprocess" in argv else "one process"
    print(f"metrics {mode}: {SALES} sales × {ROUNDS} rounds each way")
    for name, runs, median in (("off", off, m_off), ("on", on, m_on)):
        rounds = [round(x * 1000, 3) for x in runs]
        print(f"CPU per sale, metrics {name}: {median * 1000:.3f} ms (rounds {rounds})")
    extra = m_on - m_off
    print(f"cost of metrics: {extra * 1000:.3f} ms per sale, {100 * extra / m_off:.1f} %")
    calls = calls_per_sale()
    print(f"the metrics calls alone: {calls * 1e6:.1f} µs per sale, {100 * calls / m_off:.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
