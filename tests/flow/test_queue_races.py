"""Races on a waiting room's queue in Redis, with real threads released together: each first
with the queue's steps split into round trips (the control: the race fires), then with the
production adapter, one script a step (it never does)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from adapters.redis import RedisWaitingLines, connect
from cinema_core import ManualClock
from cinema_core.waiting.room import PlaceStatus, RoomSettings
from tests.concurrency import run_together
from tests.unguarded_queue import SplitStepWaitingLines

pytestmark = pytest.mark.redis

LASTS = timedelta(minutes=10)
THREADS = 24


@pytest.fixture(params=["redis", "redis-cluster"])
def make_lines(request: pytest.FixtureRequest) -> Callable[[type[RedisWaitingLines]], Any]:
    """Build either adapter on one Redis server, or on the run's Redis Cluster."""
    where = "redis_cluster" if request.param == "redis-cluster" else "redis"
    url = request.getfixturevalue(f"{where}_url")
    prefix = request.getfixturevalue(f"{where}_prefix")

    def make(kind: type[RedisWaitingLines]) -> Any:
        client = connect(url)
        request.addfinalizer(client.close)
        return kind(client, prefix)

    return make


def ticket(session_id: uuid.UUID) -> str:
    return session_id.hex + secrets.token_hex(16)


def one_user_joining_at_once(lines: Any, clock: ManualClock) -> int:
    """How many places one user ends with after joining from every thread at once."""
    session_id = uuid.uuid4()
    lines.configure(session_id, RoomSettings(True, 1, 1000), clock.now())
    lines.join(session_id, "first", ticket(session_id), clock.now(), LASTS)
    run_together(
        THREADS, lambda _: lines.join(session_id, "twice", ticket(session_id), clock.now(), LASTS)
    )
    return lines.figures(session_id, clock.now(), LASTS).waiting


def admitted_after_simultaneous_polls(lines: Any, clock: ManualClock) -> int:
    """How many are admitted once every thread polls at once, five seconds into a schedule of
    one a second (six are due: the first at once, then one a second)."""
    session_id = uuid.uuid4()
    lines.configure(session_id, RoomSettings(True, 60, 1000), clock.now())
    places = [
        lines.join(session_id, f"u{i}", ticket(session_id), clock.now(), LASTS) for i in range(60)
    ]
    clock.advance(5)
    run_together(THREADS, lambda i: lines.look(session_id, places[i].ticket, clock.now(), LASTS))
    seen = [lines.look(session_id, p.ticket, clock.now(), LASTS).status for p in places]
    admitted = seen.count(PlaceStatus.ADMITTED)
    assert seen[:admitted] == [PlaceStatus.ADMITTED] * admitted, "admitted out of order"
    return admitted


def test_a_user_joining_from_many_processes_at_once_has_one_place(
    make_lines: Callable[[type[RedisWaitingLines]], Any], clock: ManualClock
) -> None:
    """Control: check-then-add in round trips gives one user several places. Guarded: one.
    Each is run on five queues (the control's window is a few round trips wide)."""
    unguarded, production = make_lines(SplitStepWaitingLines), make_lines(RedisWaitingLines)
    control = max(one_user_joining_at_once(unguarded, clock) for _ in range(5))
    guarded = max(one_user_joining_at_once(production, clock) for _ in range(5))
    print(f"places of one user: control {control}, guarded {guarded}")
    assert control > 1, "the control run should show the race"
    assert guarded == 1


def test_simultaneous_polls_admit_exactly_those_due(
    make_lines: Callable[[type[RedisWaitingLines]], Any], clock: ManualClock
) -> None:
    """Control: read-decide-write in round trips admits the due ones once per poller, far past
    the rate. Guarded: exactly the six due, in arrival order."""
    control = admitted_after_simultaneous_polls(make_lines(SplitStepWaitingLines), clock)
    guarded = admitted_after_simultaneous_polls(make_lines(RedisWaitingLines), clock)
    print(f"admitted when six were due: control {control}, guarded {guarded}")
    assert control > 6, "the control run should show the race"
    assert guarded == 6
