"""Race: a crowd of buyers fire at one seat at the same instant, round after round.

Each buyer has its own connection, so the requests of a round leave together; exactly one may
win each round, and it pays.
"""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import orjson

from ..admin import Admin
from ..api import User, seat_labels, token
from ..generator import Context, Outcome
from ..invariant import Check, check_session, sales_of
from ..options import Options
from ..results import Figure, ScenarioResult, merge

RESERVE = "POST /reservations"
PAY = "POST /reservations/{id}/payment"
ROW = 10


@attrs.frozen
class Plan:
    session_id: str
    rows: int
    buyers: int
    rounds: int
    price: str
    secret: str


async def prepare(admin: Admin, options: Options) -> Plan:
    # One seat per round; a session has at least 16 seats.
    rows = max(2, -(-options.race_rounds // ROW))
    session_id = await admin.create_session(rows, ROW, options.price, "Race")
    return Plan(
        session_id, rows, options.race_buyers, options.race_rounds, options.price, admin.secret
    )


def buyer_name(index: int) -> str:
    return f"race-{index}"


async def drive(context: Context) -> dict[str, Any]:
    plan: Plan = context.part.plan
    samples, pool = context.samples, context.pool
    buyers = [User(buyer_name(i), token(plan.secret, buyer_name(i))) for i in range(plan.buyers)]
    labels = seat_labels(plan.rows, ROW)
    winners: list[int] = []
    sales: list[dict[str, Any]] = []
    race_ns: list[int] = []
    for seat in labels[: plan.rounds]:
        # Built before the round so the requests leave back to back.
        requests = [buyer.reserve(plan.session_id, [seat]) for buyer in buyers]
        answers = await asyncio.gather(
            *(pool.request(raw) for raw in requests), return_exceptions=True
        )
        won: list[tuple[User, str]] = []
        for buyer, answer in zip(buyers, answers, strict=True):
            if isinstance(answer, BaseException):
                samples.failed(RESERVE)
                continue
            status, body, ns = answer
            samples.add(RESERVE, status, ns)
            race_ns.append(ns)
            if status == 201:
                won.append((buyer, orjson.loads(body)["id"]))
        winners.append(len(won))
        for buyer, reservation in won:
            status, body, ns = await pool.request(buyer.pay(reservation))
            samples.add(PAY, status, ns)
            if status == 201:
                sales.append(orjson.loads(body))
    return {"winners": winners, "sales": sales, "race_ns": race_ns}


async def conclude(admin: Admin, plan: Plan, outcomes: list[Outcome]) -> ScenarioResult:
    from ..samples import Percentiles

    samples, seconds = merge(outcomes)
    winners = [n for outcome in outcomes for n in outcome.data["winners"]]
    recorded = [sale for outcome in outcomes for sale in outcome.data["sales"]]
    check = Check("race")
    not_one = [(round, n) for round, n in enumerate(winners) if n != 1]
    check.expect(
        not not_one and len(winners) == plan.rounds,
        f"exactly one winner in each of {len(winners)} rounds",
        f"rounds without exactly one winner (round, winners): {not_one[:10]}",
    )
    seat_map = await admin.seat_map(plan.session_id)
    purchases = await admin.purchases_of([buyer_name(i) for i in range(plan.buyers)])
    check_session(
        check, seat_map, sales_of(plan.session_id, purchases), recorded, {"standard": plan.price}
    )
    check.expect(
        seat_map["sold"] == plan.rounds,
        f"{plan.rounds} seats sold, one per round",
        f"{seat_map['sold']} seats sold after {plan.rounds} rounds",
    )
    race = Percentiles.of([ns for outcome in outcomes for ns in outcome.data["race_ns"]])
    result = ScenarioResult("race", samples=samples, seconds=seconds, check=check)
    result.figures = [
        Figure("reserve p50 under a race", race.p50, "ms"),
        Figure("reserve p95 under a race", race.p95, "ms", "race_p95"),
        Figure("reserve max under a race", race.max, "ms"),
    ]
    result.notes.append(f"{plan.buyers} buyers × {plan.rounds} rounds, one seat each round")
    return result
