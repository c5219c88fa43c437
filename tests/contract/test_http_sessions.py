"""HTTP contract: sessions, their pages and seat maps."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.http_app import NEW_SESSION, STARTS_AT, Api, bad_fields, error_code


def test_admin_creates_a_session_with_location(api: Api) -> None:
    """POST /sessions answers 201, the session's shape and a Location to read it at."""
    response = api.post("/sessions", json=NEW_SESSION, headers=api.admin)
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "movie": "Filme X",
        "room": "Sala 1",
        "room_id": body["room_id"],
        "cinema": "",
        "starts_at": STARTS_AT,
        "ends_at": "2026-12-01T21:00:00Z",
        "duration_minutes": 120,
        "price": "25.00",
        "prices": {"standard": "25.00"},
        "currency": "BRL",
        "seat_count": 16,
        "available": 16,
        "ticket_types": [
            {"code": "full", "name": "Inteira", "percent": 100},
            {
                "code": "half",
                "name": "Meia-entrada",
                "percent": 50,
                "quota_percent": 40,
                "quota_group": "meia",
                "document": "Carteira de Identificação Estudantil (CIE)",
            },
            {
                "code": "senior",
                "name": "60+",
                "percent": 50,
                "document": "Documento de identidade com foto",
            },
        ],
        "forbid_single_gaps": False,
        "rating": "L",
        "quotas": {"meia": {"limit": 6, "used": 0, "left": 6}},
        "status": "on_sale",
        "sales_close_at": "2026-12-01T19:15:00Z",
    }
    assert response.headers["location"] == f"/sessions/{body['id']}"
    assert api.get(response.headers["location"]).json() == body


def test_customer_may_not_create_sessions(api: Api) -> None:
    """A customer's POST /sessions is 403 forbidden."""
    response = api.post("/sessions", json=NEW_SESSION, headers=api.auth("alice"))
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rows", True),
        ("rows", "4"),
        ("rows", 4.0),
        ("rows", None),
        ("rows", 27),
        ("seats_per_row", 0),
        ("seats_per_row", 10**40),
        ("movie", 5),
        ("movie", ""),
        ("movie", "x" * 201),
        ("movie", ["Filme"]),
        ("movie", "bad\u0000name"),
        ("room", {"name": "Sala"}),
        ("price", 25.001),
        ("price", "0"),
        ("price", "-1.00"),
        ("price", "abc"),
        ("price", True),
        ("price", "1e999999999"),
        ("starts_at", "2026-12-01T19:00:00"),
        ("starts_at", "yesterday"),
        ("starts_at", "2020-01-01T00:00:00Z"),
        ("starts_at", "9999-12-31T23:59:59-05:00"),
        ("starts_at", 1700000000),
    ],
)
def test_each_bad_field_is_a_validation_error_naming_it(api: Api, field: str, value: Any) -> None:
    """A bad field is 422 validation_error with details.fields naming that field."""
    response = api.post("/sessions", json={**NEW_SESSION, field: value}, headers=api.admin)
    assert error_code(response) == "validation_error"
    assert bad_fields(response) == {field}


def test_every_malformed_field_is_named_at_once(api: Api) -> None:
    """Several wrongly typed or missing fields are all named in one answer."""
    body = {"movie": 1, "starts_at": "soon", "price": 2.5, "rows": True, "room_id": 5}
    response = api.post("/sessions", json=body, headers=api.admin)
    assert bad_fields(response) == {"movie", "starts_at", "price", "rows", "room_id"}


def test_the_first_shape_names_what_it_lacks(api: Api) -> None:
    """Without room_id, a session needs room, rows, seats_per_row and price."""
    body = {"movie": "M", "starts_at": STARTS_AT}
    response = api.post("/sessions", json=body, headers=api.admin)
    assert bad_fields(response) == {"room", "rows", "seats_per_row", "price"}


def test_fewer_than_sixteen_seats_is_too_few_seats(api: Api) -> None:
    """3 × 5 seats is 422 too_few_seats."""
    response = api.post(
        "/sessions", json={**NEW_SESSION, "rows": 3, "seats_per_row": 5}, headers=api.admin
    )
    assert response.status_code == 422
    assert error_code(response) == "too_few_seats"
    assert "fields" in response.json()["error"]["details"]


@pytest.mark.parametrize(("price", "shown"), [("25", "25.00"), ("25.5", "25.50"), ("7.1", "7.10")])
def test_price_is_a_decimal_string(api: Api, price: str, shown: str) -> None:
    """A price with fewer than two decimals is read exactly and written with two."""
    assert api.create_session(price=price)["price"] == shown


@pytest.mark.parametrize(
    "price",
    [25, 25.5, "1_000", "\u0662\u0665", "\uff12\uff15", "25.0000", "25.000", "1e3", " 25", "-5"],
)
def test_a_price_that_is_not_a_plain_decimal_string_is_422(api: Api, price: object) -> None:
    """A JSON number, underscores, non-ASCII digits, a third decimal, an exponent, padding or
    a sign: 422 naming price, as the OpenAPI pattern says."""
    response = api.post("/sessions", json={**NEW_SESSION, "price": price}, headers=api.admin)
    assert bad_fields(response) == {"price"}


def test_malformed_and_unknown_ids_are_session_not_found(api: Api) -> None:
    """A malformed or unknown session id is 404 session_not_found, never a 500."""
    for path in (
        "/sessions/not-a-uuid",
        "/sessions/00000000-0000-0000-0000-000000000000",
        "/sessions/%F0%9F%8E%AC/seats",
        "/sessions/00000000-0000-0000-0000-000000000000/seats",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert error_code(response) == "session_not_found"


def test_sessions_page_through_in_start_order(api: Api) -> None:
    """GET /sessions pages by starts_at with next_cursor until it is null."""
    for day in (5, 2, 4, 1, 3):
        api.create_session(starts_at=f"2026-12-0{day}T19:00:00Z")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/sessions", params=params).json()
        seen += [item["starts_at"][:10] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"2026-12-0{day}" for day in range(1, 6)]


def test_default_page_is_fifty(api: Api) -> None:
    """Without limit a page holds up to 50 sessions."""
    api.create_session()
    page = api.get("/sessions").json()
    assert len(page["items"]) == 1
    assert page["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=" + "W" * 300, "cursor"),
        ("cursor=" + "WyJ4IiwgInkiXQ", "cursor"),
    ],
)
def test_bad_page_parameters_are_validation_errors(api: Api, query: str, field: str) -> None:
    """Bad limit or cursor is 422 naming the parameter."""
    assert bad_fields(api.get(f"/sessions?{query}")) == {field}


def test_seat_map_lists_every_seat_with_counts(api: Api) -> None:
    """GET /sessions/{id}/seats has the counts and every seat's label, row, number, status."""
    session = api.create_session()
    reservation = api.reserve(session["id"], ["A1"]).json()
    api.reserve(session["id"], ["B2"])
    api.pay(reservation["id"])
    seat_map = api.get(f"/sessions/{session['id']}/seats").json()
    assert (seat_map["available"], seat_map["held"], seat_map["sold"]) == (14, 1, 1)
    assert seat_map["session_id"] == session["id"]
    assert (seat_map["blocked"], seat_map["rows"], seat_map["columns"]) == (0, 4, 4)
    assert seat_map["seats"][0] == {
        "label": "A1",
        "row": "A",
        "number": 1,
        "column": 1,
        "category": "standard",
        "status": "sold",
    }
    assert seat_map["seats"][5]["status"] == "held"
    assert seat_map["seats"][5]["label"] == "B2"
    assert [seat["label"] for seat in seat_map["seats"]][:5] == ["A1", "A2", "A3", "A4", "B1"]
    assert api.get(f"/sessions/{session['id']}").json()["available"] == 14


def test_lapsed_hold_reads_available_at_once(api: Api) -> None:
    """At expires_at the seat reads available in the map and the count, with no job run."""
    session = api.create_session()
    api.reserve(session["id"], ["C3"])
    api.clock.advance(api.services.settings.hold_seconds)
    seat_map = api.get(f"/sessions/{session['id']}/seats").json()
    assert seat_map["held"] == 0
    assert seat_map["seats"][10]["label"] == "C3"
    assert seat_map["seats"][10]["status"] == "available"
    assert api.get(f"/sessions/{session['id']}").json()["available"] == 16
