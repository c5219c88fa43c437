"""Holds lapsing in real time, through HTTP: free at once, announced once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.flow.conftest import LiveServer

HOLD = 0.5


def sleep_until(instant: datetime, after: float = 0.0) -> None:
    time.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds() + after))


def hold(server: LiveServer, session_id: str, user: str, seats: list[str]) -> dict[str, Any]:
    with server.client(user) as client:
        answer = client.post("/reservations", json={"session_id": session_id, "seats": seats})
    assert answer.status_code == 201, answer.text
    reservation: dict[str, Any] = answer.json()
    return reservation


def test_lapsed_hold_reads_available_at_expires_at_without_any_job(
    serve: Callable[..., LiveServer],
) -> None:
    """No worker runs, yet at expires_at the seats read available, the reservation expired,
    and payment is refused with 410."""
    server = serve(hold_seconds=HOLD, run_worker=False)
    session_id = server.new_session()
    reservation = hold(server, session_id, "u1", ["A1", "A2"])
    seats = server.seat_statuses(session_id)
    assert (seats["A1"], seats["A2"]) == ("held", "held")
    sleep_until(datetime.fromisoformat(reservation["expires_at"]), after=0.005)
    seats = server.seat_statuses(session_id)
    assert (seats["A1"], seats["A2"]) == ("available", "available")
    with server.client("u1") as client:
        assert client.get(f"/sessions/{session_id}").json()["available"] == 16
        assert client.get(f"/reservations/{reservation['id']}").json()["status"] == "expired"
        refused = client.post(f"/reservations/{reservation['id']}/payment")
    assert refused.status_code == 410
    assert refused.json()["error"]["code"] == "reservation_expired"
    hold(server, session_id, "u2", ["A2", "A3"])  # and anyone may take them at once


def test_worker_announces_each_lapse_once_within_a_second(
    serve: Callable[..., LiveServer],
) -> None:
    """With the worker running, each lapsed reservation shows exactly one reservation.expired
    and one seat.released in GET /admin/events, within 1 s of expires_at."""
    server = serve(hold_seconds=HOLD)
    session_id = server.new_session()
    reservations = [
        hold(server, session_id, "u1", ["A1", "A2"]),
        hold(server, session_id, "u2", ["B1"]),
    ]
    ids = {r["id"] for r in reservations}
    last = max(datetime.fromisoformat(r["expires_at"]) for r in reservations)
    sleep_until(last)

    def announced() -> tuple[list[str], list[str]]:
        expired = [
            e["data"]["reservation_id"] for e in server.events(session_id, "reservation.expired")
        ]
        released = [e["data"]["reservation_id"] for e in server.events(session_id, "seat.released")]
        return expired, released

    while set(announced()[0]) != ids or set(announced()[1]) != ids:
        assert datetime.now(UTC) < last + timedelta(seconds=1), f"not announced: {announced()}"
        time.sleep(0.05)
    time.sleep(0.5)  # a second (wrong) announcement would show up by now
    expired, released = announced()
    assert sorted(expired) == sorted(released) == sorted(ids)
    for event in server.events(session_id, "seat.released"):
        assert event["data"]["reason"] == "expired"
    seats = server.seat_statuses(session_id)
    assert {seats["A1"], seats["A2"], seats["B1"]} == {"available"}
