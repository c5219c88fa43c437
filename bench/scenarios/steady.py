"""Steady: reserve → pay flows at a fixed concurrency, on many sessions, with no contention.

Every flow takes the next 1–4 seats of its part's sessions, so two flows never want the same
seat: this measures the cost of a sale, not of a conflict. The soak runs the same flows for
minutes, creating sessions as it goes.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import orjson

from ..admin import Admin
from ..api import User, seat_labels, token
from ..generator import Context, Outcome
from ..invariant import Check, check_session
from ..options import Options
from ..results import Figure, ScenarioResult, merge

RESERVE = "POST /reservations"
PAY = "POST /reservations/{id}/payment"
CREATE = "POST /sessions"
SESSION_ROWS, SESSION_SEATS_PER_ROW = 26, 100
# Sessions are made beforehand for this many flows a second (2.5 times the target); should the
# flows outrun them, the generator makes more as it goes, and the notes say how many.
PLANNED_FLOWS_PER_SECOND = {"postgres": 2000, "memory": 4000}
MEAN_SEATS_PER_FLOW = 2.5


@attrs.frozen
class Plan:
    name: str
    session_ids: list[str]
    price: str
    users: int
    seconds: float
    secret: str
    seed: int


async def prepare(admin: Admin, options: Options) -> Plan:
    return await planned(admin, options, "steady", PLANNED_FLOWS_PER_SECOND[options.backend])


async def planned(admin: Admin, options: Options, name: str, flows_per_second: float) -> Plan:
    """A plan of ``--duration`` s for ``name``, with sessions made beforehand for this many
    flows a second (``pay`` plans for fewer: a paid sale is four requests there)."""
    seats = options.duration * flows_per_second * MEAN_SEATS_PER_FLOW
    count = max(options.generators, -(-int(seats) // (SESSION_ROWS * SESSION_SEATS_PER_ROW)))
    ids = await admin.create_sessions(
        count, SESSION_ROWS, SESSION_SEATS_PER_ROW, options.price, name.capitalize()
    )
    return Plan(
        name,
        ids,
        options.price,
        options.steady_users,
        options.duration,
        admin.secret,
        options.seed,
    )


async def prepare_soak(admin: Admin, options: Options) -> Plan:
    ids = await admin.create_sessions(
        options.generators, SESSION_ROWS, SESSION_SEATS_PER_ROW, options.price, "Soak"
    )
    return Plan(
        "soak",
        ids,
        options.price,
        options.steady_users,
        options.soak_seconds,
        admin.secret,
        options.seed,
    )


def user_name(plan: Plan, index: int) -> str:
    return f"{plan.name}-{index}"


def share(context: Context) -> tuple[list[User], User, _Supply]:
    """This generator part's share of the plan's buyers and sessions, and the admin that makes
    more of them (a plan with ``users``, ``session_ids`` and ``secret``, as this module's and
    ``pay``'s are)."""
    plan = context.part.plan
    part, parts = context.part.index, context.part.parts
    users = [
        User(user_name(plan, i), token(plan.secret, user_name(plan, i)))
        for i in range(part, plan.users, parts)
    ]
    admin = User("bench-admin", token(plan.secret, "bench-admin", "admin"))
    sessions = list(plan.session_ids[part::parts])
    return users, admin, _Supply(sessions, plan, context.pool, admin, context.samples)


async def drive(context: Context) -> dict[str, Any]:
    plan: Plan = context.part.plan
    part = context.part.index
    samples, pool = context.samples, context.pool
    users, _, supply = share(context)
    sales: list[dict[str, Any]] = []
    deadline = context.started + plan.seconds
    rng = random.Random(plan.seed * 7919 + part)

    async def flow(worker: int) -> None:
        flow_rng = random.Random(rng.random() + worker)
        while time.perf_counter() < deadline:
            size = flow_rng.randint(1, 4)
            session_id, seats = await supply.claim(size)
            user = users[flow_rng.randrange(len(users))]
            try:
                status, body, ns = await pool.request(user.reserve(session_id, seats))
            except ConnectionError:
                samples.failed(RESERVE)
                await asyncio.sleep(0.01)  # the server may be gone: do not spin
                continue
            samples.add(RESERVE, status, ns)
            if status != 201:
                continue
            reservation = orjson.loads(body)["id"]
            try:
                status, body, ns = await pool.request(user.pay(reservation))
            except ConnectionError:
                samples.failed(PAY)
                continue
            samples.add(PAY, status, ns)
            if status == 201:
                sales.append(orjson.loads(body))

    await asyncio.gather(*(flow(w) for w in range(context.part.connections)))
    return {
        "sales": sales,
        "sessions": supply.sessions,
        "created": supply.created,
    }


class _Supply:
    """Hands out consecutive seats of this part's sessions, never the same seat twice."""

    def __init__(self, sessions: list[str], plan: Plan, pool: Any, admin: User, samples: Any):
        self.sessions = sessions
        self.created = 0
        self._plan = plan
        self._pool = pool
        self._admin = admin
        self._samples = samples
        self._labels = seat_labels(SESSION_ROWS, SESSION_SEATS_PER_ROW)
        self._session = 0
        self._seat = 0
        self._creating = asyncio.Lock()

    async def claim(self, size: int) -> tuple[str, list[str]]:
        """The next ``size`` seats of one session (fewer at a session's end)."""
        while self._session >= len(self.sessions) or self._seat >= len(self._labels):
            if self._session < len(self.sessions):
                self._session, self._seat = self._session + 1, 0
                continue
            async with self._creating:
                # Another flow may have made one while this one waited for the lock.
                if self._session >= len(self.sessions):
                    self.created += 1
                    self.sessions.append(
                        await _create_session(
                            self._pool, self._admin, self._plan.price, self._samples
                        )
                    )
        seats = self._labels[self._seat : self._seat + size]
        self._seat += size
        return self.sessions[self._session], seats


async def _create_session(pool: Any, admin: User, price: str, samples: Any) -> str:
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    payload = {
        "movie": "Soak",
        "room": "Sala bench",
        "starts_at": starts.isoformat().replace("+00:00", "Z"),
        "price": price,
        "rows": SESSION_ROWS,
        "seats_per_row": SESSION_SEATS_PER_ROW,
    }
    status, body, ns = await pool.request(admin.post_json("/sessions", payload))
    samples.add(CREATE, status, ns)
    if status != 201:
        raise RuntimeError(f"could not create a session: {status} {body[:200]!r}")
    return str(orjson.loads(body)["id"])


async def conclude(admin: Admin, plan: Plan, outcomes: list[Outcome]) -> ScenarioResult:
    samples, seconds = merge(outcomes)
    recorded = [sale for outcome in outcomes for sale in outcome.data["sales"]]
    touched = [s for outcome in outcomes for s in outcome.data["sessions"]]
    purchases = await admin.purchases_of([user_name(plan, i) for i in range(plan.users)])
    by_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sales in purchases.values():
        for sale in sales:
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
    _summarise(check, len(touched))
    result = ScenarioResult(plan.name, samples=samples, seconds=seconds, check=check)
    result.paid = len(recorded)
    result.figures = [
        Figure("paid reservations/s", len(recorded) / seconds, "/s", "steady_rate", rate=True),
        Figure("p99 latency, reserve + pay", samples.overall().p99, "ms", "steady_p99"),
    ]
    result.notes.append(f"{len(recorded)} sales on {len(touched)} sessions in {seconds:.1f} s")
    created = sum(outcome.data["created"] for outcome in outcomes)
    if created:
        result.notes.append(f"{created} of the sessions were made during the run (POST /sessions)")
    return result


def _summarise(check: Check, sessions: int) -> None:
    # One line per session would drown the report: keep the problems, fold the facts.
    if check.facts:
        check.facts = [f"{sessions} sessions: seat maps, sales and amounts agree"]
