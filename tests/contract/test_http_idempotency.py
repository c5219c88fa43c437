"""HTTP contract: Idempotency-Key on POST /reservations and on payment."""

from __future__ import annotations

import threading

import httpx2 as httpx
import pytest

from tests.contract.http_app import Api, bad_fields, error_code


@pytest.fixture
def session_id(api: Api) -> str:
    return str(api.create_session()["id"])


def test_retry_gets_the_first_answer_byte_for_byte(api: Api, session_id: str) -> None:
    """Same user, key and claim (seats in any order): the same status and body, nothing new."""
    first = api.reserve(session_id, ["A3", "A1"], key="k-1")
    again = api.reserve(session_id, ["a1", "A3"], key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert api.get(f"/sessions/{session_id}/seats").json()["held"] == 2


def test_same_key_with_another_body_is_refused(api: Api, session_id: str) -> None:
    """The key with a different claim is 422 idempotency_key_reused, and nothing is held."""
    api.reserve(session_id, ["A1"], key="k-2")
    response = api.reserve(session_id, ["A2"], key="k-2")
    assert (response.status_code, error_code(response)) == (422, "idempotency_key_reused")
    assert api.get(f"/sessions/{session_id}/seats").json()["held"] == 1


def test_keys_belong_to_their_user(api: Api, session_id: str) -> None:
    """Another user's identical key is a request of its own."""
    assert api.reserve(session_id, ["A1"], user="alice", key="shared").status_code == 201
    bob = api.reserve(session_id, ["A2"], user="bob", key="shared")
    assert bob.status_code == 201
    assert bob.json()["user_id"] == "bob"


def test_a_refusal_is_replayed_too(api: Api, session_id: str) -> None:
    """A domain refusal (409) is remembered: the retry gets the same 409 even once seats free."""
    taken = api.reserve(session_id, ["B1"], user="bob").json()
    first = api.reserve(session_id, ["B1"], key="k-3")
    assert first.status_code == 409
    api.delete(f"/reservations/{taken['id']}", headers=api.auth("bob"))
    again = api.reserve(session_id, ["B1"], key="k-3")
    assert (again.status_code, again.content) == (409, first.content)


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_key_must_be_1_to_255_characters(api: Api, session_id: str, key: str) -> None:
    """An empty or over-long Idempotency-Key is 422 naming the header."""
    assert bad_fields(api.reserve(session_id, ["A1"], key=key)) == {"Idempotency-Key"}


def test_concurrent_duplicates_make_one_reservation(api: Api, session_id: str) -> None:
    """Eight copies of one request released together: one reservation, eight equal answers."""
    copies = 8
    barrier = threading.Barrier(copies)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        barrier.wait()
        response = api.reserve(session_id, ["C1", "C2"], key="dup")
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {response.status_code for response in answers} == {201}
    assert len({response.content for response in answers}) == 1
    held = api.get(f"/sessions/{session_id}/seats").json()["held"]
    assert held == 2
    created = api.get("/admin/events?type=reservation.created", headers=api.admin)
    assert created.status_code == 200


def test_control_without_key_duplicates_do_race(api: Api, session_id: str) -> None:
    """Control: the same eight requests without a key give one 201 and seven 409s."""
    copies = 8
    barrier = threading.Barrier(copies)
    statuses: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        barrier.wait()
        status = api.reserve(session_id, ["C1", "C2"]).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 7


def test_payment_with_a_key_replays_its_sale(api: Api, session_id: str) -> None:
    """Payment with a key: the retry gets the first 201 and the same sale."""
    made = api.reserve(session_id, ["D1"]).json()
    headers = {**api.auth(), "Idempotency-Key": "pay-1"}
    first = api.post(f"/reservations/{made['id']}/payment", headers=headers)
    again = api.post(f"/reservations/{made['id']}/payment", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    other = api.reserve(session_id, ["D2"]).json()
    reused = api.post(f"/reservations/{other['id']}/payment", headers=headers)
    assert (reused.status_code, error_code(reused)) == (422, "idempotency_key_reused")
