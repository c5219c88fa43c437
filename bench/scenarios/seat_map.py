"""Seat map: buyers read a big session's seat map over and over while sales go on in it.

Most connections read ``GET /sessions/{id}/seats`` (with ``Accept-Encoding: gzip``, as browsers
send it); a few sell the session's seats (reserve → pay) at a steady pace chosen so the seats
last the whole run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import attrs
import orjson

from ..admin import Admin
from ..api import User, get, seat_labels, token
from ..generator import Context, Outcome
from ..invariant import Check, check_session, sales_of
from ..options import Options
from ..results import Figure, ScenarioResult, merge

READ = "GET /sessions/{id}/seats"
RESERVE = "POST /reservations"
PAY = "POST /reservations/{id}/payment"
SELLERS_PER_PART = 2
SEATS_PER_SALE = 2


@attrs.frozen
class Plan:
    session_id: str
    rows: int
    seats_per_row: int
    price: str
    seconds: float
    sales_per_second: float
    secret: str


async def prepare(admin: Admin, options: Options) -> Plan:
    rows, per_row = options.map_rows, options.map_seats_per_row
    session_id = await admin.create_session(rows, per_row, options.price, "Seat map")
    # Sell about 80 % of the seats over the run, at most 25 sales a second: the reads are what
    # is measured, the sales keep the map changing under them.
    pace = min(25.0, 0.8 * rows * per_row / SEATS_PER_SALE / options.duration)
    return Plan(session_id, rows, per_row, options.price, options.duration, pace, admin.secret)


def seller_name(index: int) -> str:
    return f"map-seller-{index}"


async def drive(context: Context) -> dict[str, Any]:
    plan: Plan = context.part.plan
    part, parts = context.part.index, context.part.parts
    samples, pool = context.samples, context.pool
    deadline = context.started + plan.seconds
    labels = seat_labels(plan.rows, plan.seats_per_row)
    # Each seller of each part sells its own stripe of pairs of seats: no contention.
    sellers = SELLERS_PER_PART * parts
    sales: list[dict[str, Any]] = []
    reads = 0
    # As the seat picker's fetch asks for it: gzip-coded when the server offers that.
    read = get(f"/sessions/{plan.session_id}/seats", gzip=True)

    async def reader() -> None:
        nonlocal reads
        while time.perf_counter() < deadline:
            try:
                status, _, ns = await pool.request(read)
            except ConnectionError:
                samples.failed(READ)
                continue
            samples.add(READ, status, ns)
            reads += status == 200

    async def seller(index: int) -> None:
        user = User(seller_name(index), token(plan.secret, seller_name(index)))
        pairs = [
            labels[at : at + SEATS_PER_SALE]
            for at in range(index * SEATS_PER_SALE, len(labels), sellers * SEATS_PER_SALE)
        ]
        interval = sellers / plan.sales_per_second
        next_at = time.perf_counter()
        for seats in pairs:
            next_at += interval
            if next_at >= deadline:
                return
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            status, body, ns = await pool.request(user.reserve(plan.session_id, seats))
            samples.add(RESERVE, status, ns)
            if status != 201:
                continue
            status, body, ns = await pool.request(user.pay(orjson.loads(body)["id"]))
            samples.add(PAY, status, ns)
            if status == 201:
                sales.append(orjson.loads(body))

    readers = max(1, context.part.connections - SELLERS_PER_PART)
    await asyncio.gather(
        *(reader() for _ in range(readers)),
        *(seller(part * SELLERS_PER_PART + i) for i in range(SELLERS_PER_PART)),
    )
    return {"sales": sales, "reads": reads}


async def conclude(admin: Admin, plan: Plan, outcomes: list[Outcome]) -> ScenarioResult:
    samples, seconds = merge(outcomes)
    reads = sum(outcome.data["reads"] for outcome in outcomes)
    recorded = [sale for outcome in outcomes for sale in outcome.data["sales"]]
    sellers = SELLERS_PER_PART * len(outcomes)
    check = Check("seat map")
    seat_map = await admin.seat_map(plan.session_id)
    purchases = await admin.purchases_of([seller_name(i) for i in range(sellers)])
    check_session(
        check, seat_map, sales_of(plan.session_id, purchases), recorded, {"standard": plan.price}
    )
    result = ScenarioResult("seat map", samples=samples, seconds=seconds, check=check)
    result.figures = [
        Figure("seat map reads/s", reads / seconds, "/s", "map_rate", rate=True),
        Figure("seat map p99", samples.summary(READ).p99, "ms", "map_p99"),
    ]
    result.notes.append(
        f"{plan.rows * plan.seats_per_row}-seat map; {len(recorded)} sales "
        f"({len(recorded) / seconds:.0f}/s) during the reads"
    )
    return result
