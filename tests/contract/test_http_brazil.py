"""The Brazilian rules over HTTP: quota groups and documents in a session's ticket types, the
age rating in POST and PATCH, quotas on the session and its seat map (with the ETag), and the
checks a check-in answers for the door."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.http_app import Api, bad_fields, error_code
from tests.contract.test_http_after_sale import bought, scan, tickets

GROUP_TYPES = [
    {"code": "full", "name": "Inteira", "percent": 100},
    {"code": "student", "name": "Estudante", "percent": 50, "quota_percent": 40,
     "quota_group": "meia", "document": "Carteira de Identificação Estudantil"},
    {"code": "pcd", "name": "PcD", "percent": 50, "quota_percent": 40, "quota_group": "meia"},
]  # fmt: skip


def hold(api: Api, session_id: str, seats: list[str], user: str = "alice", **more: Any) -> Any:
    body = {"session_id": session_id, "seats": seats, **more}
    return api.post("/reservations", json=body, headers=api.auth(user))


def test_a_session_answers_its_groups_documents_rating_and_quotas(api: Api) -> None:
    """The types as given, rating 14, and quotas of meia: 6 of 16, none used."""
    session = api.create_session(ticket_types=GROUP_TYPES, rating="14")
    assert session["ticket_types"] == GROUP_TYPES
    assert session["rating"] == "14"
    assert session["quotas"] == {"meia": {"limit": 6, "used": 0, "left": 6}}


def test_two_types_of_one_group_share_its_quota_over_http(api: Api) -> None:
    """4 students and 2 people with disabilities fill meia's 6; the next is 409 naming it."""
    session = api.create_session(ticket_types=GROUP_TYPES)
    assert hold(api, session["id"], ["A1", "A2", "A3", "A4"], tickets={"student": 4}).is_success
    assert hold(api, session["id"], ["B1", "B2"], "bia", tickets={"pcd": 2}).is_success
    refused = hold(api, session["id"], ["C1"], "cid", tickets={"student": 1})
    assert (refused.status_code, error_code(refused)) == (409, "ticket_quota_exhausted")
    details = refused.json()["error"]["details"]
    assert details == {"ticket": "student", "remaining": 0, "quota_group": "meia"}
    read = api.get(f"/sessions/{session['id']}").json()
    assert read["quotas"] == {"meia": {"limit": 6, "used": 6, "left": 0}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quota_percent": 30}, "ticket_types.2.quota_percent"),
        ({"quota_group": "Meia"}, "ticket_types.2.quota_group"),
        ({"document": ""}, "ticket_types.2.document"),
        ({"document": "x" * 121}, "ticket_types.2.document"),
    ],
)
def test_bad_groups_and_documents_are_422_and_create_nothing(
    api: Api, change: dict[str, Any], field: str
) -> None:
    """A group whose types disagree on the quota, a bad group name, a bad document."""
    types = [*GROUP_TYPES[:2], {**GROUP_TYPES[2], **change}]
    body = {"movie": "Filme X", "room": "Sala 1", "starts_at": "2026-12-01T19:00:00Z",
            "price": "25.00", "rows": 4, "seats_per_row": 4, "ticket_types": types}  # fmt: skip
    response = api.post("/sessions", json=body, headers=api.admin)
    # Named down to the field, or (when the body's shape refuses it) as the list it is in.
    assert {name for name in bad_fields(response) if field.startswith(name)}
    assert api.get("/sessions").json()["items"] == []


def test_a_rating_is_set_and_changed_and_a_bad_one_is_422(api: Api) -> None:
    """L by default; POST and PATCH take L, 10, 12, 14, 16, 18 and nothing else."""
    session = api.create_session()
    assert session["rating"] == "L"
    assert "rating" in bad_fields(api.post("/sessions", json={"rating": "15"}, headers=api.admin))
    changed = api.request(
        "PATCH", f"/sessions/{session['id']}", json={"rating": "18"}, headers=api.admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["rating"] == "18"
    assert api.get(f"/sessions/{session['id']}").json()["rating"] == "18"


def test_the_seat_map_carries_quotas_and_its_etag_changes_with_them(api: Api) -> None:
    """A change of a hold from full to half changes no status, but the quotas and the tag."""
    session = api.create_session()
    held = hold(api, session["id"], ["A1"])
    first = api.get(f"/sessions/{session['id']}/seats")
    assert first.json()["quotas"] == {"meia": {"limit": 6, "used": 0, "left": 6}}
    changed = api.request(
        "PATCH",
        f"/reservations/{held.json()['id']}",
        json={"seats": ["A1"], "tickets": {"half": 1}},
        headers=api.auth("alice"),
    )
    assert changed.status_code == 200, changed.text
    second = api.get(
        f"/sessions/{session['id']}/seats", headers={"If-None-Match": first.headers["etag"]}
    )
    assert second.status_code == 200
    assert second.json()["quotas"] == {"meia": {"limit": 6, "used": 1, "left": 5}}
    assert second.json()["seats"] == first.json()["seats"]
    assert second.headers["etag"] != first.headers["etag"]


def test_a_check_in_answers_what_the_door_must_check(api: Api) -> None:
    """A meia-entrada of a 16 session: the student card and 16; an inteira: only the age."""
    session = api.create_session(rating="16")
    sale = bought(api, ["A1", "A2"], session_id=session["id"], tickets={"half": 1})
    checks = {}
    for ticket in tickets(api, sale):
        answer = scan(api, ticket["code"], session_id=session["id"])
        assert answer.status_code == 201, answer.text
        checks[ticket["ticket"]] = answer.json()["checks"]
    assert checks == {
        "half": {"document": "Carteira de Identificação Estudantil (CIE)", "age": "16"},
        "full": {"document": None, "age": "16"},
    }
