"""Pay: steady's reserve → pay flows, with every sale taken through the sandbox Pix provider.

Each flow reserves the next 1–4 seats of its part's sessions (no contention, as in steady),
starts a payment (202, a pending Pix charge), has the buyer's bank approve it as an admin
(``POST /sandbox/payments/{id}/approve``: the sandbox tells the box office of the change, the
one path a webhook takes) and reads the sale the approval made (``GET /sales/{id}``). The
*payment step* is start → approved → sale visible, timed as a whole.

The sandbox keeps its charges in the memory of the process that made them, so a charge must be
approved by that same process: with ``cinema serve --workers 2`` an approval reaching the other
worker finds no charge (404). The scenario therefore plays on a stack of its own, one API
process with ``CINEMA_PAYMENT_PROVIDER=sandbox`` (started after the run's stack is torn down,
so the two never share the cores). Its CPU per paid sale reads against steady's, whose payment
sells at once (``instant``): the difference is what the payment step costs.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from typing import Any

import attrs
import orjson

from ..admin import Admin
from ..generator import Context, Outcome
from ..invariant import Check, check_session
from ..options import Options
from ..results import Figure, ScenarioResult, merge
from ..samples import Percentiles
from .steady import Plan, planned, share, user_name

RESERVE = "POST /reservations"
PAY = "POST /reservations/{id}/payment"
APPROVE = "POST /sandbox/payments/{id}/approve"
SALE = "GET /sales/{id}"
# A paid sale is four requests here against steady's two: fewer sessions are made beforehand.
PLANNED_FLOWS_PER_SECOND = {"postgres": 800, "memory": 1600}
# The stack's CPU kinds a paid sale is charged with (the generator's own CPU is the bench's).
SERVER_KINDS = ("API", "worker", "PostgreSQL", "RabbitMQ", "Redis")


def stack(options: Options) -> tuple[Options, dict[str, str], str]:
    """The stack this scenario plays on: the run's, with the sandbox taking the money, in one
    API process (the sandbox's charges live in the process that made them) and no
    ``cinema worker`` (whose reconciler would read charges its own sandbox never made)."""
    alone = attrs.evolve(options, workers=1, worker=False)
    note = (
        "played on a stack of its own: cinema serve --workers 1 with "
        "CINEMA_PAYMENT_PROVIDER=sandbox (the sandbox's charges live in one process)"
    )
    return alone, {"CINEMA_PAYMENT_PROVIDER": "sandbox"}, note


async def prepare(admin: Admin, options: Options) -> Plan:
    return await planned(admin, options, "pay", PLANNED_FLOWS_PER_SECOND[options.backend])


async def drive(context: Context) -> dict[str, Any]:
    plan: Plan = context.part.plan
    part = context.part.index
    samples, pool = context.samples, context.pool
    users, admin, supply = share(context)
    sales: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    steps: list[int] = []
    # Answers a flow did not expect, by step: the check names them.
    unexpected: Counter[str] = Counter()
    deadline = context.started + plan.seconds
    rng = random.Random(plan.seed * 7919 + part)

    async def send(route: str, raw: bytes) -> tuple[int, bytes] | None:
        try:
            status, body, ns = await pool.request(raw)
        except ConnectionError:
            samples.failed(route)
            await asyncio.sleep(0.01)  # the server may be gone: do not spin
            return None
        samples.add(route, status, ns)
        return status, body

    async def flow(worker: int) -> None:
        flow_rng = random.Random(rng.random() + worker)
        while time.perf_counter() < deadline:
            session_id, seats = await supply.claim(flow_rng.randint(1, 4))
            user = users[flow_rng.randrange(len(users))]
            answer = await send(RESERVE, user.reserve(session_id, seats))
            if answer is None or answer[0] != 201:
                continue
            reservation = orjson.loads(answer[1])["id"]
            started = time.perf_counter_ns()
            answer = await send(PAY, user.pay(reservation))
            if answer is None or answer[0] != 202:
                unexpected[f"{PAY} {answer[0] if answer else 0}"] += 1
                continue
            payment_id = orjson.loads(answer[1])["payment"]["id"]
            answer = await send(APPROVE, admin.post(f"/sandbox/payments/{payment_id}/approve"))
            if answer is None or answer[0] != 200:
                unexpected[f"{APPROVE} {answer[0] if answer else 0}"] += 1
                continue
            payment = orjson.loads(answer[1])
            payments.append(payment)
            if payment["status"] != "approved" or not payment.get("sale_id"):
                unexpected[f"approved as {payment['status']}"] += 1
                continue
            answer = await send(SALE, user.get(f"/sales/{payment['sale_id']}"))
            if answer is None or answer[0] != 200:
                unexpected[f"{SALE} {answer[0] if answer else 0}"] += 1
                continue
            steps.append(time.perf_counter_ns() - started)
            sales.append(orjson.loads(answer[1]))

    await asyncio.gather(*(flow(w) for w in range(context.part.connections)))
    return {
        "sales": sales,
        "payments": payments,
        "steps": steps,
        "unexpected": dict(unexpected),
        "sessions": supply.sessions,
    }


async def conclude(admin: Admin, plan: Plan, outcomes: list[Outcome]) -> ScenarioResult:
    samples, seconds = merge(outcomes)
    recorded = [sale for outcome in outcomes for sale in outcome.data["sales"]]
    approved = [p for outcome in outcomes for p in outcome.data["payments"]]
    steps = [ns for outcome in outcomes for ns in outcome.data["steps"]]
    unexpected: Counter[str] = Counter()
    for outcome in outcomes:
        unexpected.update(outcome.data["unexpected"])
    touched = [s for outcome in outcomes for s in outcome.data["sessions"]]
    purchases = await admin.purchases_of([user_name(plan, i) for i in range(plan.users)])
    every_sale = [sale for sales in purchases.values() for sale in sales]
    by_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sale in every_sale:
        by_session[sale["session_id"]].append(sale)
    told: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sale in recorded:
        told[sale["session_id"]].append(sale)
    check = Check(plan.name)
    for session_id in touched:
        seat_map = await admin.seat_map(session_id)
        check_session(
            check, seat_map, by_session[session_id], told[session_id], {"standard": plan.price}
        )
    if check.facts:
        check.facts = [f"{len(touched)} sessions: seat maps, sales and amounts agree"]
    stored = await asyncio.gather(
        *(admin.call(admin.user.get(f"/payments/{p['id']}")) for p in approved)
    )
    check_payments(check, stored, every_sale)
    check.require(not unexpected, f"unexpected answers: {dict(unexpected)}")
    step = Percentiles.of(steps)
    result = ScenarioResult(plan.name, samples=samples, seconds=seconds, check=check)
    result.paid = len(recorded)
    result.figures = [
        Figure("paid sales/s (through the sandbox)", len(recorded) / seconds, "/s", rate=True),
        Figure("p50 payment step (start → approved → sale)", step.p50, "ms"),
        Figure("p99 payment step (start → approved → sale)", step.p99, "ms"),
    ]
    result.notes.append(
        f"{len(recorded)} sales paid through the sandbox on {len(touched)} sessions "
        f"in {seconds:.1f} s"
    )
    return result


def check_payments(
    check: Check, payments: list[dict[str, Any]], sales: list[dict[str, Any]]
) -> None:
    """Every approved payment (as the API now reads it) has exactly one sale, of its
    reservation and of its amount; no sale of these buyers is without its payment."""
    by_reservation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sale in sales:
        by_reservation[sale["reservation_id"]].append(sale)
    wrong: list[str] = []
    for payment in payments:
        found = by_reservation.get(payment["reservation_id"], [])
        if payment["status"] != "approved":
            wrong.append(f"payment {payment['id'][:8]} is {payment['status']}")
        elif len(found) != 1:
            wrong.append(f"payment {payment['id'][:8]} has {len(found)} sales")
        elif found[0]["id"] != payment["sale_id"] or found[0]["amount"] != payment["amount"]:
            wrong.append(
                f"payment {payment['id'][:8]} of {payment['amount']} names sale "
                f"{str(payment['sale_id'])[:8]}, its reservation's is of {found[0]['amount']}"
            )
    paid = {payment["reservation_id"] for payment in payments}
    unpaid = [sale["id"][:8] for sale in sales if sale["reservation_id"] not in paid]
    check.expect(
        not wrong and not unpaid,
        f"{len(payments)} approved payments: each has exactly one sale of its amount",
        f"payments and sales disagree: {wrong[:5]} ({len(wrong)} in all); "
        f"sales with no approved payment: {unpaid[:5]}",
    )


def costs(result: ScenarioResult, others: dict[str, ScenarioResult]) -> None:
    """CPU per paid sale here beside steady's instant payment, when the run played both."""
    mine = _per_sale(result)
    if mine is None:
        return
    result.figures.append(Figure("CPU per paid sale (sandbox), stack", mine, "ms"))
    steady = others.get("steady")
    instant = _per_sale(steady) if steady is not None else None
    if instant is None:
        result.notes.append("play steady too to see the payment step's CPU beside an instant sale")
        return
    result.figures.append(Figure("CPU per paid sale (instant, steady), stack", instant, "ms"))
    result.figures.append(Figure("CPU the payment step adds per sale", mine - instant, "ms"))
    result.notes.append(
        "CPU per paid sale counts every process of the stack but the generator; steady played "
        "on the run's stack (its --workers), pay on one API process"
    )


def _per_sale(result: ScenarioResult) -> float | None:
    if not result.paid or not result.cpu:
        return None
    return 1000 * sum(result.cpu.get(kind, 0.0) for kind in SERVER_KINDS) / result.paid
