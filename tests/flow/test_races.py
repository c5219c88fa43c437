"""Races through HTTP: real clients on real threads, released together by a barrier.

The invariant: a seat is never sold twice and never held by two pending reservations at once.
The one-seat race and the concurrent payments each have a control run with the guards switched
off (a store that does not serialize its units of work and pauses between check and write, and
a seat lock that grants everything): the same requests, driven the same way, then really do
break the invariant, so the guarded runs passing means the guards work, not that the race
never happened.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import attrs
import httpx

from cinema_core import SeatLabel
from cinema_core.memory import InMemoryReservationRepo
from cinema_core.ports import Transaction
from entrypoints.bootstrap import Services
from tests.concurrency import run_together
from tests.contract.test_repo_port import NoSeatLock
from tests.flow.conftest import LiveServer

T = TypeVar("T")
QUICK = 2.0  # seconds: no request of a race may wait longer (a deadlock would)


class _Unlocked:
    """A lock that locks nothing."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _SlowSeats:
    """A transaction that pauses after reading seats and after adding a sale and its tickets:
    widens the window between check and write, as a busy database would."""

    def __init__(self, tx: Transaction, pause: float):
        self._tx = tx
        self._pause = pause

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> Any:
        seats = self._tx.lock_seats(session_id, labels)
        time.sleep(self._pause)
        return seats

    def lock_session_and_seats(self, session: Any, labels: Any, **how: Any) -> Any:
        found = self._tx.lock_session_and_seats(session, labels, **how)
        time.sleep(self._pause)
        return found

    def add_sale(self, sale: Any) -> None:
        # The in-memory store's own one-sale-per-seat check is only atomic under its lock.
        self._tx.add_sale(sale)
        time.sleep(self._pause)

    def add_tickets(self, tickets: Any) -> None:
        # So is its one-live-ticket-per-seat check, which a sale's tickets meet next.
        self._tx.add_tickets(tickets)
        time.sleep(self._pause)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class UnguardedRepo(InMemoryReservationRepo):
    """The in-memory store with its transaction lock switched off (the control run's store)."""

    def __init__(self, pause: float = 0.2):
        super().__init__()
        self._lock = _Unlocked()  # type: ignore[assignment]
        self._pause = pause

    def atomic(self, work: Callable[[Any], T]) -> T:
        return super().atomic(lambda tx: work(_SlowSeats(tx, self._pause)))


def without_guards(services: Services) -> None:
    repo = UnguardedRepo()
    services.box = attrs.evolve(services.box, repo=repo, seat_lock=NoSeatLock())
    services.relay.repo = repo


@contextmanager
def connected(server: LiveServer, users: Sequence[str]) -> Iterator[list[httpx.Client]]:
    """A client per user, connected beforehand: the barrier then releases requests, not
    handshakes."""
    clients = [server.client(user) for user in users]
    try:
        for client in clients:
            client.get("/health")
        yield clients
    finally:
        for client in clients:
            client.close()


def race_on(
    clients: Sequence[httpx.Client],
    request: Callable[[httpx.Client, int], httpx.Response],
    quick: float = QUICK,
) -> list[httpx.Response]:
    """Each client's request at the same instant; each must be done within ``quick`` seconds."""

    def timed(i: int) -> httpx.Response:
        started = time.monotonic()
        answer = request(clients[i], i)
        elapsed = time.monotonic() - started
        assert elapsed < quick, f"a request took {elapsed:.2f} s"
        return answer

    results = run_together(len(clients), timed)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def race(
    server: LiveServer,
    users: Sequence[str],
    request: Callable[[httpx.Client, int], httpx.Response],
) -> list[httpx.Response]:
    """Each user's request at the same instant, through fresh connected clients."""
    with connected(server, users) as clients:
        return race_on(clients, request)


def reserve(session_id: str, seats: list[str], **headers: str) -> Callable[..., httpx.Response]:
    def request(client: httpx.Client, i: int) -> httpx.Response:
        return client.post(
            "/reservations", json={"session_id": session_id, "seats": seats}, headers=headers
        )

    return request


def codes(answers: Sequence[httpx.Response]) -> Counter[int]:
    return Counter(answer.status_code for answer in answers)


def users(count: int) -> list[str]:
    return [f"user-{i}" for i in range(count)]


# -- one seat, many buyers -------------------------------------------------------------------


def test_control_without_guards_one_seat_is_held_twice(serve: Callable[..., LiveServer]) -> None:
    """Control: with neither guard, 25 buyers of one seat get more than one hold of it."""
    server = serve(prepare=without_guards, run_worker=False)
    session_id = server.new_session()
    answers = race(server, users(25), reserve(session_id, ["A1"]))
    assert codes(answers)[201] > 1


def test_25_buyers_of_one_seat_make_exactly_one_hold(serve: Callable[..., LiveServer]) -> None:
    """25 users on one seat: exactly one 201, 24 × 409 seats_unavailable naming it."""
    server = serve()
    session_id = server.new_session()
    answers = race(server, users(25), reserve(session_id, ["A1"]))
    assert codes(answers) == {201: 1, 409: 24}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "seats_unavailable"
            assert answer.json()["error"]["details"]["seats"] == ["A1"]
    assert server.seat_statuses(session_id)["A1"] == "held"


def test_10_buyers_split_over_two_seats_make_one_hold_per_seat(
    serve: Callable[..., LiveServer],
) -> None:
    """10 users, half asking for A1 and half for A2: exactly 2 winners, one per seat.

    (Each asks for one seat, so exactly two claims can succeed; a user asking for both would
    make the count depend on who came first.)"""
    server = serve()
    session_id = server.new_session()
    wanted = ["A1" if i % 2 == 0 else "A2" for i in range(10)]

    def request(client: httpx.Client, i: int) -> httpx.Response:
        return reserve(session_id, [wanted[i]])(client, i)

    answers = race(server, users(10), request)
    assert codes(answers) == {201: 2, 409: 8}
    won = sorted(answer.json()["seats"][0] for answer in answers if answer.status_code == 201)
    assert won == ["A1", "A2"]


def test_crossed_claims_have_one_winner_and_never_deadlock(
    serve: Callable[..., LiveServer],
) -> None:
    """[X1, X3] against [X3, X1], 50 rounds (fresh seats each): exactly one winner each round,
    and every answer comes quickly."""
    server = serve()
    session_id = server.new_session(rows=25, seats_per_row=4)
    with connected(server, ["left", "right"]) as clients:
        for round_ in range(50):
            row, first = "ABCDEFGHIJKLMNOPQRSTUVWXY"[round_ // 2], 1 + round_ % 2
            pair = [f"{row}{first}", f"{row}{first + 2}"]
            orders = (pair, pair[::-1])

            def request(client: httpx.Client, i: int, orders: Any = orders) -> httpx.Response:
                return reserve(session_id, orders[i])(client, i)

            answers = race_on(clients, request)
            assert codes(answers) == {201: 1, 409: 1}, f"round {round_}"


# -- a whole room ----------------------------------------------------------------------------


def test_100_buyers_over_16_seats_sell_each_seat_exactly_once(
    serve: Callable[..., LiveServer],
) -> None:
    """100 users at once, user i after seat i mod 16 (6 or 7 rivals per seat), each winner
    paying at once: exactly one winner per seat, so exactly 16 seats sold, none twice."""
    server = serve()
    session_id = server.new_session()
    labels = [f"{row}{n}" for row in "ABCD" for n in range(1, 5)]

    def buyer(client: httpx.Client, i: int) -> httpx.Response:
        held = reserve(session_id, [labels[i % 16]])(client, i)
        if held.status_code != 201:
            return held
        return client.post(f"/reservations/{held.json()['id']}/payment")

    answers = race(server, users(100), buyer)
    sales = [answer.json() for answer in answers if answer.status_code == 201]
    assert codes(answers) == {201: 16, 409: 84}
    sold = sorted(label for sale in sales for label in sale["seats"])
    assert sold == sorted(labels)
    assert set(server.seat_statuses(session_id).values()) == {"sold"}
    for sale in sales:
        with server.client(sale["user_id"]) as client:
            purchases = client.get(f"/users/{sale['user_id']}/purchases").json()["items"]
        assert [p["id"] for p in purchases] == [sale["id"]]


# -- the same request twice ------------------------------------------------------------------


def test_one_idempotency_key_makes_one_reservation(serve: Callable[..., LiveServer]) -> None:
    """10 concurrent copies of one request with one Idempotency-Key: one reservation, and
    every copy answers 201 with the very same body."""
    server = serve()
    session_id = server.new_session()
    request = reserve(session_id, ["B1", "B2"], **{"Idempotency-Key": "key-1"})
    answers = race(server, ["same-user"] * 10, request)
    assert codes(answers) == {201: 10}
    assert len({answer.content for answer in answers}) == 1
    reservation_id = answers[0].json()["id"]
    deadline = time.monotonic() + 2
    while not (created := server.events(session_id, "reservation.created")):
        assert time.monotonic() < deadline, "reservation.created was not published"
        time.sleep(0.05)
    time.sleep(0.3)  # give a (wrong) second event time to show up
    created = server.events(session_id, "reservation.created")
    assert [event["data"]["reservation_id"] for event in created] == [reservation_id]


def pay_ten_times_at_once(server: LiveServer) -> list[httpx.Response]:
    session_id = server.new_session()
    with server.client("payer") as client:
        reservation = client.post(
            "/reservations", json={"session_id": session_id, "seats": ["C1", "C2"]}
        ).json()

    def pay(client: httpx.Client, i: int) -> httpx.Response:
        return client.post(f"/reservations/{reservation['id']}/payment")

    return race(server, ["payer"] * 10, pay)


def test_control_without_guards_a_reservation_is_paid_twice(
    serve: Callable[..., LiveServer],
) -> None:
    """Control: with the store not serializing, concurrent payments make several sales."""
    server = serve(prepare=without_guards, run_worker=False)
    answers = pay_ten_times_at_once(server)
    assert codes(answers)[201] > 1, codes(answers)


def test_concurrent_payments_make_one_sale(serve: Callable[..., LiveServer]) -> None:
    """10 payments of one reservation at once: one 201, nine 200, all with the same sale."""
    server = serve()
    answers = pay_ten_times_at_once(server)
    assert codes(answers) == {201: 1, 200: 9}
    assert len({answer.json()["id"] for answer in answers}) == 1
    with server.client("payer") as client:
        purchases = client.get("/users/payer/purchases").json()["items"]
    assert [sale["id"] for sale in purchases] == [answers[0].json()["id"]]


# -- payment against the clock ---------------------------------------------------------------


def test_payment_at_expires_at_is_all_or_nothing(serve: Callable[..., LiveServer]) -> None:
    """Payments fired around expires_at (the sweeper running too): each is either 201 with its
    seats sold or 410 with its seats free, never a mix."""
    server = serve(hold_seconds=0.5)
    session_id = server.new_session()
    pairs = [["A1", "A2"], ["A3", "A4"], ["B1", "B2"], ["B3", "B4"]]
    pairs += [["C1", "C2"], ["C3", "C4"], ["D1", "D2"], ["D3", "D4"]]
    buyers = [f"late-{i}" for i in range(len(pairs))]
    reservations = []
    for buyer, seats in zip(buyers, pairs, strict=True):
        with server.client(buyer) as client:
            answer = client.post("/reservations", json={"session_id": session_id, "seats": seats})
        assert answer.status_code == 201
        reservations.append(answer.json())

    def pay_at_expiry(client: httpx.Client, i: int) -> httpx.Response:
        expires_at = datetime.fromisoformat(reservations[i]["expires_at"])
        offset = (i - len(pairs) / 2) * 0.004  # from 16 ms before to 12 ms after expires_at
        time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds() + offset))
        return client.post(f"/reservations/{reservations[i]['id']}/payment")

    answers = race(server, buyers, pay_at_expiry)
    seats = server.seat_statuses(session_id)
    for seats_of, answer in zip(pairs, answers, strict=True):
        assert answer.status_code in (201, 410), answer.text
        if answer.status_code == 201:
            assert [seats[label] for label in seats_of] == ["sold", "sold"]
        else:
            assert answer.json()["error"]["code"] == "reservation_expired"
            assert [seats[label] for label in seats_of] == ["available", "available"]
