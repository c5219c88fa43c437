"""Liveness and readiness, for load balancers and orchestrators (never rate limited)."""

from __future__ import annotations

import asyncio
from typing import Literal

import attrs
from starlette.responses import Response

from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.readiness import CHECK_TIMEOUT, DOWN, IN_PROCESS, OK, TIMEOUT, verdict

# What a check of one backend says (the values readiness.verdict gives).
Check = Literal[OK, DOWN, TIMEOUT, IN_PROCESS]  # type: ignore[valid-type]
_CHECK = (
    "ok; down (it failed); timeout (no answer within 1 s); in-process (not configured: this "
    "process does its work in memory)."
)


@attrs.frozen
class Health(Answer):
    """The process is up."""

    status: Literal["ok"] = out(lambda _: "ok")


@attrs.frozen
class Checks(Answer):
    """What each backend and the background threads said."""

    database: Check = out(lambda c: c["database"], description=_CHECK)
    redis: Check = out(lambda c: c["redis"], description=_CHECK)
    broker: Check = out(lambda c: c["broker"], description=_CHECK)
    workers: str = out(
        lambda c: c["workers"],
        description=(
            "ok; or the background threads in trouble, each named with dead (its thread "
            "ended), stuck (no heartbeat for 60 s) or failing (retrying with backoff), e.g. "
            '"cinema-consumers failing, cinema-relay stuck".'
        ),
        example="cinema-consumers failing",
    )


@attrs.frozen
class Readiness(Answer):
    """Whether the backends answer (encoded from readiness.verdict's status and checks)."""

    status: Literal["ok", "degraded", "unavailable"] = out(lambda v: v[0])
    checks: Checks = out(lambda v: v[1])


def health(call: Call) -> Response:
    return Health.response(None)


def _consume(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()


async def ready(call: Call) -> Response:
    # On the event loop, waiting on the probes' own threads: however long a backend hangs,
    # no request thread waits for it, and the answer comes within CHECK_TIMEOUT.
    started = call.services.start_checks()
    pending = [asyncio.wrap_future(f) for f in started.values() if f is not None]
    for waiting in pending:
        # The verdict reads the probes' own futures; a failure is read there, not here.
        waiting.add_done_callback(_consume)
    if pending:
        await asyncio.wait(pending, timeout=CHECK_TIMEOUT)
    status, checks = verdict(started, call.services.supervisor.problems())
    return Readiness.response((status, checks), 503 if status == "unavailable" else 200)


OPERATIONS = (
    Operation(
        "GET",
        "/health",
        health,
        "The process is up",
        {200: Reply("Always ok while the process serves.", Health)},
        tag="system",
        limited=False,
        blocking=False,
    ),
    Operation(
        "GET",
        "/ready",
        ready,
        "The backends answer",
        {
            200: Reply(
                "ok, or degraded naming Redis, the broker or a background thread.", Readiness
            ),
            503: Reply("The database cannot serve or does not answer.", Readiness),
        },
        tag="system",
        limited=False,
        blocking=False,
        description="Each check within 1 s; the answer within 2 s whatever hangs.",
    ),
)
