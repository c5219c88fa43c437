"""The box office with Redis seat locks, before, during and after a Redis outage: many buyers
racing for the same seats never get a double hold or a double sale, and Redis is used again
once it is back."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from adapters.redis import RedisSeatLock, connect
from cinema_core import BoxOffice, ManualClock, Outages, SeatsUnavailable
from cinema_core.memory import InMemoryReservationRepo
from cinema_core.ports import SeatLock, StoredAnswer
from cinema_core.resilience.fallbacks import PAUSE, ForgivingSeatLock, SeatLockWithPause
from tests.concurrency import run_together
from tests.conftest import new_session
from tests.proxy import Outage

pytestmark = pytest.mark.redis

BUYERS = 12
WANTED = ["A2", "A1", "A3"]


@pytest.fixture
def direct(redis_url: str) -> Iterator[redis.Redis]:
    """A client that bypasses the outage: what Redis really holds."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _postgres_repo(request: pytest.FixtureRequest, **options: Any) -> Any:
    from tests.unguarded_postgres import UnguardedRepo

    repo = UnguardedRepo(request.getfixturevalue("migrated_postgres_url"), **options)
    request.addfinalizer(repo.close)
    return repo


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def repo(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemoryReservationRepo()
    return _postgres_repo(request)


def _box(
    repo: Any, outage: Outage, prefix: str, request: pytest.FixtureRequest, *, paused: bool = False
) -> BoxOffice:
    """A box office on ``repo`` with Redis seat locks reached through ``outage``, forgiving
    their outages; ``paused`` composes the lock as bootstrap does (resting for a pause after a
    failure, too)."""
    client = connect(outage.url("redis://127.0.0.1:{port}/0"))
    request.addfinalizer(client.close)
    clock = ManualClock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    outages = Outages()
    lock: SeatLock = RedisSeatLock(client, prefix)
    if paused:
        lock = SeatLockWithPause(lock, outages, clock=clock)
    return BoxOffice(repo, ForgivingSeatLock(lock, outages), clock, timedelta(seconds=30), outages)


def _race(box: BoxOffice, session_id: Any, seats: list[str]) -> list[Any]:
    """Every buyer, released together, reserves overlapping seats and pays at once."""

    def buy(index: int) -> Any:
        reservation = box.reserve(f"buyer-{index}", session_id, seats[: 2 + index % 2])
        sale, _ = box.pay(reservation.id, f"buyer-{index}")
        return sale

    return run_together(BUYERS, buy)


def _new_session(box: BoxOffice) -> Any:
    return new_session(box).session.id


def _one_sale_and_the_rest_refused(box: BoxOffice, results: list[Any]) -> None:
    sales = [result for result in results if not isinstance(result, Exception)]
    refusals = [result for result in results if isinstance(result, Exception)]
    assert len(sales) == 1, results
    assert all(isinstance(error, SeatsUnavailable) for error in refusals), refusals
    buyers_with_a_purchase = [
        index for index in range(BUYERS) if box.purchases(f"buyer-{index}").items
    ]
    assert len(buyers_with_a_purchase) == 1


def _lock_keys(direct: redis.Redis, prefix: str) -> list[bytes]:
    return list(direct.scan_iter(match=f"{prefix}seat:*"))


def test_one_buyer_wins_while_redis_is_up(repo, outage, direct, redis_prefix, request):
    """Redis up: exactly one buyer gets and pays for the seats, and the locks are in Redis."""
    box = _box(repo, outage, redis_prefix, request)
    session_id = _new_session(box)
    _one_sale_and_the_rest_refused(box, _race(box, session_id, WANTED))
    assert _lock_keys(direct, redis_prefix), "the winner's seats were locked in Redis"
    assert box.outages.down() == {}


@pytest.mark.parametrize("paused", [False, True], ids=["bare-lock", "paused-lock"])
def test_one_buyer_wins_while_redis_is_down(
    repo, outage, direct, redis_prefix, request, caplog, paused
):
    """Redis cut: the store alone still lets exactly one buyer have the seats, nobody waits
    on Redis, and the outage is logged once."""
    caplog.set_level(logging.WARNING, logger="cinema.backends")
    box = _box(repo, outage, redis_prefix, request, paused=paused)
    session_id = _new_session(box)
    outage.cut()
    started = time.monotonic()
    results = _race(box, session_id, WANTED)
    assert time.monotonic() - started < 10
    _one_sale_and_the_rest_refused(box, results)
    assert _lock_keys(direct, redis_prefix) == []
    assert "redis" in box.outages.down()
    assert sum("unreachable" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("paused", [False, True], ids=["bare-lock", "paused-lock"])
def test_redis_is_used_again_once_it_is_back(repo, outage, direct, redis_prefix, request, paused):
    """After the outage the next reservation takes its locks in Redis again, no restart."""
    box = _box(repo, outage, redis_prefix, request, paused=paused)
    session_id = _new_session(box)
    outage.cut()
    box.reserve("early", session_id, ["B1"])
    outage.restore()
    assert isinstance(box.clock, ManualClock)
    box.clock.advance(PAUSE.total_seconds())
    reservation = box.reserve("late", session_id, ["C1", "C2"])
    owners = {direct.get(key) for key in _lock_keys(direct, redis_prefix)}
    assert owners == {str(reservation.id).encode()}
    assert box.outages.down() == {}
    # And the lock does its job again: a rival is turned away before the store.
    with pytest.raises(SeatsUnavailable):
        box.reserve("rival", session_id, ["C2"])


@pytest.mark.postgres
def test_control_without_row_locks_the_down_redis_race_really_fires(outage, redis_prefix, request):
    """Control run: with Redis down and the store's row locks switched off, racing buyers do
    get overlapping holds, so the runs above would see a double hold if the guards failed."""
    box = _box(_postgres_repo(request, row_locks=False), outage, redis_prefix, request)
    outage.cut()
    for _ in range(5):
        session_id = _new_session(box)

        def reserve(index: int, session_id: Any = session_id) -> Any:
            return box.reserve(f"buyer-{index}", session_id, WANTED[: 2 + index % 2])

        held = [r for r in run_together(BUYERS, reserve) if not isinstance(r, Exception)]
        if len(held) > 1:
            return
    pytest.fail("the race never fired in five rounds: the runs above prove nothing")


def test_bootstrapped_services_degrade_and_recover_with_redis(outage, direct, redis_prefix):
    """Wired from settings: Redis serves locks, keys and buckets; cut, readiness says degraded
    while reservations, keys and limits carry on; restored, readiness is ok again."""
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import Settings

    url = outage.url("redis://127.0.0.1:{port}/0")
    services = bootstrap(Settings(redis_url=url, namespace=redis_prefix))
    try:
        assert services.readiness() == (
            "ok",
            {"database": "in-process", "redis": "ok", "broker": "in-process", "workers": "ok"},
        )
        box = services.box
        session_id = _new_session(box)
        box.reserve("u1", session_id, ["A1"])
        assert services.rate_limiter.take("user:u1", 1.0, 5) == 0.0
        assert services.idempotency.begin("u1", "k1", "fp") is None
        services.idempotency.finish("u1", "k1", "fp", StoredAnswer(201, b"{}"))
        assert {key.split(b":")[1] for key in direct.scan_iter(match=f"{redis_prefix}*")} == {
            b"seat",
            b"rate",
            b"idem",
        }

        outage.cut()
        status, checks = services.readiness()
        assert (status, checks["redis"]) == ("degraded", "down")
        box.reserve("u2", session_id, ["A2"])
        with pytest.raises(SeatsUnavailable):
            box.reserve("u3", session_id, ["A2"])
        assert services.rate_limiter.take("user:u1", 1.0, 5) == 0.0
        assert services.idempotency.begin("u1", "k2", "fp") is None

        outage.restore()
        assert services.readiness()[0] == "ok"
    finally:
        services.close()
