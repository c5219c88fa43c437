"""Sell-out: many buyers, one session in a room like a real one, until every seat is sold.

The room has a centre aisle, premium rows, couple seats at the back, wheelchair spaces in front
and a broken seat, each category at its own price. Each buyer knows only what it was told: it
starts believing every seat free, picks 1–4 places at random among those it believes free (a
couple seat is one place of two seats), reserves them, pays when it wins, and forgets the seats
a 409 names. It stops when the shared count of sold seats says the session is sold out.

``sellout1`` is the same with exactly one place per attempt (``prepare(..., most=1)``): a
single seat, or a whole couple seat.
"""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from typing import Any
from uuid import uuid4

import attrs
import orjson

from ..admin import Admin
from ..api import User, token
from ..generator import Context, Outcome
from ..invariant import Check, check_session, sales_of
from ..options import Options
from ..results import Figure, ScenarioResult, merge

RESERVE = "POST /reservations"
MAX_CELLS = 100
PAY = "POST /reservations/{id}/payment"


@attrs.frozen
class Plan:
    session_id: str
    rows: int
    seats_per_row: int
    # Each place a buyer can pick: one seat, or the two seats of a couple seat.
    places: tuple[tuple[str, ...], ...]
    prices: dict[str, str]
    buyers: int
    secret: str
    timeout: float
    seed: int
    # The most places one attempt picks (at random from 1 to this).
    most: int = 4

    @property
    def name(self) -> str:
        return "sell-out" if self.most == 4 else f"sell-out {self.most}"


def theatre(rows: int, seats_per_row: int) -> list[str]:
    """A layout of ``rows`` rows of ``seats_per_row`` seats split by a centre aisle (none at
    100 seats a row: a row has at most 100 cells): the front row's ends are wheelchair spaces,
    the middle third premium, the back row's ends couple seats, and one seat of the second row
    broken."""
    left = seats_per_row // 2
    layout = []
    for row in range(rows):
        cells = ["s"] * seats_per_row
        if rows // 3 <= row < rows - rows // 3:
            cells = ["p"] * seats_per_row
        if row == 0:
            cells[0] = cells[-1] = "w"
        if row == rows - 1 and seats_per_row >= 8:
            cells[:2] = cells[-2:] = ["c", "c"]
        if row == 1:
            cells[left] = "x"
        aisle = "_" if seats_per_row < MAX_CELLS else ""
        layout.append("".join(cells[:left]) + aisle + "".join(cells[left:]))
    return layout


async def prepare(admin: Admin, options: Options, *, most: int = 4) -> Plan:
    price = Decimal(options.price)
    prices = {
        "standard": f"{price:.2f}",
        "premium": f"{price * 8 / 5:.2f}",
        "couple": f"{price * 6 / 5:.2f}",
        "accessible": f"{price:.2f}",
    }
    layout = theatre(options.rows, options.seats_per_row)
    room_id = await admin.create_room("Bench", f"Sell-out {uuid4()}", layout)
    session_id = await admin.create_session_in(room_id, prices, "Sell-out")
    seat_map = await admin.seat_map(session_id)
    places: list[tuple[str, ...]] = []
    for seat in seat_map["seats"]:
        if seat["status"] != "available":
            continue
        pair = seat.get("pair")
        if pair is None:
            places.append((seat["label"],))
        elif seat["number"] % 2:  # the left half names the couple seat
            places.append((seat["label"], pair))
    return Plan(
        session_id,
        options.rows,
        options.seats_per_row,
        tuple(places),
        prices,
        options.buyers,
        admin.secret,
        options.sellout_timeout,
        options.seed,
        most,
    )


async def pay(pool: Any, user: User, reservation_id: str, samples: Any) -> dict[str, Any] | None:
    """Pay for a hold, trying up to three times across lost connections; the sale, or None."""
    for _ in range(3):
        try:
            status, body, ns = await pool.request(user.pay(reservation_id))
        except ConnectionError:
            samples.failed(PAY)
            continue
        samples.add(PAY, status, ns)
        if status in (200, 201):
            sale: dict[str, Any] = orjson.loads(body)
            return sale
    return None


def buyer_name(index: int) -> str:
    return f"sellout-{index}"


class _Believed:
    """The places one buyer believes free: O(1) removal and random picks without copying."""

    def __init__(self, places: tuple[tuple[str, ...], ...]):
        self.free = list(places)
        self.at = {place: i for i, place in enumerate(self.free)}
        self.place_of = {label: place for place in places for label in place}

    def forget(self, label: str) -> None:
        i = self.at.pop(self.place_of.get(label, ()), None)
        if i is None:
            return
        last = self.free.pop()
        if i < len(self.free):
            self.free[i] = last
            self.at[last] = i


async def drive(context: Context) -> dict[str, Any]:
    plan: Plan = context.part.plan
    part, parts = context.part.index, context.part.parts
    seat_count = sum(len(place) for place in plan.places)
    samples, pool, sold = context.samples, context.pool, context.shared
    sales: list[dict[str, Any]] = []
    attempts = 0
    sold_out_at = 0.0
    deadline = context.started + plan.timeout
    path = plan.session_id

    async def buyer(index: int) -> None:
        nonlocal attempts, sold_out_at
        user = User(buyer_name(index), token(plan.secret, buyer_name(index)))
        rng = random.Random(plan.seed * 100_003 + index)
        believed = _Believed(plan.places)
        while believed.free and sold.value < seat_count and time.perf_counter() < deadline:
            places = rng.sample(believed.free, min(rng.randint(1, plan.most), len(believed.free)))
            pick = [label for place in places for label in place]
            try:
                status, body, ns = await pool.request(user.reserve(path, pick))
            except ConnectionError:
                samples.failed(RESERVE)
                await asyncio.sleep(0.01)  # the server may be gone: do not spin
                continue
            attempts += 1
            samples.add(RESERVE, status, ns)
            if status == 409:
                for label in orjson.loads(body)["error"]["details"].get("seats", pick):
                    believed.forget(label)
                continue
            if status != 201:
                await asyncio.sleep(0.01)
                continue
            sale = await pay(pool, user, orjson.loads(body)["id"], samples)
            if sale is None:
                continue
            sales.append(sale)
            for label in pick:
                believed.forget(label)
            with sold.get_lock():
                sold.value += len(sale["seats"])
                if sold.value >= seat_count:
                    sold_out_at = time.perf_counter()

    await asyncio.gather(*(buyer(i) for i in range(part, plan.buyers, parts)))
    return {"sales": sales, "attempts": attempts, "sold_out_at": sold_out_at}


async def conclude(admin: Admin, plan: Plan, outcomes: list[Outcome]) -> ScenarioResult:
    samples, seconds = merge(outcomes)
    started = min(outcome.started for outcome in outcomes)
    sold_out_at = max(outcome.data["sold_out_at"] for outcome in outcomes)
    attempts = sum(outcome.data["attempts"] for outcome in outcomes)
    recorded = [sale for outcome in outcomes for sale in outcome.data["sales"]]
    result = ScenarioResult(plan.name, samples=samples, seconds=seconds)
    check = Check(plan.name)
    check.expect(
        sold_out_at > 0,
        f"sold out after {attempts} attempts",
        f"not sold out within {plan.timeout:.0f} s",
    )
    to_sell_out = (sold_out_at or time.perf_counter()) - started
    seat_map = await admin.seat_map(plan.session_id)
    purchases = await admin.purchases_of([buyer_name(i) for i in range(plan.buyers)])
    check_session(
        check, seat_map, sales_of(plan.session_id, purchases), recorded, plan.prices, sold_out=True
    )
    result.check = check
    result.figures = [
        Figure("time to sell out", to_sell_out, "s"),
        Figure("reservation attempts/s", attempts / to_sell_out, "/s", "sellout_rate", rate=True),
        Figure("seats sold/s", seat_map["sold"] / to_sell_out, "/s", rate=True),
        Figure("p99 latency, all routes", samples.overall().p99, "ms", "sellout_p99"),
    ]
    result.notes.append(
        f"{plan.buyers} buyers on one {plan.rows}×{plan.seats_per_row} room with "
        f"{'an aisle, ' if plan.seats_per_row < MAX_CELLS else ''}"
        f"premium rows, couple seats and wheelchair spaces "
        f"({sum(len(place) for place in plan.places)} seats), "
        f"{attempts} reservation attempts of {_places(plan.most)} each, {len(recorded)} sales"
    )
    return result


def _places(most: int) -> str:
    return "one place (a seat or a couple seat)" if most == 1 else f"1–{most} places"
