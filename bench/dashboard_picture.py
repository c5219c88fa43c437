"""The README's picture of the Grafana dashboard, drawn from real figures without Grafana.

Runs a box office in this process (in memory, behind the real HTTP app), plays a short load
of buyers (holds, payments, a few refunds and check-ins, some refused holds), scrapes
``GET /metrics`` every second of it, and draws the dashboard's panels from the scrapes the way
its PromQL would compute them (rates between scrapes, quantiles from the histogram's buckets).

    python -m bench.dashboard_picture [docs/screenshots/metrics-dashboard.png]

Needs the bench extra (matplotlib).
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from entrypoints.http.framework.auth import issue_token

SECRET = "dashboard-picture-secret-long-enough-for-hs256"
SECONDS = 30
# Enough seats that the load does not sell out before the picture ends.
SESSIONS = 10
Scrape = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Scrape:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def play(seconds: int) -> list[tuple[float, Scrape]]:
    """The load, and a scrape each second: (seconds since start, samples)."""
    settings = Settings(auth_secret=SECRET, rate_per_user=0.0, rate_per_client=0.0)
    app = create_app(bootstrap(settings), run_worker=True)
    admin = {"Authorization": f"Bearer {issue_token(SECRET, 'admin', 'admin')}"}
    staff = {"Authorization": f"Bearer {issue_token(SECRET, 'door', 'staff')}"}
    rng = random.Random(24)
    scrapes: list[tuple[float, Scrape]] = []
    with TestClient(app) as client:
        starts = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        sessions = [
            client.post(
                "/sessions",
                json={
                    "movie": f"Filme {n}",
                    "room": f"Sala {n}",
                    "starts_at": starts,
                    "price": "25.00",
                    "rows": 16,
                    "seats_per_row": 16,
                },
                headers=admin,
            ).json()["id"]
            for n in range(SESSIONS)
        ]
        started = time.monotonic()
        next_scrape = started
        buyer = 0
        while (now := time.monotonic()) - started < seconds:
            if now >= next_scrape:
                scrapes.append((now - started, scrape(client)))
                next_scrape += 1.0
            # The load swells and ebbs, so the panels show a shape rather than a flat line.
            phase = (now - started) / seconds
            if rng.random() > 0.35 + 0.6 * abs(phase - 0.5):
                time.sleep(0.002)
                continue
            buyer += 1
            user = {"Authorization": f"Bearer {issue_token(SECRET, f'buyer-{buyer}', 'customer')}"}
            session_id = rng.choice(sessions)
            client.get(f"/sessions/{session_id}/seats")
            held = client.post(
                "/reservations",
                json={"session_id": session_id, "count": rng.randint(1, 3)},
                headers=user,
            )
            if held.status_code != 201:
                continue
            if rng.random() < 0.15:
                client.delete(f"/reservations/{held.json()['id']}", headers=user)
                continue
            sale = client.post(f"/reservations/{held.json()['id']}/payment", headers=user).json()
            if rng.random() < 0.1:
                client.post(f"/sales/{sale['id']}/refunds", headers=user)
            elif rng.random() < 0.3:
                tickets = client.get(f"/sales/{sale['id']}/tickets", headers=user).json()
                client.post("/checkins", json={"code": tickets["items"][0]["code"]}, headers=staff)
        scrapes.append((time.monotonic() - started, scrape(client)))
    return scrapes


def total(samples: Scrape, name: str, **labels: str) -> float:
    return sum(
        value
        for (n, ls), value in samples.items()
        if n == name and all(dict(ls).get(k) == v for k, v in labels.items())
    )


def rates(
    scrapes: list[tuple[float, Scrape]], name: str, **labels: str
) -> tuple[list[float], list[float]]:
    """rate(name[1s]) between consecutive scrapes, at each later scrape's time."""
    times, values = [], []
    for (t0, a), (t1, b) in itertools.pairwise(scrapes):
        times.append(t1)
        values.append((total(b, name, **labels) - total(a, name, **labels)) / (t1 - t0))
    return times, values


def quantile(q: float, a: Scrape, b: Scrape) -> float:
    """histogram_quantile(q, sum by (le) (rate(..._bucket))) between two scrapes."""
    buckets: dict[float, float] = defaultdict(float)
    for (name, labels), value in b.items():
        if name == "cinema_http_request_duration_seconds_bucket":
            buckets[float(dict(labels)["le"])] += value - a.get((name, labels), 0.0)
    bounds = sorted(buckets)
    count = buckets[bounds[-1]] if bounds else 0.0
    if count <= 0:
        return 0.0
    rank, lower, below = q * count, 0.0, 0.0
    for bound in bounds:
        if buckets[bound] >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(buckets[bound] - below, 1e-9)
        lower, below = bound, buckets[bound]
    return lower


def draw(scrapes: list[tuple[float, Scrape]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.style.use("dark_background")
    figure, axes = plt.subplots(2, 3, figsize=(15, 7.5))
    figure.suptitle(
        "Cinema box office (deploy/grafana/box-office.json) — real scrapes of GET /metrics, "
        f"{len(scrapes)} over {scrapes[-1][0]:.0f} s",
        fontsize=12,
    )
    last = scrapes[-1][1]
    routes = sorted(
        {
            (dict(ls)["route"], dict(ls)["status"])
            for (n, ls) in last
            if n == "cinema_http_requests_total"
        },
        key=lambda rs: -total(last, "cinema_http_requests_total", route=rs[0], status=rs[1]),
    )[:6]
    ax = axes[0][0]
    for route, status in routes:
        ax.plot(
            *rates(scrapes, "cinema_http_requests_total", route=route, status=status),
            label=f"{route} {status}",
        )
    ax.set_title("Requests per second by route and status")
    ax.legend(fontsize=6)
    ax = axes[0][1]
    pairs = list(itertools.pairwise(scrapes))
    for q in (0.5, 0.95, 0.99):
        ax.plot(
            [b[0] for _, b in pairs],
            [1000 * quantile(q, a[1], b[1]) for a, b in pairs],
            label=f"p{int(q * 100)}",
        )
    ax.set_title("Latency (ms)")
    ax.legend(fontsize=7)
    ax = axes[0][2]
    for name, label in (
        ("cinema_holds_total", "holds"),
        ("cinema_sales_total", "sales"),
        ("cinema_refunds_total", "refunds"),
        ("cinema_checkins_total", "check-ins"),
    ):
        times, values = rates(scrapes, name)
        ax.plot(times, [60 * v for v in values], label=label)
    ax.set_title("Holds, sales, refunds, check-ins per minute")
    ax.legend(fontsize=7)
    ax = axes[1][0]
    ax.plot([t for t, _ in scrapes], [total(s, "cinema_outbox_backlog") for _, s in scrapes])
    ax.set_title("Outbox backlog (events waiting)")
    ax = axes[1][1]
    ax.plot(
        [t for t, _ in scrapes], [total(s, "cinema_outbox_oldest_age_seconds") for _, s in scrapes]
    )
    ax.set_title("Oldest unpublished event (s)")
    ax = axes[1][2]
    figures = [
        ("holds", total(last, "cinema_holds_total")),
        ("sold seats", total(last, "cinema_sold_seats_total")),
        ("refunds", total(last, "cinema_refunds_total")),
        ("check-ins", total(last, "cinema_checkins_total")),
        ("requests", total(last, "cinema_http_requests_total")),
    ]
    ax.barh([f for f, _ in figures], [v for _, v in figures], color="tab:green")
    for index, (_, v) in enumerate(figures):
        ax.text(v, index, f" {v:.0f}", va="center", fontsize=8)
    ax.set_title("Totals at the last scrape")
    for row in axes:
        for a in row:
            a.grid(alpha=0.2)
            a.tick_params(labelsize=7)
    for a in (*axes[0], axes[1][0], axes[1][1]):
        a.set_xlabel("seconds", fontsize=7)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=90)


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/screenshots/metrics-dashboard.png")
    draw(play(SECONDS), out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
