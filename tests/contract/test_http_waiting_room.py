"""HTTP contract of waiting rooms: an admin sets one (nonsense is 422), buyers queue and are
admitted in arrival order at the rate, and POST /reservations asks for a valid admission."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest

from tests.contract.http_app import Api, bad_fields, error_code

ON = {"enabled": True, "admit_per_minute": 60, "max_active": 200}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def api(request: pytest.FixtureRequest, open_http_api: Callable[..., Api]) -> Api:
    """In memory, and with the queues and seat locks in Redis (where the seat lock's own
    script reads the room for a buyer with no admission)."""
    if request.param == "memory":
        return open_http_api()
    redis_url = request.getfixturevalue("redis_url")
    return open_http_api(redis_url=redis_url, namespace=request.getfixturevalue("redis_prefix"))


def room_url(session_id: str) -> str:
    return f"/sessions/{session_id}/waiting-room"


def open_room(api: Api, **settings: Any) -> str:
    session_id = api.create_session()["id"]
    answer = api.request("PUT", room_url(session_id), json={**ON, **settings}, headers=api.admin)
    assert answer.status_code == 200, answer.text
    return session_id


def join(api: Api, session_id: str, user: str = "alice") -> httpx.Response:
    return api.post(f"/sessions/{session_id}/queue", headers=api.auth(user))


def standing(api: Api, ticket: str, user: str = "alice") -> dict[str, Any]:
    answer = api.get(f"/queue/{ticket}", headers=api.auth(user))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def reserve(api: Api, session_id: str, user: str, admission: str | None, seat: str) -> Any:
    headers = api.auth(user)
    if admission is not None:
        headers["X-Admission"] = admission
    return api.post(
        "/reservations", json={"session_id": session_id, "seats": [seat]}, headers=headers
    )


def test_an_admin_sets_and_reads_a_waiting_room(api: Api) -> None:
    """PUT answers the room as set, GET its figures; never set reads enabled false."""
    session_id = api.create_session()["id"]
    before = api.get(room_url(session_id), headers=api.admin)
    assert before.status_code == 200
    assert before.json() == {
        "session_id": session_id,
        "enabled": False,
        "admit_per_minute": None,
        "max_active": None,
        "waiting": 0,
        "active": 0,
    }
    answer = api.request("PUT", room_url(session_id), json=ON, headers=api.admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"waiting": 0} == {
        "session_id": session_id,
        **ON,
        "waiting": 0,
        "active": 0,
    }
    for user in ("a", "b", "c"):
        join(api, session_id, user)
    figures = api.get(room_url(session_id), headers=api.admin).json()
    assert (figures["waiting"], figures["active"]) == (2, 1)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**ON, "admit_per_minute": 0}, {"admit_per_minute"}),
        ({**ON, "admit_per_minute": -5}, {"admit_per_minute"}),
        ({**ON, "admit_per_minute": 10**12}, {"admit_per_minute"}),
        ({**ON, "admit_per_minute": 1.5}, {"admit_per_minute"}),
        ({**ON, "admit_per_minute": "600"}, {"admit_per_minute"}),
        ({**ON, "max_active": 0}, {"max_active"}),
        ({**ON, "max_active": True}, {"max_active"}),
        ({**ON, "enabled": "yes"}, {"enabled"}),
        ({"enabled": True}, {"admit_per_minute", "max_active"}),
    ],
)
def test_a_room_with_nonsense_settings_is_refused(
    api: Api, body: dict[str, Any], fields: set[str]
) -> None:
    """Non-positive, absurdly large or mistyped settings are 422 naming them; nothing is set."""
    session_id = api.create_session()["id"]
    answer = api.request("PUT", room_url(session_id), json=body, headers=api.admin)
    assert bad_fields(answer) == fields
    assert api.get(room_url(session_id), headers=api.admin).json()["enabled"] is False


def test_only_admins_set_or_read_a_room(api: Api) -> None:
    """A customer is 403, no token 401; an unknown session 404 session_not_found."""
    session_id = api.create_session()["id"]
    for method in ("PUT", "GET"):
        json = ON if method == "PUT" else None
        assert api.request(method, room_url(session_id), json=json).status_code == 401
        customer = api.request(method, room_url(session_id), json=json, headers=api.auth())
        assert (customer.status_code, error_code(customer)) == (403, "forbidden")
        missing = api.request(
            method, room_url("3fa85f64-5717-4562-b3fc-2c963f66afa6"), json=json, headers=api.admin
        )
        assert (missing.status_code, error_code(missing)) == (404, "session_not_found")


def test_buyers_are_admitted_in_arrival_order_at_the_rate(api: Api) -> None:
    """One a minute… here one a second: the first is in at once, then one a second in order,
    with positions and estimates that count down."""
    session_id = open_room(api)
    joined = [join(api, session_id, f"u{i}") for i in range(4)]
    assert [j.status_code for j in joined] == [201] * 4
    bodies = [j.json() for j in joined]
    assert bodies[0]["status"] == "admitted"
    assert bodies[0]["admission"]
    assert [(b["position"], b["estimated_wait_seconds"]) for b in bodies[1:]] == [
        (1, 1),
        (2, 2),
        (3, 3),
    ]
    api.clock.advance(2)
    seen = [standing(api, b["ticket"], f"u{i}") for i, b in enumerate(bodies)]
    assert [s["status"] for s in seen] == ["admitted", "admitted", "admitted", "waiting"]
    assert seen[3]["position"] == 1
    assert seen[1]["expires_at"] is not None


def test_joining_twice_gives_the_same_place(api: Api) -> None:
    """The second join is 200 with the same ticket and position."""
    session_id = open_room(api)
    join(api, session_id, "first")
    one, two = join(api, session_id), join(api, session_id)
    assert (one.status_code, two.status_code) == (201, 200)
    assert (two.json()["ticket"], two.json()["position"]) == (one.json()["ticket"], 1)


def test_joining_a_session_without_a_room_is_409(api: Api) -> None:
    """No waiting room on: 409 waiting_room_off; an unknown session 404; no token 401."""
    session_id = api.create_session()["id"]
    answer = join(api, session_id)
    assert (answer.status_code, error_code(answer)) == (409, "waiting_room_off")
    missing = join(api, "3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert (missing.status_code, error_code(missing)) == (404, "session_not_found")
    assert api.post(f"/sessions/{session_id}/queue").status_code == 401


def test_a_place_is_its_own_users(api: Api) -> None:
    """Another user's ticket, a made-up one or a malformed one is 404 queue_ticket_not_found."""
    session_id = open_room(api)
    ticket = join(api, session_id).json()["ticket"]
    for user, asked in (
        ("mallory", ticket),
        ("alice", session_id.replace("-", "") * 2),
        ("alice", "x"),
    ):
        for method in ("GET", "DELETE"):
            answer = api.request(method, f"/queue/{asked}", headers=api.auth(user))
            assert (answer.status_code, error_code(answer)) == (404, "queue_ticket_not_found")
    assert standing(api, ticket)["status"] == "admitted"


def test_reserving_needs_an_admission_while_the_room_is_on(api: Api) -> None:
    """Without X-Admission 403 admission_required; with the admission 201, and again for a
    second hold while it lasts; staff are not queued."""
    session_id = open_room(api)
    refused = reserve(api, session_id, "alice", None, "A1")
    assert (refused.status_code, error_code(refused)) == (403, "admission_required")
    admission = join(api, session_id).json()["admission"]
    assert reserve(api, session_id, "alice", admission, "A1").status_code == 201
    assert reserve(api, session_id, "alice", admission, "A2").status_code == 201
    staff = api.post(
        "/reservations",
        json={"session_id": session_id, "seats": ["A4"]},
        headers=api.auth("desk", "staff"),
    )
    assert staff.status_code == 201


def test_foreign_forged_and_other_session_admissions_are_invalid(api: Api) -> None:
    """Another user's token, a token with its signature changed, one of another session and
    garbage: 403 admission_invalid, and nothing is held."""
    session_id = open_room(api)
    other = open_room(api)
    admission = join(api, session_id).json()["admission"]
    elsewhere = join(api, other).json()["admission"]
    head, _, signature = admission.partition(".")
    forged = f"{head}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    for user, token in (
        ("mallory", admission),
        ("alice", forged),
        ("alice", elsewhere),
        ("alice", "not-a-token"),
        ("alice", "a.b.c\x7f"),
    ):
        answer = reserve(api, session_id, user, token, "B1")
        assert (answer.status_code, error_code(answer)) == (403, "admission_invalid"), token
    seats = api.get(f"/sessions/{session_id}").json()
    assert seats["available"] == seats["seat_count"]


def test_a_lapsed_or_given_up_admission_is_expired(api: Api) -> None:
    """After CINEMA_ADMISSION_SECONDS, or after leaving, the token is 403 admission_expired;
    leaving frees the place for the next in line."""
    session_id = open_room(api, max_active=1)
    alice = join(api, session_id).json()
    bob = join(api, session_id, "bob").json()
    assert bob["status"] == "waiting"
    left = api.delete(f"/queue/{alice['ticket']}", headers=api.auth())
    assert left.status_code == 200
    assert left.json() == {"ticket": alice["ticket"], "session_id": session_id, "status": "left"}
    answer = reserve(api, session_id, "alice", alice["admission"], "C1")
    assert (answer.status_code, error_code(answer)) == (403, "admission_expired")
    api.clock.advance(1)  # bob's slot, one second after alice's
    bob_now = standing(api, bob["ticket"], "bob")
    assert bob_now["status"] == "admitted"
    api.clock.advance(api.services.settings.admission_seconds)
    lapsed = standing(api, bob["ticket"], "bob")
    assert lapsed["status"] == "lapsed"
    answer = reserve(api, session_id, "bob", bob_now["admission"], "C2")
    assert (answer.status_code, error_code(answer)) == (403, "admission_expired")


def test_a_room_switched_off_lets_everyone_reserve(api: Api) -> None:
    """Off again: no admission needed."""
    session_id = open_room(api)
    off = api.request("PUT", room_url(session_id), json={**ON, "enabled": False}, headers=api.admin)
    assert off.json()["enabled"] is False
    assert reserve(api, session_id, "alice", None, "D1").status_code == 201


def test_admission_errors_follow_accept_language(api: Api) -> None:
    """The 403's message is in Portuguese when asked for."""
    session_id = open_room(api)
    headers = {**api.auth(), "Accept-Language": "pt-BR"}
    answer = api.post(
        "/reservations", json={"session_id": session_id, "seats": ["A1"]}, headers=headers
    )
    assert error_code(answer) == "admission_required"
    assert "fila" in answer.json()["error"]["message"]


@pytest.mark.redis
def test_a_buyer_with_no_admission_costs_one_redis_script_room_and_seats(
    open_http_api: Callable[..., Api],
) -> None:
    """Over Redis, a reservation of chosen seats with no admission reads the session's room in
    the seat lock's own script: one call and no other read of the room; with the room on,
    the same call turns the buyer away (403) and a second read makes the answer."""
    from collections import Counter

    from tests.redis_cluster import RedisServer

    with RedisServer(17211) as own_redis:
        api = open_http_api(redis_url=own_redis.url)
        session_id = api.create_session()["id"]
        assert reserve(api, session_id, "alice", None, "A1").status_code == 201  # scripts learnt
        before = Counter(own_redis.commands())
        assert reserve(api, session_id, "bob", None, "A2").status_code == 201
        ran = Counter(own_redis.commands()) - before
        assert ran == Counter(evalsha=1, hget=1, get=1, set=1, info=1)
        on = api.request("PUT", room_url(session_id), json=ON, headers=api.admin)
        assert on.status_code == 200
        before = Counter(own_redis.commands())
        refused = reserve(api, session_id, "carol", None, "A3")
        ran = Counter(own_redis.commands()) - before
        assert (refused.status_code, error_code(refused)) == (403, "admission_required")
        assert ran["evalsha"] == 1
        assert ran["set"] == 0
