"""Queue: an on-sale behind a waiting room. Arrivals join in bursts through the API processes;
each polls when its estimate says it is near; the admitted buy a seat with their admission.

What it measures: admissions per window (``--queue-window`` seconds, a shortened minute)
against the set rate, read from the admin's figures while the queue is never empty; order
violations (a buyer seen waiting after one who joined after it was seen admitted); reused,
foreign and forged tokens refused; no seat oversold; the CPU and Redis commands per arrival.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import time
from typing import Any

import attrs
import orjson

from ..admin import Admin
from ..api import User, seat_labels, token
from ..generator import Context, Outcome
from ..invariant import Check, check_session, sales_of
from ..options import Options
from ..results import Figure, ScenarioResult, merge

JOIN = "POST /sessions/{id}/queue"
POLL = "GET /queue/{ticket}"
LEAVE = "DELETE /queue/{ticket}"
ROOM = "GET /sessions/{id}/waiting-room"
RESERVE = "POST /reservations"
PAY = "POST /reservations/{id}/payment"
ROWS, PER_ROW = 10, 20
# Admitted buyers who try to buy (more than the seats: some must be refused), and who try a
# token not theirs.
BUYING = 260
TRYING_TOKENS = 100


@attrs.frozen
class Plan:
    session_id: str
    arrivals: int
    burst: int
    per_minute: int
    window: float
    secret: str
    price: str
    redis_url: str | None
    redis_before: dict[str, int]


def arrival_name(index: int) -> str:
    return f"queue-{index}"


def redis_commands(url: str | None) -> dict[str, int]:
    """Redis' calls by command so far (INFO commandstats), or nothing without Redis."""
    if url is None:
        return {}
    import redis

    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {name: int(value["calls"]) for name, value in stats.items()}


async def prepare(admin: Admin, options: Options) -> Plan:
    session_id = await admin.create_session(ROWS, PER_ROW, options.price, "Queue")
    body = {"enabled": True, "admit_per_minute": options.queue_per_minute, "max_active": 10**6}
    raw = (
        f"PUT /sessions/{session_id}/waiting-room HTTP/1.1\r\nHost: bench\r\n"
        f"Authorization: Bearer {admin.user.bearer}\r\nContent-Type: application/json\r\n"
    ).encode()
    payload = orjson.dumps(body)
    await admin.call(raw + b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
    redis_url = options.redis_url if options.backend == "postgres" else None
    return Plan(
        session_id,
        options.queue_arrivals,
        options.queue_burst,
        options.queue_per_minute,
        options.queue_window,
        admin.secret,
        options.price,
        redis_url,
        redis_commands(redis_url),
    )


def _with_admission(user: User, session_id: str, seat: str, admission: str) -> bytes:
    raw = user.reserve(session_id, [seat])
    head, _, rest = raw.partition(b"Content-Type:")
    return head + b"X-Admission: " + admission.encode() + b"\r\nContent-Type:" + rest


def _forged(admission: str) -> str:
    head, _, signature = admission.partition(".")
    flipped = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    flipped[0] ^= 1
    return head + "." + base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()


async def _watch(context: Context, plan: Plan, stop: asyncio.Event) -> list[list[float]]:
    """The admin screen's view, four times a second: (time, waiting, active)."""
    admin = User("bench-queue-admin", token(plan.secret, "bench-queue-admin", "admin"))
    seen: list[list[float]] = []
    request = admin.get(f"/sessions/{plan.session_id}/waiting-room")
    while not stop.is_set():
        status, body, ns = await context.pool.request(request)
        context.samples.add(ROOM, status, ns)
        if status == 200:
            figures = orjson.loads(body)
            seen.append([time.perf_counter(), figures["waiting"], figures["active"]])
        await asyncio.sleep(0.25)
    return seen


async def _arrive(context: Context, plan: Plan, index: int, found: dict[int, Any]) -> None:
    samples, pool = context.samples, context.pool
    name = arrival_name(index)
    user = User(name, token(plan.secret, name))
    started = time.perf_counter()
    status, body, ns = await pool.request(user.post(f"/sessions/{plan.session_id}/queue"))
    samples.add(JOIN, status, ns)
    joined = time.perf_counter()
    if status != 201:
        return
    place = orjson.loads(body)
    record: dict[str, Any] = {"start": started, "joined": joined, "waiting": 0.0, "admitted": None}
    found[index] = record
    while place["status"] == "waiting":
        record["waiting"] = time.perf_counter()
        # Asked again when the estimate says: a real picker polls every few seconds, which at
        # this scale would only cost the server more of the same request.
        await asyncio.sleep(max(0.2, place["estimated_wait_seconds"] * 0.9))
        status, body, ns = await pool.request(user.get(f"/queue/{place['ticket']}"))
        samples.add(POLL, status, ns)
        if status != 200:
            return
        answered = orjson.loads(body)
        if answered["status"] == "waiting":
            record["waiting"] = time.perf_counter()
        place = answered
    if place["status"] == "admitted":
        record["admitted"] = time.perf_counter()
        record["admission"] = place["admission"]
        record["ticket"] = place["ticket"]


async def drive(context: Context) -> dict[str, Any]:
    plan: Plan = context.part.plan
    part, parts = context.part.index, context.part.parts
    mine = list(range(part, plan.arrivals, parts))
    found: dict[int, Any] = {}
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(_watch(context, plan, stop)) if part == 0 else None
    tasks: list[asyncio.Future[None]] = []
    burst = max(1, plan.burst // parts)
    for first in range(0, len(mine), burst):
        wave = [
            asyncio.ensure_future(_arrive(context, plan, index, found))
            for index in mine[first : first + burst]
        ]
        tasks += wave
        # The next burst once this one has its places (arrivals faster than the rate).
        while sum(1 for index in mine[first : first + burst] if index in found) < len(wave):
            if all(task.done() for task in wave):
                break
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    stop.set()
    watched = await watcher if watcher is not None else []
    data: dict[str, Any] = {"arrivals": found, "watched": watched}
    if part == 0:
        data.update(await _buy(context, plan, found))
    return data


async def _buy(context: Context, plan: Plan, found: dict[int, Any]) -> dict[str, Any]:
    """The first admitted buy one seat each (more buyers than seats); some try tokens that
    are not theirs, forged, or given up."""
    samples, pool = context.samples, context.pool
    admitted = sorted((i for i, r in found.items() if r["admitted"]), key=lambda i: i)
    labels = seat_labels(ROWS, PER_ROW)
    sales: list[dict[str, Any]] = []
    tried = refused = 0
    for n, index in enumerate(admitted[:TRYING_TOKENS]):
        owner = found[index]
        other = arrival_name(admitted[(n + 1) % len(admitted)])
        stranger = User(other, token(plan.secret, other))
        me = User(arrival_name(index), token(plan.secret, arrival_name(index)))
        for who, admission in ((stranger, owner["admission"]), (me, _forged(owner["admission"]))):
            status, _, ns = await pool.request(
                _with_admission(who, plan.session_id, labels[n % len(labels)], admission)
            )
            samples.add(RESERVE, status, ns)
            tried += 1
            refused += status == 403
    for n, index in enumerate(admitted[:BUYING]):
        name = arrival_name(index)
        me = User(name, token(plan.secret, name))
        status, body, ns = await pool.request(
            _with_admission(me, plan.session_id, labels[n % len(labels)], found[index]["admission"])
        )
        samples.add(RESERVE, status, ns)
        if status == 201:
            status, body, ns = await pool.request(me.pay(orjson.loads(body)["id"]))
            samples.add(PAY, status, ns)
            if status == 201:
                sales.append(orjson.loads(body))
    # Given up, then reused: refused as lapsed.
    for n, index in enumerate(admitted[BUYING : BUYING + TRYING_TOKENS]):
        name = arrival_name(index)
        me = User(name, token(plan.secret, name))
        raw = me.get(f"/queue/{found[index]['ticket']}").replace(b"GET ", b"DELETE ", 1)
        status, _, ns = await pool.request(raw)
        samples.add(LEAVE, status, ns)
        status, _, ns = await pool.request(
            _with_admission(me, plan.session_id, labels[n % len(labels)], found[index]["admission"])
        )
        samples.add(RESERVE, status, ns)
        tried += 1
        refused += status == 403
    buyers = [arrival_name(i) for i in admitted[:BUYING]]
    return {"sales": sales, "tried": tried, "refused": refused, "buyers": buyers}


def order_violations(arrivals: list[dict[str, Any]]) -> int:
    """Buyers seen waiting after someone who joined after them was seen admitted (joins
    overlapping by a millisecond or less are not ordered)."""
    admitted = sorted((r["start"], r["admitted"]) for r in arrivals if r["admitted"] is not None)
    starts = [start for start, _ in admitted]
    # The earliest admission among those who started joining at or after each point.
    earliest = [float("inf")] * (len(admitted) + 1)
    for i in range(len(admitted) - 1, -1, -1):
        earliest[i] = min(earliest[i + 1], admitted[i][1])
    violations = 0
    for record in arrivals:
        later = bisect.bisect_right(starts, record["joined"] + 0.001)
        if record["waiting"] and earliest[later] < record["waiting"]:
            violations += 1
    return violations


def windows(watched: list[list[float]], window: float) -> list[tuple[float, int]]:
    """Admissions in each whole window while someone was waiting throughout: (start, count)."""
    found: list[tuple[float, int]] = []
    if not watched:
        return found
    start_at = 0
    for i, (at, _waiting, _active) in enumerate(watched):
        if at - watched[start_at][0] >= window:
            span = watched[start_at : i + 1]
            if all(w > 0 for _, w, _ in span):
                seconds = at - watched[start_at][0]
                count = span[-1][2] - span[0][2]
                found.append((watched[start_at][0], round(count * window / seconds)))
            start_at = i
    return found


async def conclude(admin: Admin, plan: Plan, outcomes: list[Outcome]) -> ScenarioResult:
    samples, seconds = merge(outcomes)
    arrivals = [r for outcome in outcomes for r in outcome.data["arrivals"].values()]
    watched = [w for outcome in outcomes for w in outcome.data["watched"]]
    first = outcomes[0].data
    check = Check("queue")
    admitted = sum(1 for r in arrivals if r["admitted"] is not None)
    check.expect(
        admitted == plan.arrivals,
        f"all {plan.arrivals:,} arrivals joined and were admitted",
        f"{len(arrivals):,} of {plan.arrivals:,} joined, {admitted:,} admitted",
    )
    violations = order_violations(arrivals)
    check.expect(
        violations == 0,
        "no one admitted before someone who arrived earlier",
        f"{violations} buyers seen waiting after a later arrival was admitted",
    )
    check.expect(
        first["refused"] == first["tried"],
        f"{first['tried']} reused, foreign and forged tokens: all refused",
        f"{first['tried'] - first['refused']} of {first['tried']} such tokens were accepted",
    )
    expected = plan.per_minute * plan.window / 60
    counted = windows(watched, plan.window)
    off = [(round(at, 1), n) for at, n in counted if abs(n - expected) > 0.05 * expected]
    check.expect(
        bool(counted) and not off,
        f"admissions within ±5 % of {expected:,.0f} in each of {len(counted)} full windows",
        f"windows off the rate (start, count): {off[:5]} of {len(counted)}",
    )
    seat_map = await admin.seat_map(plan.session_id)
    purchases = await admin.purchases_of(first["buyers"])
    check_session(
        check,
        seat_map,
        sales_of(plan.session_id, purchases),
        first["sales"],
        {"standard": plan.price},
    )
    result = ScenarioResult("queue", samples=samples, seconds=seconds, check=check)
    counts = [n for _, n in counted] or [0]
    result.figures = [
        Figure("arrivals", plan.arrivals, "joins"),
        Figure("set rate per window", expected, "admissions"),
        Figure("least admitted in a window", min(counts), "admissions"),
        Figure("most admitted in a window", max(counts), "admissions"),
        Figure("order violations", violations, "buyers"),
    ]
    after = redis_commands(plan.redis_url)
    if plan.redis_url is not None:
        spent = sum(after.values()) - sum(plan.redis_before.values())
        result.figures.append(Figure("Redis commands per arrival", spent / plan.arrivals, "calls"))
        scripts = after.get("cmdstat_evalsha", 0) - plan.redis_before.get("cmdstat_evalsha", 0)
        result.notes.append(
            f"Redis: {spent:,} commands during the run, {scripts:,} of them scripts"
        )
    result.notes.append(
        f"{plan.arrivals:,} arrivals in bursts of {plan.burst:,}; admitted at "
        f"{plan.per_minute:,} a minute, counted per {plan.window:g} s window"
    )
    return result


def costs(result: ScenarioResult, others: dict[str, ScenarioResult]) -> None:
    """CPU per arrival, by kind of process (what the harness measured while it ran)."""
    arrivals = next(f.value for f in result.figures if f.name == "arrivals")
    for kind, seconds in sorted(result.cpu.items()):
        result.figures.append(Figure(f"CPU per arrival, {kind}", seconds * 1000 / arrivals, "ms"))
