"""HTTP contract: holding seats, reading, cancelling and paying reservations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.http_app import Api, bad_fields, error_code


@pytest.fixture
def session_id(api: Api) -> str:
    return str(api.create_session()["id"])


def test_reservation_holds_seats_in_canonical_order(api: Api, session_id: str) -> None:
    """POST /reservations answers 201 with a pending reservation of the sorted seats."""
    response = api.reserve(session_id, ["A3", "a1"])
    assert response.status_code == 201
    body = response.json()
    assert body["seats"] == ["A1", "A3"]
    assert (body["status"], body["amount"], body["currency"]) == ("pending", "50.00", "BRL")
    assert (body["user_id"], body["session_id"], body["sale_id"]) == ("alice", session_id, None)
    assert body["created_at"] == "2026-11-01T12:00:00Z"
    assert body["expires_at"] == "2026-11-01T12:00:30Z"


def test_all_or_none_names_the_unavailable_seats(api: Api, session_id: str) -> None:
    """If any seat is taken the answer is 409 seats_unavailable naming it, and nothing is held."""
    api.reserve(session_id, ["A2"], user="bob")
    response = api.reserve(session_id, ["A1", "A2", "A3"])
    assert response.status_code == 409
    assert error_code(response) == "seats_unavailable"
    assert response.json()["error"]["details"]["seats"] == ["A2"]
    assert api.get(f"/sessions/{session_id}/seats").json()["held"] == 1


def test_unknown_label_is_unknown_seat(api: Api, session_id: str) -> None:
    """A label the session does not have is 422 unknown_seat with details.seats."""
    response = api.reserve(session_id, ["A1", "E1", "A5"])
    assert response.status_code == 422
    assert error_code(response) == "unknown_seat"
    assert response.json()["error"]["details"]["seats"] == ["A5", "E1"]


def test_unknown_session_is_session_not_found(api: Api) -> None:
    """A session id no session has is 404 session_not_found."""
    response = api.reserve("00000000-0000-0000-0000-000000000000", ["A1"])
    assert response.status_code == 404
    assert error_code(response) == "session_not_found"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"seats": ["A1"]}, {"session_id"}),
        ({"session_id": "nope", "seats": ["A1"]}, {"session_id"}),
        ({"session_id": 7, "seats": "A1"}, {"session_id", "seats"}),
        ({"session_id": "{sid}", "seats": []}, {"seats"}),
        ({"session_id": "{sid}", "seats": [f"A{n}" for n in range(1, 5)] * 3}, {"seats"}),
        ({"session_id": "{sid}", "seats": ["A1", "a1"]}, {"seats"}),
        ({"session_id": "{sid}", "seats": ["A1", 2]}, {"seats"}),
        ({"session_id": "{sid}", "seats": ["A0"]}, {"seats"}),
        ({"session_id": "{sid}", "seats": {"A1": True}}, {"seats"}),
        ({"session_id": "{sid}", "seats": [None]}, {"seats"}),
        ({"session_id": "{sid}", "seats": ["\u00c11"]}, {"seats"}),
    ],
)
def test_bad_bodies_name_their_fields(
    api: Api, session_id: str, body: dict[str, Any], fields: set[str]
) -> None:
    """Each malformed reservation body is 422 naming exactly the bad fields."""
    if body.get("session_id") == "{sid}":
        body = {**body, "session_id": session_id}
    response = api.post("/reservations", json=body, headers=api.auth())
    assert bad_fields(response) == fields


def test_owner_and_admin_read_a_reservation_others_get_404(api: Api, session_id: str) -> None:
    """The owner and an admin may read it; another user is told it does not exist."""
    made = api.reserve(session_id, ["B1"]).json()
    path = f"/reservations/{made['id']}"
    assert api.get(path, headers=api.auth("alice")).json() == made
    assert api.get(path, headers=api.admin).json() == made
    other = api.get(path, headers=api.auth("mallory"))
    assert other.status_code == 404
    assert error_code(other) == "reservation_not_found"
    assert api.delete(path, headers=api.auth("mallory")).status_code == 404
    assert api.pay(made["id"], user="mallory").status_code == 404


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_malformed_reservation_id_is_not_found(api: Api, method: str) -> None:
    """A malformed reservation id is 404 reservation_not_found, never a 500."""
    response = api.request(method, "/reservations/12345", headers=api.auth())
    assert response.status_code == 404
    assert error_code(response) == "reservation_not_found"
    paid = api.post("/reservations/zzz/payment", headers=api.auth())
    assert error_code(paid) == "reservation_not_found"


def test_lapsed_reservation_reads_expired(api: Api, session_id: str) -> None:
    """At expires_at a pending reservation reads expired, with no job run."""
    made = api.reserve(session_id, ["B1"]).json()
    api.clock.advance(30)
    body = api.get(f"/reservations/{made['id']}", headers=api.auth()).json()
    assert body["status"] == "expired"


def test_cancel_frees_seats_and_answers_the_same_again(api: Api, session_id: str) -> None:
    """DELETE answers the cancelled reservation, frees its seats at once, and again 200 same."""
    made = api.reserve(session_id, ["C1", "C2"]).json()
    first = api.delete(f"/reservations/{made['id']}", headers=api.auth())
    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert api.get(f"/sessions/{session_id}/seats").json()["held"] == 0
    again = api.delete(f"/reservations/{made['id']}", headers=api.auth())
    assert (again.status_code, again.json()) == (200, first.json())
    assert api.reserve(session_id, ["C1"], user="bob").status_code == 201


def test_cancel_refuses_paid_and_lapsed(api: Api, session_id: str) -> None:
    """Cancelling a paid reservation is 409 reservation_confirmed; a lapsed one 410."""
    paid = api.reserve(session_id, ["D1"]).json()
    api.pay(paid["id"])
    confirmed = api.delete(f"/reservations/{paid['id']}", headers=api.auth())
    assert (confirmed.status_code, error_code(confirmed)) == (409, "reservation_confirmed")
    lapsing = api.reserve(session_id, ["D2"]).json()
    api.clock.advance(31)
    lapsed = api.delete(f"/reservations/{lapsing['id']}", headers=api.auth())
    assert (lapsed.status_code, error_code(lapsed)) == (410, "reservation_expired")


def test_payment_makes_one_sale_and_repeats_it(api: Api, session_id: str) -> None:
    """Paying answers 201 with the sale; paying again 200 with the same sale."""
    made = api.reserve(session_id, ["A1", "A3"]).json()
    first = api.pay(made["id"])
    assert first.status_code == 201
    sale = first.json()
    assert sale["reservation_id"] == made["id"]
    assert (sale["seats"], sale["amount"], sale["user_id"]) == (["A1", "A3"], "50.00", "alice")
    again = api.pay(made["id"])
    assert (again.status_code, again.json()) == (200, sale)
    reservation = api.get(f"/reservations/{made['id']}", headers=api.auth()).json()
    assert (reservation["status"], reservation["sale_id"]) == ("confirmed", sale["id"])
    assert api.get(f"/sessions/{session_id}/seats").json()["sold"] == 2


def test_payment_at_expiry_is_refused_and_sells_nothing(api: Api, session_id: str) -> None:
    """At expires_at payment is 410 reservation_expired, with no job run, and no seat is sold."""
    made = api.reserve(session_id, ["A4"]).json()
    api.clock.advance(30)
    response = api.pay(made["id"])
    assert (response.status_code, error_code(response)) == (410, "reservation_expired")
    seat_map = api.get(f"/sessions/{session_id}/seats").json()
    assert (seat_map["sold"], seat_map["available"]) == (0, 16)


def test_payment_of_cancelled_is_reservation_cancelled(api: Api, session_id: str) -> None:
    """Paying a cancelled reservation is 409 reservation_cancelled."""
    made = api.reserve(session_id, ["B4"]).json()
    api.delete(f"/reservations/{made['id']}", headers=api.auth())
    response = api.pay(made["id"])
    assert (response.status_code, error_code(response)) == (409, "reservation_cancelled")


def test_purchases_newest_first_and_paged(api: Api, session_id: str) -> None:
    """GET /users/{id}/purchases lists that user's sales newest first, page by page."""
    sale_ids = []
    for seat in ("A1", "A2", "A3"):
        made = api.reserve(session_id, [seat]).json()
        sale_ids.append(api.pay(made["id"]).json()["id"])
        api.clock.advance(1)
    first = api.get("/users/alice/purchases?limit=2", headers=api.auth()).json()
    assert [sale["id"] for sale in first["items"]] == sale_ids[::-1][:2]
    rest = api.get(
        "/users/alice/purchases", params={"cursor": first["next_cursor"]}, headers=api.auth()
    ).json()
    assert [sale["id"] for sale in rest["items"]] == sale_ids[:1]
    assert rest["next_cursor"] is None
    by_admin = api.get("/users/alice/purchases", headers=api.admin).json()
    assert len(by_admin["items"]) == 3


def test_purchases_of_someone_else_are_forbidden(api: Api) -> None:
    """A customer reading another user's purchases gets 403 forbidden."""
    response = api.get("/users/bob/purchases", headers=api.auth("alice"))
    assert (response.status_code, error_code(response)) == (403, "forbidden")
    assert bad_fields(api.get("/users/alice/purchases?limit=0", headers=api.auth())) == {"limit"}
