"""Sell-out by best available: the sell-out's room and buyers, but nobody picks a seat.

Each buyer asks for "n seats, as good as you have": mostly 1–4 standard or premium seats, now
and then a couple seat or two, or a wheelchair space, in proportion to the room's seats. Asked
together first; refused for want of a block (409 ``not_enough_seats`` with enough seats left),
the buyer asks for them apart; with fewer left than asked, for what is left; with none, for
another kind. It pays when it wins, until the shared count of sold seats says sold out.

Besides the figures of the hand-picked sell-out, it counts **false refusals**: a request for
seats apart refused while the answer itself says enough suitable seats were available. The
invariant check fails unless there are none.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import attrs
import orjson

from ..admin import Admin
from ..api import User, token
from ..generator import Context, Outcome
from ..invariant import Check, check_session, sales_of
from ..options import Options
from ..results import Figure, ScenarioResult, merge
from . import sellout

RESERVE = "POST /reservations (best available)"
# What a buyer may ask for; None is "standard or premium", the API's default.
KINDS: tuple[str | None, ...] = (None, "couple", "accessible")


@attrs.frozen
class Plan:
    room: sellout.Plan
    # Seats for sale of each kind a buyer may ask for.
    kinds: dict[str | None, int]


async def prepare(admin: Admin, options: Options) -> Plan:
    room = await sellout.prepare(admin, options)
    seat_map = await admin.seat_map(room.session_id)
    counts: Counter[str | None] = Counter()
    for seat in seat_map["seats"]:
        if seat["status"] == "available":
            kind = seat["category"] if seat["category"] in KINDS else None
            counts[kind] += 1
    return Plan(room, dict(counts))


def buyer_name(index: int) -> str:
    return f"best-{index}"


def _wish(rng: random.Random, kind: str | None) -> int:
    if kind == "couple":
        return 2 * rng.randint(1, 2)
    if kind == "accessible":
        return rng.randint(1, 2)
    return rng.randint(1, 4)


async def drive(context: Context) -> dict[str, Any]:
    plan: Plan = context.part.plan
    room = plan.room
    part, parts = context.part.index, context.part.parts
    seat_count = sum(plan.kinds.values())
    samples, pool, sold = context.samples, context.pool, context.shared
    sales: list[dict[str, Any]] = []
    attempts = false_refusals = 0
    sold_out_at = 0.0
    deadline = context.started + room.timeout

    async def buyer(index: int) -> None:
        nonlocal attempts, false_refusals, sold_out_at
        user = User(buyer_name(index), token(room.secret, buyer_name(index)))
        rng = random.Random(room.seed * 100_019 + index)
        exhausted: set[str | None] = set()
        while sold.value < seat_count and time.perf_counter() < deadline:
            kinds = [kind for kind in plan.kinds if kind not in exhausted and plan.kinds[kind]]
            if not kinds:
                # Nothing left to be had but seats held by buyers about to pay: wait and see.
                exhausted.clear()
                await asyncio.sleep(0.05)
                continue
            kind = rng.choices(kinds, weights=[plan.kinds[k] for k in kinds])[0]
            count, together = _wish(rng, kind), True
            while True:
                wish: dict[str, Any] = {"session_id": room.session_id, "count": count}
                if kind is not None:
                    wish["category"] = kind
                if not together:
                    wish["together"] = False
                try:
                    status, body, ns = await pool.request(user.post_json("/reservations", wish))
                except ConnectionError:
                    samples.failed(RESERVE)
                    await asyncio.sleep(0.01)
                    status = 0
                    break
                attempts += 1
                samples.add(RESERVE, status, ns)
                if status != 409:
                    break
                available = orjson.loads(body)["error"]["details"].get("available", 0)
                if not together and available >= count:
                    false_refusals += 1
                if together and available >= count:
                    together = False
                    continue
                fewer = available - available % (2 if kind == "couple" else 1)
                if 0 < fewer < count:
                    count = fewer
                    continue
                exhausted.add(kind)
                break
            if status != 201:
                continue
            exhausted.clear()
            sale = await sellout.pay(pool, user, orjson.loads(body)["id"], samples)
            if sale is None:
                continue
            sales.append(sale)
            with sold.get_lock():
                sold.value += len(sale["seats"])
                if sold.value >= seat_count:
                    sold_out_at = time.perf_counter()

    await asyncio.gather(*(buyer(i) for i in range(part, room.buyers, parts)))
    return {
        "sales": sales,
        "attempts": attempts,
        "false_refusals": false_refusals,
        "sold_out_at": sold_out_at,
    }


async def conclude(admin: Admin, plan: Plan, outcomes: list[Outcome]) -> ScenarioResult:
    room = plan.room
    samples, seconds = merge(outcomes)
    started = min(outcome.started for outcome in outcomes)
    sold_out_at = max(outcome.data["sold_out_at"] for outcome in outcomes)
    attempts = sum(outcome.data["attempts"] for outcome in outcomes)
    false_refusals = sum(outcome.data["false_refusals"] for outcome in outcomes)
    recorded = [sale for outcome in outcomes for sale in outcome.data["sales"]]
    result = ScenarioResult("sell-out, best available", samples=samples, seconds=seconds)
    check = Check("sell-out, best available")
    check.expect(
        sold_out_at > 0,
        f"sold out after {attempts} attempts",
        f"not sold out within {room.timeout:.0f} s",
    )
    check.expect(
        false_refusals == 0,
        "no false refusal",
        f"{false_refusals} requests refused while enough suitable seats were available",
    )
    to_sell_out = (sold_out_at or time.perf_counter()) - started
    seat_map = await admin.seat_map(room.session_id)
    purchases = await admin.purchases_of([buyer_name(i) for i in range(room.buyers)])
    check_session(
        check,
        seat_map,
        sales_of(room.session_id, purchases),
        recorded,
        room.prices,
        sold_out=True,
    )
    result.check = check
    seats = sum(plan.kinds.values())
    result.figures = [
        Figure("time to sell out", to_sell_out, "s"),
        Figure("reservation attempts/s", attempts / to_sell_out, "/s", rate=True),
        Figure("seats sold/s", seats / to_sell_out, "/s", rate=True),
        Figure("p99 latency, all routes", samples.overall().p99, "ms"),
    ]
    result.notes.append(
        f"{room.buyers} buyers asking for the best seats of the sell-out's room ({seats} seats), "
        f"{attempts} reservation attempts, {len(recorded)} sales, "
        f"{false_refusals} false refusals"
    )
    return result
