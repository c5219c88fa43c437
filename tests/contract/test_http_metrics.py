"""GET /metrics: what the box office counted agrees with what was done through the API, by
route template (never a raw path), open unless a token is configured."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.contract.http_app import Api, error_code
from tests.contract.test_http_after_sale import bought, refund, scan, tickets


def scraped(api: Api, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of GET /metrics by name and labels."""
    answer = api.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_business_counters_agree_with_what_was_done(api: Api) -> None:
    """Three holds (one refused), two sales of three seats, a refund of one seat and one
    check-in read as exactly that."""
    session_id = api.create_session()["id"]
    first = bought(api, ["A1", "A2"], session_id=session_id)
    bought(api, ["B1"], user="bob", session_id=session_id)
    assert api.reserve(session_id, ["A1"], user="carla").status_code == 409
    assert api.reserve(session_id, ["C1"], user="carla").status_code == 201
    assert refund(api, first, json={"seats": ["A2"]}).status_code == 201
    assert scan(api, tickets(api, first)[0]["code"]).status_code == 201

    samples = scraped(api)
    assert value(samples, "cinema_holds_total") == 3
    assert value(samples, "cinema_held_seats_total") == 4
    assert value(samples, "cinema_sales_total") == 2
    assert value(samples, "cinema_sold_seats_total") == 3
    assert value(samples, "cinema_refunds_total") == 1
    assert value(samples, "cinema_refunded_seats_total") == 1
    assert value(samples, "cinema_checkins_total") == 1


def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    """Each answer counts once under its route template and status, with its latency; ids
    and unknown paths never become labels."""
    session_id = api.create_session()["id"]
    for _ in range(3):
        api.get(f"/sessions/{session_id}")
    api.get("/sessions/not-a-uuid")
    api.get("/no/such/path/123")

    samples = scraped(api)
    route = "/sessions/{session_id}"
    assert (
        value(samples, "cinema_http_requests_total", method="GET", route=route, status="200") == 3
    )
    assert (
        value(samples, "cinema_http_requests_total", method="GET", route=route, status="404") == 1
    )
    assert (
        value(samples, "cinema_http_requests_total", method="POST", route="/sessions", status="201")
        == 1
    )
    count = "cinema_http_request_duration_seconds_count"
    assert value(samples, count, method="GET", route=route, status="200") == 3
    assert (
        value(
            samples,
            "cinema_http_request_duration_seconds_sum",
            method="GET",
            route=route,
            status="200",
        )
        > 0
    )
    assert (
        value(samples, "cinema_http_requests_total", method="GET", route="unrouted", status="404")
        == 1
    )
    routes = {dict(labels).get("route") for _, labels in samples}
    assert not any(session_id in str(r) or "123" in str(r) for r in routes)


def test_the_outbox_backlog_and_its_oldest_event_are_read_when_scraped(any_api: Api) -> None:
    """With no relay running, the events of a hold wait in the outbox: the gauges count them
    and age the oldest on the box office's clock; once relayed, none waits."""
    api = any_api
    session_id = api.create_session()["id"]
    api.reserve(session_id, ["A1"])
    api.clock.advance(42)
    samples = scraped(api)
    assert value(samples, "cinema_outbox_backlog") >= 2  # session.created, reservation.created
    assert value(samples, "cinema_outbox_oldest_age_seconds") >= 42
    while api.services.relay.run_once():
        pass
    samples = scraped(api)
    assert value(samples, "cinema_outbox_backlog") == 0
    assert value(samples, "cinema_outbox_oldest_age_seconds") == 0


def test_each_open_waiting_room_reports_who_waits_and_who_is_in(api: Api) -> None:
    """A room on at one admission a minute: the first of three buyers is admitted, two wait;
    a room switched off is not reported."""
    session_id = api.create_session()["id"]
    room = {"enabled": True, "admit_per_minute": 1, "max_active": 10}
    url = f"/sessions/{session_id}/waiting-room"
    assert api.request("PUT", url, json=room, headers=api.admin).status_code == 200
    for user in ("ana", "bia", "caio"):
        joined = api.post(f"/sessions/{session_id}/queue", headers=api.auth(user))
        assert joined.status_code == 201, joined.text
    samples = scraped(api)
    assert value(samples, "cinema_waiting_room_waiting", session_id=session_id) == 2
    assert value(samples, "cinema_waiting_room_active", session_id=session_id) == 1
    off = {**room, "enabled": False}
    assert api.request("PUT", url, json=off, headers=api.admin).status_code == 200
    samples = scraped(api)
    assert ("cinema_waiting_room_waiting", (("session_id", session_id),)) not in samples


def test_the_metrics_token_is_required_when_set(open_http_api: Any) -> None:
    """With CINEMA_METRICS_TOKEN set, no token or another one is 401 in the error shape;
    the token is 200."""
    api = open_http_api(metrics_token="scrape-me")
    missing = api.get("/metrics")
    assert (missing.status_code, error_code(missing)) == (401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = api.get("/metrics", headers={"Authorization": "Bearer scrape-you"})
    assert (wrong.status_code, error_code(wrong)) == (401, "unauthorized")
    user = api.get("/metrics", headers=api.auth())
    assert user.status_code == 401, "a user's token is not the metrics token"
    assert scraped(api, Authorization="Bearer scrape-me")


def test_the_metrics_token_refusal_speaks_portuguese(open_http_api: Any) -> None:
    """The 401's message follows Accept-Language like every error."""
    api = open_http_api(metrics_token="scrape-me")
    missing = api.get("/metrics", headers={"Accept-Language": "pt-BR"})
    assert missing.json()["error"]["message"] == (
        "GET /metrics pede Authorization: Bearer <token das métricas>."
    )
    wrong = api.get("/metrics", headers={"Accept-Language": "pt-BR", "Authorization": "Bearer x"})
    assert wrong.json()["error"]["message"] == "Este não é o token das métricas."


def test_metrics_switched_off_answer_404(open_http_api: Any) -> None:
    """CINEMA_METRICS=0: nothing is counted and GET /metrics is not there."""
    api = open_http_api(metrics=False)
    answer = api.get("/metrics")
    assert (answer.status_code, error_code(answer)) == (404, "not_found")
    assert api.services.metrics is None


@pytest.mark.parametrize("method", ["BREW"])
def test_made_up_methods_share_one_label(api: Api, method: str) -> None:
    """A method a client invents is counted as other, not as a label of its own."""
    api.client.request(method, "/sessions")
    samples = scraped(api)
    assert not any(dict(labels).get("method") == method for _, labels in samples)
