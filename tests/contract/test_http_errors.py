"""HTTP contract: error shapes, 404/405/413, malformed bodies, request ids, and no 5xx for any
client input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from cinema_core.memory import InMemoryReservationRepo
from tests.contract.http_app import NEW_SESSION, Api, bad_fields, error_code


def test_unknown_route_is_json_not_found(api: Api) -> None:
    """An unknown path is 404 not_found in the contract's error shape."""
    response = api.get("/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Nothing is here."}}


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    """A known path with another method is 405 method_not_allowed listing what it allows."""
    response = api.request("PUT", "/sessions")
    assert (response.status_code, error_code(response)) == (405, "method_not_allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}
    put = api.request("PUT", "/reservations/00000000-0000-0000-0000-000000000000")
    assert {m.strip() for m in put.headers["allow"].split(",")} >= {"GET", "PATCH", "DELETE"}


def test_declared_oversize_body_is_413(api: Api) -> None:
    """A body over 64 KiB (by Content-Length) is 413 payload_too_large."""
    body = json.dumps({**NEW_SESSION, "movie": "x" * 70_000})
    response = api.post(
        "/sessions", content=body, headers={**api.admin, "Content-Type": "application/json"}
    )
    assert (response.status_code, error_code(response)) == (413, "payload_too_large")


def test_chunked_oversize_body_is_413(api: Api) -> None:
    """A chunked body (no Content-Length) is cut off at 64 KiB with 413 too."""

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 4096

    response = api.post("/reservations", content=chunks(), headers=api.auth())
    assert "content-length" not in response.request.headers
    assert (response.status_code, error_code(response)) == (413, "payload_too_large")


def test_body_of_exactly_64_kib_is_read(api: Api) -> None:
    """64 KiB exactly is within the limit (the body is then judged on its merits)."""
    session_id = api.create_session()["id"]
    body = json.dumps({"session_id": session_id, "seats": ["A1"]}).encode()
    body += b" " * (64 * 1024 - len(body))
    response = api.post("/reservations", content=body, headers=api.auth())
    assert response.status_code == 201


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"   ", b"{'a': 1}", b"\xff\xfe", b"NaN", b'{"a": Infinity}', b"[" * 50_000],
)
def test_malformed_json_is_400(api: Api, raw: bytes) -> None:
    """A body that is not JSON is 400 malformed_json."""
    response = api.post("/reservations", content=raw, headers=api.auth())
    assert (response.status_code, error_code(response)) == (400, "malformed_json")


@pytest.mark.parametrize("raw", [b"[]", b"1", b'"text"', b"null", b"true"])
def test_json_that_is_not_an_object_is_422(api: Api, raw: bytes) -> None:
    """A JSON body that is not an object is 422 validation_error naming the body."""
    assert bad_fields(api.post("/reservations", content=raw, headers=api.auth())) == {"body"}


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [("trace-123", True), ("x" * 128, True), ("x" * 129, False), ("bad\tid", False)],
)
def test_request_id_is_echoed_when_sane(api: Api, sent: str, echoed: bool) -> None:
    """A sane X-Request-Id is echoed; an insane one is replaced by one made up."""
    answered = api.get("/health", headers={"X-Request-Id": sent}).headers["x-request-id"]
    assert (answered == sent) is echoed
    assert 0 < len(answered) <= 128


def test_request_ids_are_made_up_and_distinct(api: Api) -> None:
    """Without a client id every response still carries one, different each time."""
    ids = {api.get("/sessions").headers["x-request-id"] for _ in range(3)}
    ids.add(api.get("/nowhere").headers["x-request-id"])
    assert len(ids) == 4


WEIRD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    10**30,
    -(10**30),
    1e308,
    1.5,
    "",
    " ",
    "A1",
    "🎬" * 50,
    "\u202e\u0000",
    "x" * 5000,
    [],
    [None],
    ["A1"] * 11,
    {},
    {"$gt": ""},
    [[["A1"]]],
]


def _raw_bodies(session_id: str) -> Iterator[bytes]:
    for field in ("movie", "room", "starts_at", "price", "rows", "seats_per_row"):
        for value in WEIRD_VALUES:
            yield json.dumps({**NEW_SESSION, field: value}).encode()
    for field in ("session_id", "seats"):
        for value in WEIRD_VALUES:
            yield json.dumps({"session_id": session_id, "seats": ["A1"], field: value}).encode()
    yield b'{"movie": "\\ud800", "room": "r"}'
    yield b'{"session_id": "\\udfff", "seats": ["\\ud83c"]}'
    yield b'{"price": 1' + b"0" * 5000 + b"}"
    yield b'{"price": 1e99999}'
    yield b'{"a": ' * 2000 + b"1" + b"}" * 2000


def test_no_client_input_gets_a_5xx(api: Api) -> None:
    """Weird values in every field of every body: always a 4xx (or success), never a 5xx."""
    session_id = api.create_session()["id"]
    statuses: set[int] = set()
    for raw in _raw_bodies(session_id):
        for path in ("/sessions", "/reservations"):
            headers = {**(api.admin if path == "/sessions" else api.auth())}
            headers["Content-Type"] = "application/json"
            response = api.post(path, content=raw, headers=headers)
            assert response.status_code < 500, (path, raw[:80], response.text)
            statuses.add(response.status_code)
    assert statuses >= {400, 422}


@pytest.mark.parametrize(
    "path",
    [
        "/sessions?limit=%00",
        "/sessions?limit=１",
        "/sessions?cursor=%FF%FE",
        "/sessions?cursor=" + "e30",
        "/sessions/%00",
        "/sessions/" + "a" * 5000,
        "/admin/events?limit=abc&type=nope&session_id=1&cursor=-5",
    ],
)
def test_odd_paths_and_queries_get_4xx(api: Api, path: str) -> None:
    """Odd query strings and path ids are refused with 4xx, never 5xx."""
    response = api.get(path, headers=api.admin)
    assert 400 <= response.status_code < 500, response.text


def test_admin_events_names_every_bad_parameter(api: Api) -> None:
    """All bad query parameters of /admin/events are named at once."""
    response = api.get(
        "/admin/events?limit=abc&type=nope&session_id=1&cursor=-5", headers=api.admin
    )
    assert bad_fields(response) == {"limit", "type", "session_id", "cursor"}


class _BrokenRepo(InMemoryReservationRepo):
    def get_session(self, session_id: Any) -> Any:
        raise RuntimeError("the disk caught fire")


def test_unexpected_error_is_500_in_contract_shape(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception is a 500 JSON error with a request id, logged with traceback."""
    api.services.box = attrs.evolve(api.services.box, repo=_BrokenRepo())
    response = api.get("/sessions/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 500
    assert error_code(response) == "internal_error"
    assert "fire" not in response.text
    assert response.headers["x-request-id"]
    logged = [r for r in caplog.records if r.name == "cinema.http" and r.exc_info]
    assert logged, "the traceback must be logged"


def _nested(depth: int, inner: bytes = b"") -> bytes:
    return b"[" * depth + inner + b"]" * depth


@pytest.mark.parametrize("depth", [100, 325, 400, 1000, 1024, 1025, 20_000])
@pytest.mark.parametrize("inner", [b"", b"1.5", b'"A1"'])
def test_a_deeply_nested_body_is_a_4xx(api: Api, depth: int, inner: bytes) -> None:
    """A body nested any number of levels deep (with or without a fraction inside) is 400 or
    422 on both body routes, never a 5xx."""
    session_id = api.create_session()["id"]
    bodies = {
        "/reservations": b'{"session_id": "%s", "seats": %s}'
        % (session_id.encode(), _nested(depth, inner)),
        "/sessions": b'{"movie": "Filme X", "price": %s}' % _nested(depth, inner),
    }
    for path, raw in bodies.items():
        headers = api.admin if path == "/sessions" else api.auth()
        response = api.post(path, content=raw, headers=headers)
        assert response.status_code in (400, 413, 422), (path, depth, response.text)
