"""HTTP contract: a session's life: sales close, PATCH /sessions/{id}, DELETE /sessions/{id}."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from tests.contract.http_app import NEW_SESSION, Api, bad_fields, error_code

# The clock of the tests stands at 2026-11-01T12:00Z; NEW_SESSION starts 2026-12-01T19:00Z.
LATER = "2026-12-02T19:00:00Z"


def test_a_session_says_whether_it_is_on_sale(api: Api) -> None:
    """POST and GET answer status on_sale and sales_close_at 15 min after the start."""
    body = api.create_session()
    assert (body["status"], body["sales_close_at"]) == ("on_sale", "2026-12-01T19:15:00Z")
    again = api.get(f"/sessions/{body['id']}").json()
    assert again["status"] == "on_sale"


def test_holds_and_payments_after_the_close_are_sales_closed(api: Api) -> None:
    """After starts_at + 15 min a hold, best available, a change or a payment is 409."""
    session = api.create_session(starts_at="2026-11-01T13:00:00Z")
    api.services.box = attrs.evolve(api.services.box, hold=api.services.box.hold * 1000)
    api.clock.advance(minutes=70)
    hold = api.reserve(session["id"], ["A1"]).json()
    api.clock.advance(minutes=5)
    late = [
        api.reserve(session["id"], ["A2"]),
        api.post(
            "/reservations", json={"session_id": session["id"], "count": 1}, headers=api.auth()
        ),
        api.request(
            "PATCH", f"/reservations/{hold['id']}", json={"seats": ["A3"]}, headers=api.auth()
        ),
        api.pay(hold["id"]),
    ]
    assert [(r.status_code, error_code(r)) for r in late] == [(409, "sales_closed")] * 4
    assert late[0].json()["error"]["details"] == {"sales_close_at": "2026-11-01T13:15:00.000Z"}
    assert api.get(f"/sessions/{session['id']}").json()["status"] == "sales_closed"
    assert api.get(f"/sessions/{session['id']}/seats").json()["sold"] == 0


def test_the_list_shows_only_sessions_on_sale_unless_an_admin_asks_for_past(api: Api) -> None:
    """GET /sessions leaves out closed and cancelled sessions; past=true is for admins."""
    closed = api.create_session(starts_at="2026-11-01T13:00:00Z")
    open_ = api.create_session()
    gone = api.create_session(starts_at=LATER)
    api.delete(f"/sessions/{gone['id']}", headers=api.admin)
    api.clock.advance(hours=2)
    listed = api.get("/sessions").json()["items"]
    assert [s["id"] for s in listed] == [open_["id"]]
    every = api.get("/sessions?past=true", headers=api.admin).json()["items"]
    assert [(s["id"], s["status"]) for s in every] == [
        (closed["id"], "sales_closed"),
        (open_["id"], "on_sale"),
        (gone["id"], "cancelled"),
    ]
    assert api.get("/sessions?past=true", headers=api.auth()).status_code == 403
    assert api.get("/sessions?past=true").status_code == 401
    assert bad_fields(api.get("/sessions?past=maybe")) == {"past"}


def test_admin_changes_a_session(api: Api) -> None:
    """PATCH changes the fields given and answers the session; buyers read the new time."""
    session = api.create_session()
    response = api.request(
        "PATCH",
        f"/sessions/{session['id']}",
        json={"starts_at": LATER, "movie": "Filme Y", "duration_minutes": 90},
        headers=api.admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["movie"], body["starts_at"], body["ends_at"]) == (
        "Filme Y",
        "2026-12-02T19:00:00Z",
        "2026-12-02T20:30:00Z",
    )
    assert api.get(f"/sessions/{session['id']}").json() == body
    events = api.services.box.repo.events(
        type="session.changed", session_id=None, before=None, limit=10
    )
    assert [dict(e.data)["changed"] for _, e in events] == [
        ["movie", "starts_at", "duration_minutes"]
    ]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"body"}),
        ({"rating": "15"}, {"rating"}),
        ({"price": "30.00"}, {"price"}),
        ({"movie": ""}, {"movie"}),
        ({"starts_at": "2020-01-01T00:00:00Z"}, {"starts_at"}),
        ({"starts_at": "2026-12-01T19:00:00"}, {"starts_at"}),
        ({"duration_minutes": 0}, {"duration_minutes"}),
        ({"duration_minutes": "90"}, {"duration_minutes"}),
    ],
)
def test_a_bad_change_is_422_and_changes_nothing(
    api: Api, body: dict[str, Any], fields: set[str]
) -> None:
    """PATCH is validated as POST /sessions is; unknown fields are refused."""
    session = api.create_session()
    response = api.request("PATCH", f"/sessions/{session['id']}", json=body, headers=api.admin)
    assert bad_fields(response) >= fields
    assert api.get(f"/sessions/{session['id']}").json() == {**session, "available": 16}


def test_a_change_onto_another_session_of_the_room_is_room_busy(api: Api) -> None:
    """The room's no-overlap rule holds for a change."""
    room = api.post(
        "/rooms",
        json={"cinema": "Centro", "name": "Sala 1", "layout": ["ssss"] * 4},
        headers=api.admin,
    ).json()
    common = {"room_id": room["id"], "room": None, "rows": None, "seats_per_row": None}
    first = api.create_session(**common)
    second = api.create_session(**common, starts_at=LATER)
    response = api.request(
        "PATCH",
        f"/sessions/{second['id']}",
        json={"starts_at": NEW_SESSION["starts_at"]},
        headers=api.admin,
    )
    assert (response.status_code, error_code(response)) == (409, "room_busy")
    assert response.json()["error"]["details"] == {"session_id": first["id"]}


def test_only_an_admin_changes_or_cancels(api: Api) -> None:
    """A customer's PATCH or DELETE is 403; an unknown session 404."""
    session = api.create_session()
    url = f"/sessions/{session['id']}"
    assert api.request("PATCH", url, json={"movie": "Y"}, headers=api.auth()).status_code == 403
    assert api.delete(url, headers=api.auth()).status_code == 403
    missing = api.delete("/sessions/not-a-uuid", headers=api.admin)
    assert (missing.status_code, error_code(missing)) == (404, "session_not_found")


def test_cancelling_releases_holds_refunds_sales_and_closes_the_session(api: Api) -> None:
    """DELETE answers the session cancelled (again: the same); holds read cancelled, sales
    refunded in full, tickets refunded; later holds and changes are 409 session_cancelled."""
    session = api.create_session()
    paid = api.reserve(session["id"], ["A1", "A2"]).json()
    sale = api.pay(paid["id"]).json()
    held = api.reserve(session["id"], ["B1"], user="bob").json()
    response = api.delete(f"/sessions/{session['id']}", headers=api.admin)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["available"] == 16
    assert api.delete(f"/sessions/{session['id']}", headers=api.admin).json() == response.json()
    assert api.get(f"/reservations/{held['id']}", headers=api.auth("bob")).json()["status"] == (
        "cancelled"
    )
    refunded = api.get(f"/sales/{sale['id']}", headers=api.auth()).json()
    assert (refunded["status"], refunded["refunded_amount"]) == ("refunded", "50.00")
    tickets = api.get(f"/sales/{sale['id']}/tickets", headers=api.auth()).json()["items"]
    assert {t["status"] for t in tickets} == {"refunded"}
    later = api.reserve(session["id"], ["C1"])
    assert (later.status_code, error_code(later)) == (409, "session_cancelled")
    change = api.request(
        "PATCH", f"/sessions/{session['id']}", json={"movie": "Y"}, headers=api.admin
    )
    assert (change.status_code, error_code(change)) == (409, "session_cancelled")
    kinds = [
        e.type
        for _, e in api.services.box.repo.events(type=None, session_id=None, before=None, limit=50)
    ]
    assert kinds.count("session.cancelled") == 1
    assert kinds.count("sale.refunded") == 1
