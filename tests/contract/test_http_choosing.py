"""HTTP contract: best available, the single-seat rule, and changing a hold (PATCH)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx2 as httpx
import orjson
import pytest

from cinema_core import ManualClock
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from tests.contract.http_app import SECRET, Api, bad_fields, error_code
from tests.contract.test_http_stream import _next_message, _Server, _session


@pytest.fixture
def session_id(api: Api) -> str:
    return str(api.create_session()["id"])


def best(api: Api, session_id: str, user: str = "alice", **wish: Any) -> httpx.Response:
    return api.post(
        "/reservations", json={"session_id": session_id, **wish}, headers=api.auth(user)
    )


def patch(
    api: Api, reservation_id: str, body: dict[str, Any], user: str = "alice", key: str = ""
) -> httpx.Response:
    headers = api.auth(user)
    if key:
        headers["Idempotency-Key"] = key
    return api.request("PATCH", f"/reservations/{reservation_id}", json=body, headers=headers)


# -- best available ------------------------------------------------------------------------


def test_best_available_holds_the_best_seats(api: Api, session_id: str) -> None:
    """{"count": 2} in a free 4 × 4 room holds C1+C2 (row C, a little behind the middle),
    answered as any reservation, with its lines."""
    response = best(api, session_id, count=2, tickets={"half": 1})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["seats"] == ["C1", "C2"]
    assert [line["ticket"] for line in body["lines"]] == ["half", "full"]
    assert body["amount"] == "37.50"
    # Apart: the cheapest seats that leave no seat alone (C3 would strand C4, so both go).
    assert best(api, session_id, count=3, together=False).json()["seats"] == ["B1", "C3", "C4"]


def test_no_seats_to_be_had_is_not_enough_seats(api: Api, session_id: str) -> None:
    """Once no 4 adjacent seats are left, 4 together is 409 not_enough_seats with the count of
    seats still available; 4 apart still succeeds."""
    for row in "ABCD":
        api.reserve(session_id, [f"{row}2"], user="bob")
    response = best(api, session_id, count=4)
    assert (response.status_code, error_code(response)) == (409, "not_enough_seats")
    assert response.json()["error"]["details"] == {"available": 12}
    assert best(api, session_id, count=4, together=False).status_code == 201


@pytest.mark.parametrize(
    ("wish", "fields"),
    [
        ({}, {"seats"}),
        ({"count": 0}, {"count"}),
        ({"count": 11}, {"count"}),
        ({"count": "2"}, {"count"}),
        ({"count": 2, "category": "vip"}, {"category"}),
        ({"count": 2, "together": "yes"}, {"together"}),
        ({"count": 3, "category": "couple"}, {"count"}),
        ({"seats": ["A1"], "count": 1}, {"count"}),
        ({"seats": ["A1"], "together": False}, {"together"}),
        ({"seats": ["A1"], "category": "standard"}, {"category"}),
    ],
)
def test_bad_best_available_bodies_name_their_fields(
    api: Api, session_id: str, wish: dict[str, Any], fields: set[str]
) -> None:
    """Either seats or count; count 1–10; a known category; category and together only with
    count; each mistake is 422 naming the field, and nothing is held."""
    assert bad_fields(best(api, session_id, **wish)) == fields
    assert api.get(f"/sessions/{session_id}/seats").json()["held"] == 0


def test_best_available_is_idempotent_on_its_whole_body(api: Api, session_id: str) -> None:
    """Same key and body: the first answer again and nothing new; same key, another count,
    category or together, or other tickets: 422 idempotency_key_reused."""
    headers = {**api.auth(), "Idempotency-Key": "best-1"}
    body = {"session_id": session_id, "count": 2}
    first = api.post("/reservations", json=body, headers=headers)
    again = api.post("/reservations", json=body, headers=headers)
    assert (first.status_code, again.status_code, first.content) == (201, 201, again.content)
    assert api.get(f"/sessions/{session_id}/seats").json()["held"] == 2
    for other in (
        {"count": 3},
        {"together": False},
        {"category": "standard"},
        {"tickets": {"half": 1}},
    ):
        reused = api.post("/reservations", json={**body, **other}, headers=headers)
        assert error_code(reused) == "idempotency_key_reused", other
    seats = api.post(
        "/reservations", json={"session_id": session_id, "seats": ["C1", "C2"]}, headers=headers
    )
    assert error_code(seats) == "idempotency_key_reused"


# -- the single-seat rule ------------------------------------------------------------------


def test_a_hold_that_strands_a_seat_is_single_seat_gap(api: Api) -> None:
    """With forbid_single_gaps, A2 alone would strand A1: 409 single_seat_gap naming it."""
    session = api.create_session(forbid_single_gaps=True)
    assert session["forbid_single_gaps"] is True
    response = api.reserve(session["id"], ["A2"])
    assert (response.status_code, error_code(response)) == (409, "single_seat_gap")
    assert response.json()["error"]["details"]["seats"] == ["A1"]
    assert api.reserve(session["id"], ["A1", "A2"]).status_code == 201


# -- changing a hold -----------------------------------------------------------------------


def test_patch_changes_the_seats_and_keeps_the_expiry(
    api: Api, session_id: str, clock: ManualClock
) -> None:
    """PATCH answers the reservation with its new seats and lines, expires_at unchanged; the
    dropped seat is free at once, and the events tell the change."""
    held = api.reserve(session_id, ["A1", "A2"]).json()
    clock.advance(5)
    response = patch(api, held["id"], {"seats": ["A3", "A2"], "tickets": {"half": 1}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["seats"] == ["A2", "A3"]
    assert body["expires_at"] == held["expires_at"]
    assert [line["ticket"] for line in body["lines"]] == ["half", "full"]
    seats = {
        s["label"]: s["status"] for s in api.get(f"/sessions/{session_id}/seats").json()["seats"]
    }
    assert (seats["A1"], seats["A2"], seats["A3"]) == ("available", "held", "held")
    api.services.relay.run_once()  # the audit trail holds what the relay has published
    events = api.get(f"/admin/events?session_id={session_id}", headers=api.admin).json()["items"]
    changed = next(e for e in events if e["type"] == "reservation.changed")
    assert (changed["data"]["added"], changed["data"]["removed"]) == (["A3"], ["A1"])
    released = next(e for e in events if e["type"] == "seat.released")
    assert (released["data"]["seats"], released["data"]["reason"]) == (["A1"], "changed")


def test_patch_refuses_as_post_does_and_leaves_the_hold_alone(
    api: Api, session_id: str, clock: ManualClock
) -> None:
    """Taken seats, bad bodies, another user's or unknown ids, paid and lapsed holds."""
    held = api.reserve(session_id, ["A1"]).json()
    api.reserve(session_id, ["B1"], user="bob")
    taken = patch(api, held["id"], {"seats": ["A1", "B1"]})
    assert (taken.status_code, error_code(taken)) == (409, "seats_unavailable")
    assert taken.json()["error"]["details"]["seats"] == ["B1"]
    assert bad_fields(patch(api, held["id"], {"seats": []})) == {"seats"}
    assert bad_fields(patch(api, held["id"], {})) == {"seats"}
    assert error_code(patch(api, held["id"], {"seats": ["Z9"]})) == "unknown_seat"
    assert error_code(patch(api, held["id"], {"seats": ["A2"]}, user="bob")) == (
        "reservation_not_found"
    )
    assert patch(api, "nope", {"seats": ["A2"]}).status_code == 404
    assert api.get(f"/reservations/{held['id']}", headers=api.auth()).json()["seats"] == ["A1"]
    paid = api.reserve(session_id, ["C1"]).json()
    api.pay(paid["id"])
    assert error_code(patch(api, paid["id"], {"seats": ["C2"]})) == "reservation_confirmed"
    clock.advance(30)
    lapsed = patch(api, held["id"], {"seats": ["A2"]})
    assert (lapsed.status_code, error_code(lapsed)) == (410, "reservation_expired")


def test_patch_is_idempotent_with_a_key(api: Api, session_id: str) -> None:
    """A retried change gets the first answer; the key with other seats is refused."""
    held = api.reserve(session_id, ["A1"]).json()
    first = patch(api, held["id"], {"seats": ["A2"]}, key="change-1")
    again = patch(api, held["id"], {"seats": ["A2"]}, key="change-1")
    assert (first.status_code, again.status_code, first.content) == (200, 200, again.content)
    assert again.headers["idempotent-replayed"] == "true"
    other = patch(api, held["id"], {"seats": ["A3"]}, key="change-1")
    assert error_code(other) == "idempotency_key_reused"


@pytest.fixture
def server(clock: ManualClock) -> Iterator[_Server]:
    with _Server(bootstrap(Settings(auth_secret=SECRET), clock)) as running:
        yield running


def test_a_change_reaches_the_live_seat_map(server: _Server) -> None:
    """A changed hold: its new seat turns held, the dropped one available, on the stream."""
    services = server.services
    session_id = _session(services)
    held = services.box.reserve("alice", UUID(session_id), ["A1", "A2"])
    services.relay.run_once()
    with (
        httpx.Client(base_url=server.url, timeout=5) as client,
        client.stream("GET", f"/sessions/{session_id}/seats/stream") as response,
    ):
        lines = response.iter_lines()
        assert _next_message(lines)["event"] == "snapshot"
        services.box.change(held.id, "alice", ["A2", "A3"])
        services.relay.run_once()
        changes = [orjson.loads(_next_message(lines)["data"])["changes"] for _ in range(2)]
    assert changes == [
        [{"label": "A3", "status": "held"}],
        [{"label": "A1", "status": "available"}],
    ]
