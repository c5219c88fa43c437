"""HTTP contract: user ids the database could not store are refused at the door, in every mode.

A token's ``sub`` is 1–64 printable characters; one with a NUL, a control character or a lone
surrogate is 401, and such an id in a path is 404, whether the store is in memory or PostgreSQL
(which cannot hold a NUL or a surrogate and used to answer 503 or 500).
"""

from __future__ import annotations

import jwt
import pytest

from tests.contract.http_app import SECRET, Api, error_code


def _bearer(sub: object, role: str = "customer") -> dict[str, str]:
    return {"Authorization": "Bearer " + jwt.encode({"sub": sub, "role": role}, SECRET)}


ODD_SUBS = {
    "NUL": "a\x00b",
    "lone surrogate": "\ud800x",
    "control character": "a\x1fb",
    "DEL": "a\x7f",
    "line break": "alice\n",
    "only a NUL": "\x00",
    "65 characters": "u" * 65,
}


@pytest.mark.parametrize("case", sorted(ODD_SUBS))
def test_a_token_whose_sub_cannot_be_a_user_id_is_401(any_api: Api, case: str) -> None:
    """POST /reservations and GET purchases with such a token: 401 unauthorized, not 5xx."""
    session_id = any_api.create_session()["id"]
    headers = _bearer(ODD_SUBS[case])
    body = {"session_id": session_id, "seats": ["A1"]}
    reserved = any_api.post("/reservations", json=body, headers=headers)
    assert (reserved.status_code, error_code(reserved)) == (401, "unauthorized")
    read = any_api.get("/users/alice/purchases", headers=headers)
    assert (read.status_code, error_code(read)) == (401, "unauthorized")
    assert any_api.get(f"/sessions/{session_id}").json()["available"] == 16


@pytest.mark.parametrize("path_id", ["%00", "a%00b", "%1F", "%7F", "u" * 65, "%0A"])
def test_a_path_user_id_that_cannot_be_one_is_404(any_api: Api, path_id: str) -> None:
    """GET /users/{id}/purchases as an admin with an impossible id: 404, not 503."""
    response = any_api.get(f"/users/{path_id}/purchases", headers=any_api.admin)
    assert (response.status_code, error_code(response)) == (404, "not_found")


@pytest.mark.parametrize("user", ["a/b", "ana maria", "joão", "🎬", "x" * 64])
def test_any_printable_sub_reads_its_own_purchases(any_api: Api, user: str) -> None:
    """A sub of printable characters (a slash, a space, non-ASCII included) buys and then
    reads its own purchases at /users/{percent-encoded sub}/purchases."""
    from urllib.parse import quote

    session_id = any_api.create_session()["id"]
    headers = _bearer(user)
    held = any_api.post(
        "/reservations", json={"session_id": session_id, "seats": ["A1"]}, headers=headers
    )
    assert held.status_code == 201, held.text
    assert held.json()["user_id"] == user
    paid = any_api.post(f"/reservations/{held.json()['id']}/payment", headers=headers)
    assert paid.status_code == 201, paid.text
    page = any_api.get(f"/users/{quote(user, safe='')}/purchases", headers=headers)
    assert page.status_code == 200, page.text
    assert [sale["user_id"] for sale in page.json()["items"]] == [user]
