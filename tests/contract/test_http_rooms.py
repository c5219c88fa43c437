"""Rooms, sessions in them, prices per category and ticket types, through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.http_app import STARTS_AT, Api, bad_fields, error_code

CENTRO = ["ssss_ssss", "ssss_ssss", "pppp_pppp", "cc_ssss_cc", "wxss_ssww"]
PRICES = {"standard": "25.00", "premium": "40.00", "couple": "30.00", "accessible": "25.00"}


def new_room(api: Api, layout: list[str] = CENTRO, **overrides: Any) -> dict[str, Any]:
    body = {"cinema": "Centro", "name": "Sala 1", "layout": layout, **overrides}
    response = api.post("/rooms", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def session_in(api: Api, room: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {"movie": "Filme X", "room_id": room["id"], "starts_at": STARTS_AT, "prices": PRICES}
    response = api.post("/sessions", json={**body, **overrides}, headers=api.admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def hold(api: Api, session_id: str, seats: list[str], **more: Any) -> Any:
    body = {"session_id": session_id, "seats": seats, **more}
    return api.post("/reservations", json=body, headers=api.auth("alice"))


def test_an_admin_creates_a_room_from_its_layout(api: Api) -> None:
    """POST /rooms answers 201 with Location, the seats for sale and counts per category."""
    response = api.post(
        "/rooms",
        json={"cinema": "Centro", "name": "Sala 1", "layout": CENTRO},
        headers=api.admin,
    )
    assert response.status_code == 201
    room = response.json()
    assert room == {
        "id": room["id"],
        "cinema": "Centro",
        "name": "Sala 1",
        "layout": CENTRO,
        "seat_count": 39,
        "categories": {"standard": 24, "premium": 8, "couple": 4, "accessible": 3},
    }
    assert response.headers["location"] == f"/rooms/{room['id']}"
    assert api.get(response.headers["location"]).json() == room


def test_rooms_are_listed_by_cinema(api: Api) -> None:
    """GET /rooms lists every room; ?cinema= only that cinema's; (cinema, name) is unique."""
    first = new_room(api)
    second = new_room(api, cinema="Norte")
    again = api.post(
        "/rooms", json={"cinema": "Centro", "name": "Sala 1", "layout": CENTRO}, headers=api.admin
    )
    assert (again.status_code, error_code(again)) == (409, "room_exists")
    assert [r["id"] for r in api.get("/rooms").json()["items"]] == [first["id"], second["id"]]
    assert [r["id"] for r in api.get("/rooms?cinema=Norte").json()["items"]] == [second["id"]]


@pytest.mark.parametrize(
    ("layout", "code"),
    [
        (["ssss", "sqss"], "validation_error"),
        (["ccc_sssssssssssssss"], "validation_error"),
        ([""], "validation_error"),
        (["s" * 101], "validation_error"),
        (["s" * 10] * 27, "validation_error"),
        (["ssssssss", "sssxxxx_"], "too_few_seats"),
        ("ssss", "validation_error"),
        ([1, 2], "validation_error"),
    ],
)
def test_a_bad_layout_is_refused_naming_layout(api: Api, layout: Any, code: str) -> None:
    """Odd characters, odd couple runs, empty or long rows, too many rows, too few seats."""
    response = api.post(
        "/rooms", json={"cinema": "C", "name": "R", "layout": layout}, headers=api.admin
    )
    assert (response.status_code, error_code(response)) == (422, code)
    assert "layout" in bad_fields(response)
    assert api.get("/rooms").json()["items"] == []


def test_rooms_are_created_by_admins_and_read_by_anyone(api: Api) -> None:
    """A customer's POST /rooms is 403; an unknown or malformed room id is 404."""
    response = api.post(
        "/rooms", json={"cinema": "C", "name": "R", "layout": CENTRO}, headers=api.auth("bob")
    )
    assert response.status_code == 403
    for path in ("/rooms/00000000-0000-0000-0000-000000000000", "/rooms/nope"):
        missing = api.get(path)
        assert (missing.status_code, error_code(missing)) == (404, "room_not_found")


def test_a_session_in_a_room_has_its_prices_and_ticket_types(api: Api) -> None:
    """The answer names the room, its cinema, the end, prices, the lowest price, the types."""
    room = new_room(api)
    session = session_in(api, room, duration_minutes=130)
    assert {k: session[k] for k in ("room", "room_id", "cinema", "ends_at", "price")} == {
        "room": "Sala 1",
        "room_id": room["id"],
        "cinema": "Centro",
        "ends_at": "2026-12-01T21:10:00Z",
        "price": "25.00",
    }
    assert session["prices"] == PRICES
    assert (session["seat_count"], session["available"]) == (39, 39)
    assert [t["code"] for t in session["ticket_types"]] == ["full", "half", "senior"]


def test_every_category_needs_a_price(api: Api) -> None:
    """A category of the room without a price is named; an unknown category is refused."""
    room = new_room(api)
    response = api.post(
        "/sessions",
        json={
            "movie": "M",
            "room_id": room["id"],
            "starts_at": STARTS_AT,
            "prices": {"standard": "25.00", "vip": "99.00"},
        },
        headers=api.admin,
    )
    assert response.status_code == 422
    assert bad_fields(response) == {"prices"}
    assert "vip" in response.json()["error"]["details"]["fields"]["prices"]
    one = session_in(api, room, prices=None, price="20")
    assert set(one["prices"].values()) == {"20.00"}


def test_an_unknown_room_is_404(api: Api) -> None:
    """room_id of no room is 404 room_not_found."""
    response = api.post(
        "/sessions",
        json={
            "movie": "M",
            "room_id": "00000000-0000-0000-0000-000000000000",
            "starts_at": STARTS_AT,
            "price": "10",
        },
        headers=api.admin,
    )
    assert (response.status_code, error_code(response)) == (404, "room_not_found")


def test_sessions_of_a_room_never_overlap(api: Api) -> None:
    """409 room_busy names the other session; back to back is fine."""
    room = new_room(api)
    first = session_in(api, room, duration_minutes=60)
    busy = api.post(
        "/sessions",
        json={
            "movie": "Y",
            "room_id": room["id"],
            "starts_at": "2026-12-01T19:59:00Z",
            "price": "10",
        },
        headers=api.admin,
    )
    assert (busy.status_code, error_code(busy)) == (409, "room_busy")
    assert busy.json()["error"]["details"] == {"session_id": first["id"]}
    session_in(api, room, starts_at="2026-12-01T20:00:00Z")


def test_sessions_filter_by_cinema_movie_and_start(api: Api) -> None:
    """cinema exact, movie any case substring, from/to bound starts_at (both included)."""
    centro = new_room(api)
    norte = new_room(api, cinema="Norte")
    a = session_in(api, centro, movie="O Auto da Compadecida")
    b = session_in(api, norte, movie="Central do Brasil", starts_at="2026-12-02T19:00:00Z")
    c = api.create_session(movie="AUTO", starts_at="2026-12-03T19:00:00Z")

    def ids(query: str) -> list[str]:
        response = api.get(f"/sessions?{query}")
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["items"]]

    assert ids("cinema=Norte") == [b["id"]]
    assert ids("movie=auto") == [a["id"], c["id"]]
    assert ids("from=2026-12-02T19:00:00Z") == [b["id"], c["id"]]
    assert ids("to=2026-12-02T19:00:00Z") == [a["id"], b["id"]]
    assert ids("movie=%25") == []
    bad = api.get("/sessions?from=tomorrow")
    assert (bad.status_code, bad_fields(bad)) == (422, {"from"})


def test_the_seat_map_draws_the_room(api: Api) -> None:
    """Columns count gaps, couple seats name their pair, blocked seats say so."""
    session = session_in(api, new_room(api))
    seat_map = api.get(f"/sessions/{session['id']}/seats").json()
    assert (seat_map["rows"], seat_map["columns"], seat_map["blocked"]) == (5, 10, 1)
    assert (seat_map["available"], len(seat_map["seats"])) == (39, 40)
    by_label = {seat["label"]: seat for seat in seat_map["seats"]}
    assert by_label["D7"] == {
        "label": "D7",
        "row": "D",
        "number": 7,
        "column": 9,
        "category": "couple",
        "status": "available",
        "pair": "D8",
    }
    assert by_label["E2"]["status"] == "blocked"
    assert by_label["A5"]["column"] == 6


def test_the_seat_map_answers_304_while_unchanged(api: Api) -> None:
    """The ETag holds until a seat changes; If-None-Match with it is 304, with no body."""
    session = api.create_session()
    url = f"/sessions/{session['id']}/seats"
    tag = api.get(url).headers["etag"]
    unchanged = api.get(url, headers={"If-None-Match": tag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    hold(api, session["id"], ["A1"])
    changed = api.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag


def test_the_seat_map_is_gzip_coded_for_a_client_that_accepts_it(api: Api) -> None:
    """Accept-Encoding with gzip: the same JSON, gzip-coded, with a tag of its own; without
    it, the plain body. Either form's tag makes If-None-Match 304 until a seat changes."""
    session = api.create_session(rows=26, seats_per_row=100)
    url = f"/sessions/{session['id']}/seats"
    plain = api.get(url, headers={"Accept-Encoding": "identity"})
    coded = api.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert coded.headers["content-encoding"] == "gzip"
    assert plain.headers["vary"] == coded.headers["vary"] == "Accept-Encoding"
    assert coded.content == plain.content  # decoded by the client
    assert int(coded.headers["content-length"]) < len(plain.content) // 5
    assert coded.headers["etag"] != plain.headers["etag"]
    for tag in (plain.headers["etag"], coded.headers["etag"]):
        for accepted in ("identity", "gzip"):
            again = api.get(url, headers={"If-None-Match": tag, "Accept-Encoding": accepted})
            assert again.status_code == 304
    hold(api, session["id"], ["A1"])
    changed = api.get(url, headers={"If-None-Match": coded.headers["etag"]})
    assert changed.status_code == 200
    assert changed.json()["held"] == 1


def test_a_reservation_prices_each_line(api: Api) -> None:
    """tickets counts seats by type, given in label order; amount is the lines' sum."""
    session = session_in(api, new_room(api))
    response = hold(api, session["id"], ["A3", "A1", "C1"], tickets={"half": 1})
    assert response.status_code == 201
    made = response.json()
    assert made["lines"] == [
        {"seat": "A1", "category": "standard", "ticket": "half", "price": "12.50"},
        {"seat": "A3", "category": "standard", "ticket": "full", "price": "25.00"},
        {"seat": "C1", "category": "premium", "ticket": "full", "price": "40.00"},
    ]
    assert made["amount"] == "77.50"
    sale = api.pay(made["id"]).json()
    assert (sale["lines"], sale["amount"]) == (made["lines"], "77.50")


@pytest.mark.parametrize(
    ("seats", "tickets", "status", "code"),
    [
        (["D1"], None, 422, "couple_seat_split"),
        (["E2"], None, 409, "seats_unavailable"),
        (["E9"], None, 422, "unknown_seat"),
        (["A1"], {"student": 1}, 422, "unknown_ticket_type"),
        (["A1"], {"half": 2}, 422, "validation_error"),
        (["A1"], {"half": "1"}, 422, "validation_error"),
    ],
)
def test_a_claim_breaking_a_rule_holds_nothing(
    api: Api, seats: list[str], tickets: Any, status: int, code: str
) -> None:
    """Half a couple seat, a blocked seat, no such seat or ticket type, too many tickets."""
    session = session_in(api, new_room(api))
    more = {} if tickets is None else {"tickets": tickets}
    response = hold(api, session["id"], seats, **more)
    assert (response.status_code, error_code(response)) == (status, code)
    assert api.get(f"/sessions/{session['id']}/seats").json()["held"] == 0


def test_the_half_price_quota_is_forty_percent(api: Api) -> None:
    """16 seats: six half-price seats at once, the seventh is 409 with what remains."""
    session = api.create_session()
    assert hold(api, session["id"], ["A1", "A2", "A3", "A4"], tickets={"half": 4}).is_success
    assert hold(api, session["id"], ["B1", "B2"], tickets={"half": 2}).is_success
    refused = hold(api, session["id"], ["C1"], tickets={"half": 1})
    assert (refused.status_code, error_code(refused)) == (409, "ticket_quota_exhausted")
    assert refused.json()["error"]["details"] == {
        "ticket": "half",
        "remaining": 0,
        "quota_group": "meia",
    }


def test_tickets_are_part_of_the_idempotent_request(api: Api) -> None:
    """The same key with other tickets is another request: 422 idempotency_key_reused."""
    session = api.create_session()
    headers = {**api.auth("alice"), "Idempotency-Key": "k-1"}
    body = {"session_id": session["id"], "seats": ["A1", "A2"], "tickets": {"half": 1}}
    first = api.post("/reservations", json=body, headers=headers)
    again = api.post("/reservations", json=body, headers=headers)
    assert (first.status_code, again.content) == (201, first.content)
    other = api.post("/reservations", json={**body, "tickets": {"half": 2}}, headers=headers)
    assert (other.status_code, error_code(other)) == (422, "idempotency_key_reused")
