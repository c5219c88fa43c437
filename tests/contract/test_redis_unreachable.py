"""Redis gone: the adapters fail fast with ``BackendUnavailable``, the fallbacks carry on, one
warning says so, and Redis is used again as soon as it is back, with no restart."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from adapters.redis import RedisIdempotencyStore, RedisRateLimiter, RedisSeatLock, connect, ping
from cinema_core import BackendUnavailable, ManualClock, Outages, SeatLabel
from cinema_core.memory import InMemoryIdempotencyStore, InMemoryRateLimiter
from cinema_core.ports import StoredAnswer
from cinema_core.resilience.fallbacks import PAUSE, IdempotencyWithFallback, RateLimiterWithFallback
from tests.proxy import Outage

pytestmark = pytest.mark.redis

ANSWER = StoredAnswer(201, b"{}")
SEATS = [SeatLabel.parse("A1"), SeatLabel.parse("A2")]
OPERATIONS = ["ping", "acquire", "release", "begin", "finish", "abandon", "take"]


def _operations(client: redis.Redis) -> dict[str, Callable[[], Any]]:
    session_id = uuid.uuid4()
    lock = RedisSeatLock(client, "outage")
    store = RedisIdempotencyStore(client, "outage")
    limiter = RedisRateLimiter(client, "outage")
    return {
        "ping": lambda: ping(client),
        "acquire": lambda: lock.acquire(session_id, SEATS, "owner", 30),
        "release": lambda: lock.release(session_id, SEATS, "owner"),
        "begin": lambda: store.begin("u1", "k1", "fp"),
        "finish": lambda: store.finish("u1", "k1", "fp", ANSWER),
        "abandon": lambda: store.abandon("u1", "k1"),
        "take": lambda: limiter.take("u1", 1.0, 5),
    }


@pytest.fixture
def hanging_server() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    yield server.getsockname()[1]
    server.close()


SCHEMES = ["redis://127.0.0.1:{port}/0", "redis+cluster://127.0.0.1:{port}"]


@pytest.mark.parametrize("url", SCHEMES, ids=["redis", "redis-cluster"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_fails_fast_on_a_closed_port(operation, url):
    """Nothing listening: each operation raises BackendUnavailable well within a second (a
    cluster client that could not learn the slot map included)."""
    _fails_fast(url.format(port=1), operation)


@pytest.mark.parametrize("url", SCHEMES, ids=["redis", "redis-cluster"])
@pytest.mark.parametrize("operation", ["ping", "acquire", "begin", "take"])
def test_every_operation_fails_fast_on_a_server_that_hangs(hanging_server, operation, url):
    """A server that never answers costs one short timeout, not a hung request."""
    _fails_fast(url.format(port=hanging_server), operation)


def _fails_fast(url: str, operation: str) -> None:
    client = connect(url)
    try:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            _operations(client)[operation]()
        assert time.monotonic() - started < 1.0
    finally:
        client.close()


@pytest.fixture
def proxied(outage: Outage) -> Iterator[redis.Redis]:
    client = connect(outage.url("redis://127.0.0.1:{port}/0"))
    yield client
    client.close()


def test_pooled_connection_survives_a_restart(outage, proxied, redis_prefix):
    """After Redis comes back, the first command works: a dead pooled socket is replaced."""
    lock = RedisSeatLock(proxied, redis_prefix)
    session_id = uuid.uuid4()
    lock.acquire(session_id, SEATS, "owner", 30)
    outage.cut()
    with pytest.raises(BackendUnavailable):
        lock.release(session_id, SEATS, "owner")
    outage.restore()
    lock.release(session_id, SEATS, "owner")
    lock.acquire(session_id, SEATS, "another owner", 30)


def test_fallbacks_carry_on_through_an_outage_and_return(
    outage, proxied, redis_url, redis_prefix, caplog
):
    """Cut Redis: keyed requests and rate limits go on from memory, fast, one warning.
    Restore it: the next probe finds it and Redis is used again."""
    caplog.set_level(logging.WARNING, logger="cinema.backends")
    clock = ManualClock()
    outages = Outages()
    store = IdempotencyWithFallback(
        RedisIdempotencyStore(proxied, redis_prefix),
        InMemoryIdempotencyStore(clock),
        outages,
        clock=clock,
    )
    limiter = RateLimiterWithFallback(
        RedisRateLimiter(proxied, redis_prefix), InMemoryRateLimiter(clock), outages, clock=clock
    )
    direct = redis.Redis.from_url(redis_url)
    try:
        assert store.begin("u1", "before", "fp") is None
        store.finish("u1", "before", "fp", ANSWER)
        assert limiter.take("u1", 1.0, 5) == 0.0

        outage.cut()
        started = time.monotonic()
        for number in range(30):
            assert store.begin("u1", f"during-{number}", "fp") is None
            store.finish("u1", f"during-{number}", "fp", ANSWER)
            assert store.begin("u1", f"during-{number}", "fp") == ANSWER
            limiter.take("u1", 1000.0, 5)
            clock.advance(0.2)  # several pauses run out: Redis is probed again, and fails
        assert time.monotonic() - started < 3.0
        assert "redis" in outages.down()
        unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(unreachable) == 1
        assert unreachable[0].levelno == logging.WARNING

        outage.restore()
        clock.advance(PAUSE.total_seconds())
        assert store.begin("u1", "after", "fp") is None
        store.finish("u1", "after", "fp", ANSWER)
        assert outages.down() == {}
        assert any("reachable again" in r.getMessage() for r in caplog.records)
        assert len(list(direct.scan_iter(match=f"{redis_prefix}idem:*"))) == 2  # before, after
        assert limiter.take("u1", 1.0, 5) == 0.0
        assert direct.exists(f"{redis_prefix}rate:u1")
    finally:
        direct.close()
