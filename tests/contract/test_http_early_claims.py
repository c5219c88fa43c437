"""A hold of chosen seats by a buyer with no admission is claimed on the event loop (its checks
and its seat lock) and held on a request thread: the answers are those of the whole use case
on a thread, and a claim whose thread never runs gives its seats back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from entrypoints.http.framework.auth import Authenticator
from entrypoints.http.framework.operations import Gate, routes
from entrypoints.http.framework.threads import RequestThreads
from entrypoints.http.routes.selling import reservations
from tests.contract.http_app import SECRET, Api

pytestmark = pytest.mark.redis

ROOM_ON = {"enabled": True, "admit_per_minute": 60, "max_active": 200}
# More distinct products than a claim may ask for: refused before any seat is judged.
_ELEVEN = {f"p{n}": 1 for n in range(11)}


@pytest.fixture
def api(open_http_api: Callable[..., Api], request: pytest.FixtureRequest) -> Api:
    """Seat locks and waiting rooms in Redis: the app is not all in this process, so a hold
    is claimed on the event loop (in memory every request runs there whole)."""
    return open_http_api(
        redis_url=request.getfixturevalue("redis_url"),
        namespace=request.getfixturevalue("redis_prefix"),
    )


def _answer(api: Api, body: dict[str, Any], user: str, key: str | None) -> tuple[Any, ...]:
    headers = api.auth(user)
    if key is not None:
        # With a key the request goes to a request thread whole, to be remembered.
        headers["Idempotency-Key"] = key
    answer = api.post("/reservations", json=body, headers=headers)
    if answer.status_code == 201:
        return (201, sorted(answer.json()["seats"]))
    error = answer.json()["error"]
    return (answer.status_code, error["code"], error.get("details"))


def _cases(session_id: str, roomed_id: str) -> list[tuple[str, dict[str, Any]]]:
    at = {"session_id": session_id}
    return [
        ("a free seat", {**at, "seats": ["B1"]}),
        ("a seat bob holds", {**at, "seats": ["A1"]}),
        ("a held seat among free ones", {**at, "seats": ["C1", "A2", "C2"]}),
        ("a seat the room does not have", {**at, "seats": ["Z9"]}),
        ("a seat named twice", {**at, "seats": ["D1", "d1"]}),
        ("a ticket type the session does not sell", {**at, "seats": ["D2"], "tickets": {"x": 1}}),
        ("more tickets than seats", {**at, "seats": ["D3"], "tickets": {"half": 2}}),
        ("a held seat with a half-price ticket", {**at, "seats": ["A1"], "tickets": {"half": 1}}),
        ("a held seat with too many products", {**at, "seats": ["A1"], "products": _ELEVEN}),
        ("a held seat with an unknown product", {**at, "seats": ["A1"], "products": {"x": 1}}),
        ("a free seat with an unknown product", {**at, "seats": ["D4"], "products": {"x": 1}}),
        ("a held seat with best available's count", {**at, "seats": ["A1"], "count": 2}),
        ("a session with its waiting room on", {"session_id": roomed_id, "seats": ["A3"]}),
        ("a session no one created", {"session_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12}),
    ]


def _setting(api: Api) -> tuple[str, str]:
    """A session with bob holding A1 and A2, and one whose waiting room is on."""
    session_id = api.create_session()["id"]
    assert api.reserve(session_id, ["A1", "A2"], user="bob").status_code == 201
    roomed_id = api.create_session()["id"]
    url = f"/sessions/{roomed_id}/waiting-room"
    assert api.request("PUT", url, json=ROOM_ON, headers=api.admin).status_code == 200
    return session_id, roomed_id


def test_a_hold_claimed_on_the_event_loop_answers_as_one_made_on_a_thread(api: Api) -> None:
    """Each request, alike in two alike sessions: with no key (claimed on the loop) and with a
    key (the whole use case on a thread), the same status, code and details, in the order
    the use case checks them (a malformed extra before a taken seat, a 403 before a 409)."""
    on_loop = _setting(api)
    on_thread = _setting(api)
    for index, ((what, loop_body), (_, thread_body)) in enumerate(
        zip(_cases(*on_loop), _cases(*on_thread), strict=True)
    ):
        if "seats" not in loop_body:
            loop_body["seats"] = thread_body["seats"] = ["A4"]
        looped = _answer(api, loop_body, "alice", None)
        threaded = _answer(api, thread_body, "alice", f"case-{index}")
        assert looped == threaded, what
    # The claim the store refused (an unknown product) let its seat go, on either path.
    for session_id, _ in (on_loop, on_thread):
        assert api.reserve(session_id, ["D4"], user="carol").status_code == 201


def _without_threads(api: Api) -> TestClient:
    """The reservation routes over the same services, with a pool that takes no more work
    (as at shutdown): a claim made on the loop never reaches a thread."""
    threads = RequestThreads(1)
    threads.close()
    gate = Gate(api.services, Authenticator(SECRET))
    app = Starlette(routes=routes(reservations.OPERATIONS, gate, threads))
    return TestClient(app, raise_server_exceptions=False)


def _stranded_seat_is_free(api: Api) -> bool:
    session_id = api.create_session()["id"]
    assert api.reserve(session_id, ["A1"]).status_code == 201  # this process keeps the session
    stranded = _without_threads(api).post(
        "/reservations",
        json={"session_id": session_id, "seats": ["A2"]},
        headers=api.auth("bob"),
    )
    assert stranded.status_code == 500
    return api.reserve(session_id, ["A2"], user="carol").status_code == 201


def test_a_claim_whose_thread_never_runs_gives_its_seats_back(api: Api) -> None:
    """The seat lock taken on the loop is let go when the hold cannot be handed to a thread:
    another buyer gets the seat at once, not when the lock lapses."""
    assert _stranded_seat_is_free(api)


def test_control_a_claim_not_let_go_keeps_its_seats_locked(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: with the let-go switched off, the stranded claim's lock turns the next buyer
    away, which is what the test above rules out."""
    monkeypatch.setattr(reservations.Claim, "abandon", lambda self: None)
    assert not _stranded_seat_is_free(api)
