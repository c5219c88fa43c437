"""Choosing seats raced through HTTP in memory: real clients on real threads, released together.

Best available's "no false refusal" (8 pairs in a 4 × 4 room; 200 buyers selling out 2,600
seats) and the single-seat rule, each with a control run that switches its guard off. The
guarded and control runs hold the same race windows open (``Pausing``), so they differ only in
the guard.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from entrypoints.bootstrap import Services
from tests.contract.test_repo_port import NoSeatLock
from tests.contract.test_repo_port_choosing import WINDOW, Pausing
from tests.flow.conftest import LiveServer
from tests.flow.test_races import UnguardedRepo, codes, race, reserve, users
from tests.unguarded_choosing import without_gap_rows, without_retry


def windows_open(*, retry: bool = True) -> Callable[[Services], None]:
    """Buyers choose from one view (each read of the seats pauses) and the seat lock lets them
    all through to the store; ``retry=False`` is the control run's naive box office."""

    def prepare(services: Services) -> None:
        box = services.box
        box = attrs.evolve(box, repo=Pausing(box.repo, after_view=WINDOW), seat_lock=NoSeatLock())
        services.box = box if retry else without_retry(box)

    return prepare


def best(session_id: str, count: int, **wish: Any) -> Callable[..., httpx.Response]:
    def request(client: httpx.Client, i: int) -> httpx.Response:
        return client.post("/reservations", json={"session_id": session_id, "count": count, **wish})

    return request


def test_control_without_retry_best_available_buyers_refuse_each_other(
    serve: Callable[..., LiveServer],
) -> None:
    """CONTROL: 8 pairs at once, each trying only its first choice: they collide on the same
    best seats and some are refused while most of the room is free."""
    server = serve(prepare=windows_open(retry=False), run_worker=False)
    session_id = server.new_session()
    answers = race(server, users(8), best(session_id, 2))
    refused = [a for a in answers if a.status_code == 409]
    assert refused, codes(answers)
    assert {a.json()["error"]["code"] for a in refused} == {"not_enough_seats"}
    free = Counter(server.seat_statuses(session_id).values())["available"]
    assert free >= 2 * len(refused)


def test_eight_pairs_at_once_fill_a_four_by_four_room(serve: Callable[..., LiveServer]) -> None:
    """8 concurrent requests for 2 together in a free 4 × 4 room: 8 × 201, 16 distinct seats;
    a 9th: 409 not_enough_seats with nothing available."""
    server = serve(prepare=windows_open(), run_worker=False)
    session_id = server.new_session()
    answers = race(server, users(8), best(session_id, 2))
    assert codes(answers) == {201: 8}, [a.text for a in answers]
    assert len({seat for a in answers for seat in a.json()["seats"]}) == 16
    with server.client("ninth") as client:
        ninth = best(session_id, 2)(client, 0)
    assert (ninth.status_code, ninth.json()["error"]["details"]) == (409, {"available": 0})


def gap_session(server: LiveServer) -> str:
    """A session of 4 rows of 5 seats that forbids single gaps."""
    return server.new_session(4, 5, starts_at="2030-12-01T19:00:00Z", forbid_single_gaps=True)


def ends_of_rows(server: LiveServer, session_id: str) -> list[list[httpx.Response]]:
    """In each row, [X1, X2] and [X4, X5] at once: together they would strand X3."""
    rounds = []
    for row in "ABCD":
        pairs = ([f"{row}1", f"{row}2"], [f"{row}4", f"{row}5"])

        def request(client: httpx.Client, i: int, pairs: Any = pairs) -> httpx.Response:
            return reserve(session_id, pairs[i])(client, i)

        rounds.append(race(server, users(2), request))
    return rounds


def test_control_without_row_locks_two_holds_strand_a_seat(
    serve: Callable[..., LiveServer],
) -> None:
    """CONTROL: the store not serializing and the rule judged on rows read before locking:
    both holds win in every row and X3 is left alone."""

    def prepare(services: Services) -> None:
        repo = UnguardedRepo(pause=WINDOW)
        services.box = without_gap_rows(
            attrs.evolve(services.box, repo=repo, seat_lock=NoSeatLock())
        )
        services.relay.repo = repo

    server = serve(prepare=prepare, run_worker=False)
    session_id = gap_session(server)
    for answers in ends_of_rows(server, session_id):
        assert codes(answers) == {201: 2}, [a.text for a in answers]
    statuses = server.seat_statuses(session_id)
    assert [statuses[f"{row}3"] for row in "ABCD"] == ["available"] * 4


def test_two_holds_cannot_strand_a_seat_together(serve: Callable[..., LiveServer]) -> None:
    """With the rule judged on the rows at commit: one hold wins each row, the other gets
    single_seat_gap naming X3."""

    def prepare(services: Services) -> None:
        box = services.box
        services.box = attrs.evolve(
            box, repo=Pausing(box.repo, after_lock=WINDOW), seat_lock=NoSeatLock()
        )

    server = serve(prepare=prepare, run_worker=False)
    session_id = gap_session(server)
    for row, answers in zip("ABCD", ends_of_rows(server, session_id), strict=True):
        assert codes(answers) == {201: 1, 409: 1}
        (gap,) = [a.json()["error"] for a in answers if a.status_code == 409]
        assert (gap["code"], gap["details"]["seats"]) == ("single_seat_gap", [f"{row}3"])


def test_200_best_available_buyers_sell_out_2600_seats(serve: Callable[..., LiveServer]) -> None:
    """200 buyers at once asking for 1–4 seats (together, or apart once no block is left)
    and paying sell out a 26 × 100 room in memory: no seat twice, no refusal while the buyer
    saw enough seats."""
    server = serve(run_worker=False)
    session_id = server.new_session(26, 100)
    seat_count = 2600
    lock = threading.Lock()
    sold = [0]
    seen: Counter[str] = Counter()
    labels: list[str] = []

    def buyer(i: int) -> None:
        rng = random.Random(i)
        with server.client(f"b{i}", timeout=60) as client:
            while sold[0] < seat_count:
                count, wish = rng.randint(1, 4), {}
                answer = best(session_id, count)(client, i)
                if answer.status_code == 409:
                    available = answer.json()["error"]["details"]["available"]
                    wish = {"together": False}
                    if available >= count:
                        answer = best(session_id, count, **wish)(client, i)
                        refused = answer.json()["error"] if answer.status_code == 409 else None
                        # Seats taken meanwhile are no false refusal: one seen free now is.
                        if refused and refused["details"]["available"] >= count:
                            with lock:
                                seen["false refusal"] += 1
                    elif available:
                        answer = best(session_id, available, **wish)(client, i)
                if answer.status_code != 201:
                    time.sleep(0.05)  # what is left is held by buyers about to pay
                    continue
                paid = client.post(f"/reservations/{answer.json()['id']}/payment")
                with lock:
                    seen[f"paid {paid.status_code}"] += 1
                    if paid.status_code == 201:
                        labels.extend(paid.json()["seats"])
                        sold[0] += len(paid.json()["seats"])

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(100)
    assert sold[0] == seat_count, dict(seen)
    assert seen["false refusal"] == 0
    assert len(labels) == len(set(labels)) == seat_count
    assert set(server.seat_statuses(session_id).values()) == {"sold"}
