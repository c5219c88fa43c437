"""HTTP contract: the admin audit trail, the background worker inside the app, and the logs."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import pytest

from entrypoints.logs import JsonFormatter, TextFormatter
from tests.contract.http_app import Api, bad_fields

OpenApi = Callable[..., Api]


def _sold_and_lapsed(api: Api) -> tuple[str, str]:
    session_id = api.create_session()["id"]
    paid = api.reserve(session_id, ["A1"]).json()
    api.pay(paid["id"])
    api.reserve(session_id, ["B1"], user="bob")
    api.clock.advance(30)
    api.services.box.expire_due()
    api.services.relay.run_once()  # the audit trail holds what the relay has published
    return session_id, paid["id"]


def test_events_newest_first_in_envelopes(api: Api) -> None:
    """GET /admin/events lists every event newest first, in the contract's envelope."""
    _sold_and_lapsed(api)
    items = api.get("/admin/events", headers=api.admin).json()["items"]
    assert [item["type"] for item in items] == [
        "seat.released",
        "reservation.expired",
        "reservation.created",
        "payment.confirmed",
        "reservation.created",
        "session.created",
    ]
    assert set(items[0]) == {"id", "type", "occurred_at", "data"}
    assert items[0]["data"]["reason"] == "expired"


def test_events_filter_and_page(api: Api) -> None:
    """type and session_id filter; limit and next_cursor page through without overlap."""
    session_id, _ = _sold_and_lapsed(api)
    _sold_and_lapsed(api)
    created = api.get("/admin/events?type=reservation.created", headers=api.admin).json()
    assert len(created["items"]) == 4
    mine = api.get(f"/admin/events?session_id={session_id}", headers=api.admin).json()
    assert len(mine["items"]) == 6
    assert {item["data"]["session_id"] for item in mine["items"]} == {session_id}
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/admin/events{query}", headers=api.admin).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 12


@pytest.mark.parametrize(
    ("query", "field"),
    [("type=nope", "type"), ("session_id=42", "session_id"), ("cursor=abc", "cursor")],
)
def test_bad_event_filters_are_named(api: Api, query: str, field: str) -> None:
    """Unknown type, malformed session id or cursor: 422 naming it."""
    assert bad_fields(api.get(f"/admin/events?{query}", headers=api.admin)) == {field}


def test_worker_in_the_app_expires_and_publishes_within_a_second(open_http_api: OpenApi) -> None:
    """With the app's worker running, a lapsed hold's two events go out within 1 s."""
    api = open_http_api(run_worker=True)
    published: list[str] = []
    api.services.local_events.subscribe(lambda event: published.append(event.type))
    session_id = api.create_session()["id"]
    made = api.reserve(session_id, ["C1"]).json()
    api.clock.advance(30)
    started = time.monotonic()
    while published.count("seat.released") < 1 and time.monotonic() - started < 1.0:
        time.sleep(0.02)
    assert published.count("reservation.expired") == 1
    assert published.count("seat.released") == 1
    assert api.get(f"/reservations/{made['id']}", headers=api.auth()).json()["status"] == "expired"


def test_access_log_names_route_status_and_user(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """One access line per request: request id, method, route template, status, user."""
    caplog.set_level(logging.INFO, "cinema.access")
    session_id = api.create_session()["id"]
    api.get(f"/reservations/{session_id}", headers={**api.auth("zoe"), "X-Request-Id": "r-1"})
    line = next(r for r in caplog.records if getattr(r, "request_id", None) == "r-1")
    assert line.route == "/reservations/{reservation_id}"  # type: ignore[attr-defined]
    assert (line.method, line.status, line.user) == ("GET", 404, "zoe")  # type: ignore[attr-defined]
    assert line.duration_ms >= 0  # type: ignore[attr-defined]


def test_published_events_are_logged(
    open_http_api: OpenApi, caplog: pytest.LogCaptureFixture
) -> None:
    """Each published domain event is logged at INFO with its type and id."""
    caplog.set_level(logging.INFO, "cinema.events")
    api = open_http_api()
    session_id = api.create_session()["id"]
    api.reserve(session_id, ["A1"])
    api.services.relay.run_once()
    logged = [r for r in caplog.records if r.name == "cinema.events"]
    assert [getattr(r, "event_type", None) for r in logged] == [
        "session.created",
        "reservation.created",
    ]


def test_json_log_lines_carry_extra_fields() -> None:
    """The JSON formatter writes one object per line with the extra= fields as keys."""
    record = logging.makeLogRecord(
        {"name": "cinema.x", "levelname": "INFO", "msg": "hi %s", "args": ("there",), "user": "u1"}
    )
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["user"], line["level"]) == ("hi there", "u1", "INFO")
    assert line["time"].endswith("Z")
    assert "user=u1" in TextFormatter().format(record)
