"""HTTP contract: health, readiness, the OpenAPI document and Swagger UI."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from cinema_core import StoreUnavailable
from tests.contract.http_app import Api

CONTRACT_ROUTES = {
    ("post", "/sessions"),
    ("get", "/sessions"),
    ("get", "/sessions/{session_id}"),
    ("get", "/sessions/{session_id}/seats"),
    ("get", "/sessions/{session_id}/seats/stream"),
    ("post", "/reservations"),
    ("get", "/reservations/{reservation_id}"),
    ("patch", "/reservations/{reservation_id}"),
    ("delete", "/reservations/{reservation_id}"),
    ("post", "/reservations/{reservation_id}/payment"),
    ("get", "/users/{user_id}/purchases"),
    ("post", "/rooms"),
    ("get", "/rooms"),
    ("get", "/rooms/{room_id}"),
    ("get", "/admin/events"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/openapi.json"),
    ("get", "/api-docs"),
}


def test_health(api: Api) -> None:
    """GET /health is 200 {"status": "ok"}."""
    response = api.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_in_memory_is_all_ok(api: Api) -> None:
    """In memory every check is ok."""
    body = api.get("/ready").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}


def test_ready_is_degraded_naming_a_down_backend(api: Api) -> None:
    """With the broker down the service is still ready, degraded, naming the broker."""
    api.services.outages.failed("broker", ConnectionError("refused"))
    response = api.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"] == "down"


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
        (method.lower(), route.path)
        for route in api.client.app.routes  # type: ignore[attr-defined]
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    doc = api.get("/openapi.json").json()
    assert served == {(m, path) for path, ops in doc["paths"].items() for m in ops}


def test_swagger_ui_is_served_locally(api: Api) -> None:
    """/api-docs is an HTML page whose scripts and styles are served by this app."""
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
    missing = api.get("/api-docs/assets/nope.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
