"""deploy/: the Grafana dashboard and the Prometheus scrape config speak of what the box office
exports, by its exact names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.contract.http_app import Api

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Names in a PromQL expression that are not metrics: functions, keywords, labels.
_NOT_METRICS = {"sum", "by", "rate", "histogram_quantile", "max", "le", "route", "status"}
_NOT_METRICS |= {"consumer", "session_id", "without", "on", "irate", "increase", "avg"}


def exported(api: Api) -> set[str]:
    """Every sample name GET /metrics can answer with, once each kind of sample exists."""
    session_id = api.create_session()["id"]
    api.reserve(session_id, ["A1"])
    api.services.box.metrics.payment("pending")
    room = {"enabled": True, "admit_per_minute": 1, "max_active": 10}
    api.request("PUT", f"/sessions/{session_id}/waiting-room", json=room, headers=api.admin)
    text = api.get("/metrics").text
    names = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    # The consumer-lag gauge has samples only with a broker; its name is declared all the same.
    return names | {"cinema_consumer_lag_messages"}


def test_every_dashboard_expression_names_exported_metrics(api: Api) -> None:
    """Each panel's query names only metrics GET /metrics exports, and every business metric
    has a panel."""
    dashboard = json.loads((DEPLOY / "grafana" / "box-office.json").read_text())
    names = exported(api)
    used: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = re.sub(r'"[^"]*"', "", target["expr"])
            expr = re.sub(r"\[[^\]]*\]", "", expr)
            for word in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", expr):
                if word in _NOT_METRICS:
                    continue
                assert word in names, f"{panel['title']}: {word} is not exported"
                used.add(word)
    wanted = {
        "cinema_http_requests_total",
        "cinema_http_request_duration_seconds_bucket",
        "cinema_holds_total",
        "cinema_sales_total",
        "cinema_refunds_total",
        "cinema_checkins_total",
        "cinema_payments_total",
        "cinema_outbox_backlog",
        "cinema_outbox_oldest_age_seconds",
        "cinema_consumer_lag_messages",
        "cinema_waiting_room_waiting",
        "cinema_waiting_room_active",
    }
    assert wanted <= used


def test_prometheus_scrapes_both_api_processes_at_metrics() -> None:
    """The scrape config reads /metrics of compose's two API processes with a bearer token."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    assert set(job["static_configs"][0]["targets"]) == {"api1:8000", "api2:8000"}
