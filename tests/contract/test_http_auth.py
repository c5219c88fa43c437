"""HTTP contract: who may call what (bearer JWTs, HS256)."""

from __future__ import annotations

import time

import jwt
import pytest

from entrypoints.http.framework.auth import Authenticator, Identity
from entrypoints.http.framework.errors import Unauthorized
from tests.contract.http_app import NEW_SESSION, SECRET, Api, error_code

PROTECTED = [
    ("POST", "/sessions"),
    ("POST", "/reservations"),
    ("GET", "/reservations/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/reservations/00000000-0000-0000-0000-000000000000"),
    ("POST", "/reservations/00000000-0000-0000-0000-000000000000/payment"),
    ("GET", "/users/alice/purchases"),
    ("GET", "/admin/events"),
]


def _signed(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


BAD_AUTHORIZATION = {
    "missing": None,
    "empty": "",
    "basic scheme": "Basic YWxpY2U6c2VjcmV0",
    "bearer without token": "Bearer ",
    "garbage": "Bearer not.a.jwt",
    "wrong secret": "Bearer " + _signed({"sub": "alice", "role": "customer"}, "x" * 40),
    "expired": "Bearer " + _signed({"sub": "alice", "role": "customer", "exp": 1_000_000}),
    "alg none": "Bearer " + jwt.encode({"sub": "alice", "role": "admin"}, None, algorithm="none"),
    "HS512": "Bearer " + _signed({"sub": "alice", "role": "admin"}, SECRET * 2, "HS512"),
    "no role": "Bearer " + _signed({"sub": "alice"}),
    "bad role": "Bearer " + _signed({"sub": "alice", "role": "root"}),
    "no sub": "Bearer " + _signed({"role": "admin"}),
    "empty sub": "Bearer " + _signed({"sub": "", "role": "admin"}),
    "long sub": "Bearer " + _signed({"sub": "u" * 65, "role": "customer"}),
    "numeric sub": "Bearer " + _signed({"sub": 42, "role": "customer"}),
}


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r[0]} {r[1]}")
@pytest.mark.parametrize("case", sorted(BAD_AUTHORIZATION))
def test_bad_tokens_are_unauthorized(api: Api, route: tuple[str, str], case: str) -> None:
    """Every protected route answers 401 unauthorized to a missing or bad token."""
    value = BAD_AUTHORIZATION[case]
    headers = {} if value is None else {"Authorization": value}
    response = api.request(route[0], route[1], headers=headers, json=NEW_SESSION)
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_token_with_future_exp_is_accepted(api: Api) -> None:
    """A token whose exp is still ahead is honoured."""
    token = _signed({"sub": "alice", "role": "customer", "exp": int(time.time()) + 60})
    response = api.get("/users/alice/purchases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_remembered_token_still_lapses() -> None:
    """A token verified (and remembered) before is refused once its exp passes."""
    now = [time.time()]
    authenticator = Authenticator(SECRET, now=lambda: now[0])
    token = _signed({"sub": "alice", "role": "customer", "exp": int(now[0]) + 60})
    assert authenticator.identify(f"Bearer {token}") == Identity("alice", "customer")
    now[0] += 61
    with pytest.raises(Unauthorized):
        authenticator.identify(f"Bearer {token}")


def test_customers_are_forbidden_admin_routes(api: Api) -> None:
    """A customer gets 403 forbidden on POST /sessions and GET /admin/events."""
    for method, path in (("POST", "/sessions"), ("GET", "/admin/events")):
        response = api.request(method, path, headers=api.auth("alice"), json=NEW_SESSION)
        assert (response.status_code, error_code(response)) == (403, "forbidden")


@pytest.mark.parametrize(
    "path",
    ["/health", "/ready", "/sessions", "/openapi.json", "/api-docs"],
)
def test_public_routes_need_no_token(api: Api, path: str) -> None:
    """Public routes answer without any token (and ignore a bad one)."""
    assert api.get(path).status_code == 200
    assert api.get(path, headers={"Authorization": "Bearer junk"}).status_code == 200
