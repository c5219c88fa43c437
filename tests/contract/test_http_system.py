"""HTTP contract: health, readiness, the OpenAPI document and Swagger UI."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openapi_spec_validator import validate

from cinema_core import StoreUnavailable
from cinema_core.resilience.supervision import Supervisor
from entrypoints.http.framework.openapi import documented_path
from tests.contract.http_app import Api

CONTRACT_ROUTES = {
    ("post", "/sessions"),
    ("get", "/sessions"),
    ("get", "/sessions/{session_id}"),
    ("patch", "/sessions/{session_id}"),
    ("delete", "/sessions/{session_id}"),
    ("get", "/sessions/{session_id}/seats"),
    ("get", "/sessions/{session_id}/seats/stream"),
    ("post", "/reservations"),
    ("get", "/reservations/{reservation_id}"),
    ("patch", "/reservations/{reservation_id}"),
    ("delete", "/reservations/{reservation_id}"),
    ("post", "/reservations/{reservation_id}/payment"),
    ("get", "/payments/{payment_id}"),
    ("post", "/payments/mercadopago/notifications"),
    ("get", "/sandbox/payments"),
    ("get", "/payments/{payment_id}/qr.svg"),
    ("get", "/sessions/{session_id}/statement"),
    ("post", "/sandbox/payments/{payment_id}/approve"),
    ("post", "/sandbox/payments/{payment_id}/decline"),
    ("get", "/users/{user_id}/purchases"),
    ("post", "/rooms"),
    ("get", "/rooms"),
    ("get", "/rooms/{room_id}"),
    ("post", "/products"),
    ("get", "/products"),
    ("patch", "/products/{code}"),
    ("post", "/promo-codes"),
    ("get", "/admin/events"),
    ("post", "/webhooks"),
    ("get", "/webhooks"),
    ("delete", "/webhooks/{webhook_id}"),
    ("post", "/webhooks/{webhook_id}/secret"),
    ("get", "/webhooks/{webhook_id}/deliveries"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/api-docs"),
    ("get", "/sales/{sale_id}"),
    ("post", "/sales/{sale_id}/refunds"),
    ("get", "/sales/{sale_id}/tickets"),
    ("get", "/tickets/{ticket_id}/qr.svg"),
    ("post", "/checkins"),
    ("post", "/shifts"),
    ("get", "/shifts"),
    ("get", "/shifts/{shift_id}"),
    ("post", "/shifts/{shift_id}/close"),
    ("post", "/counter/sales"),
    ("get", "/sessions/{session_id}/report"),
    ("get", "/reports/sales"),
    ("get", "/"),
    ("get", "/s/{session_id}"),
    ("get", "/admin"),
    ("get", "/tickets"),
    ("get", "/door"),
    ("get", "/counter"),
    ("get", "/sales/{sale_id}/print"),
    ("put", "/sessions/{session_id}/waiting-room"),
    ("get", "/sessions/{session_id}/waiting-room"),
    ("post", "/sessions/{session_id}/queue"),
    ("get", "/queue/{ticket}"),
    ("delete", "/queue/{ticket}"),
}


def test_health(api: Api) -> None:
    """GET /health is 200 {"status": "ok"}."""
    response = api.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_in_memory_says_in_process_not_ok(api: Api) -> None:
    """In memory no backend is configured: every check reads in-process (no database is
    claimed to be ok), and the service is ready."""
    body = api.get("/ready").json()
    assert body == {
        "status": "ok",
        "checks": {
            "database": "in-process",
            "redis": "in-process",
            "broker": "in-process",
            "workers": "ok",
        },
    }


def test_ready_is_degraded_naming_a_down_backend(api: Api) -> None:
    """With the broker's ping failing the service is still ready, degraded, naming the broker."""

    def refused() -> None:
        raise ConnectionError("refused")

    api.services.pings["broker"] = refused
    response = api.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"] == "down"


class _Crash(BaseException):
    """A thread told to die, not an error its loop may catch."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_ready_is_degraded_naming_a_dead_or_stuck_background_thread(api: Api) -> None:
    """A background thread that ended, or that has not beaten for 60 s, makes /ready degraded
    with the workers check naming it; a stopped one is no problem."""
    api.services.supervisor = Supervisor(api.clock, api.services.outages)
    supervisor = api.services.supervisor
    release = threading.Event()
    stuck = supervisor.loop("cinema-relay", lambda: release.wait(30) and None)

    def crash() -> None:
        raise _Crash

    dead = supervisor.loop("cinema-consumers", crash)
    try:
        stuck.start()
        dead.start()
        deadline = time.monotonic() + 10
        while "cinema-consumers" not in supervisor.problems():
            assert time.monotonic() < deadline, "the crashing loop never read dead"
            time.sleep(0.01)
        api.clock.advance(61)
        response = api.get("/ready")
        assert (response.status_code, response.json()["status"]) == (200, "degraded")
        assert response.json()["checks"]["workers"] == "cinema-consumers dead, cinema-relay stuck"
        release.set()
        stuck.stop()
        dead.stop()
        assert api.get("/ready").json()["checks"]["workers"] == "ok"
    finally:
        release.set()
        supervisor.stop()


@pytest.mark.parametrize(("check", "status"), [("database", 503), ("broker", 200)])
def test_ready_answers_within_two_seconds_whatever_hangs(api: Api, check: str, status: int) -> None:
    """A ping that never returns reads as timeout after 1 s; /ready answers within 2 s, again
    and again, while /health keeps answering and the hung pings hold one thread in all."""
    release = threading.Event()
    calls: list[int] = []

    def hangs() -> None:
        calls.append(1)
        release.wait(30)

    api.services.pings[check] = hangs
    try:
        for _ in range(3):
            started = time.monotonic()
            response = api.get("/ready")
            assert time.monotonic() - started < 2.0
            assert response.status_code == status
            assert response.json()["checks"][check] == "timeout"
            assert api.get("/health").status_code == 200
        assert len(calls) == 1, "a hung ping is waited on, not started again"
    finally:
        release.set()


def test_ready_is_503_when_the_database_cannot_serve(api: Api) -> None:
    """When the store's ping fails, /ready is 503 with the database check down."""

    def down() -> None:
        raise StoreUnavailable()

    api.services.pings["database"] = down
    response = api.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"
    assert api.get("/health").status_code == 200


def test_openapi_is_valid_and_describes_every_route(api: Api) -> None:
    """/openapi.json is valid OpenAPI 3 and has every route of the contract, secured as it says."""
    doc = api.get("/openapi.json").json()
    validate(doc)
    described = {(m, path) for path, ops in doc["paths"].items() for m in ops}
    assert described == CONTRACT_ROUTES
    assert {"Session", "Reservation", "Sale", "SeatMap", "Error"} <= set(
        doc["components"]["schemas"]
    )
    assert doc["components"]["securitySchemes"]["bearer"]["bearerFormat"] == "JWT"
    assert "security" in doc["paths"]["/sessions"]["post"]
    assert "security" not in doc["paths"]["/sessions"]["get"]
    create = doc["components"]["schemas"]["CreateSession"]
    assert set(create["required"]) == {"movie", "starts_at"}
    assert {"room_id", "prices", "price", "room", "rows", "seats_per_row"} <= set(
        create["properties"]
    )


def test_openapi_matches_the_app_routes(api: Api) -> None:
    """Every route the app serves (but static assets) is in the document, and nothing more."""
    served = {
        (method.lower(), documented_path(route.path))
        for route in api.client.app.routes  # type: ignore[attr-defined]
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    doc = api.get("/openapi.json").json()
    assert served == {(m, path) for path, ops in doc["paths"].items() for m in ops}


def test_swagger_ui_is_served_locally(api: Api) -> None:
    """/api-docs is an HTML page whose scripts and styles are served by this app, under a
    Content-Security-Policy that allows nothing else (no inline script but its own)."""
    page = api.get("/api-docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3
    for asset in assets:
        assert asset.startswith("/"), "no asset from the internet"
        served = api.get(asset)
        assert served.status_code == 200
        assert len(served.content) > 1000
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    missing = api.get("/api-docs/assets/nope.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_openapi_version_is_the_package_version(api: Api) -> None:
    """info.version is the installed package's version, not a made-up 1.0.0."""
    from importlib.metadata import version

    assert api.get("/openapi.json").json()["info"]["version"] == version("cinema-box-office")


def _starts_at_example(api: Api) -> datetime:
    doc = api.get("/openapi.json").json()
    example = doc["components"]["schemas"]["CreateSession"]["properties"]["starts_at"]["example"]
    return datetime.fromisoformat(example)


def test_instant_examples_are_ahead_of_the_day_the_document_is_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The starts_at example is days ahead of now, and still is when the app has been up for
    a month: the document is made again each day."""
    from entrypoints.http.framework import docs, shapes

    assert _starts_at_example(api) > datetime.now(UTC) + timedelta(days=1)
    later = datetime.now(UTC) + timedelta(days=30)

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Later:
            return cls.fromtimestamp(later.timestamp(), tz)

    monkeypatch.setattr(docs, "datetime", Later)
    monkeypatch.setattr(shapes, "datetime", Later)
    assert _starts_at_example(api) > later + timedelta(days=1)
