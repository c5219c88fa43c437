"""A Redis Cluster master killed: the adapters raise ``BackendUnavailable`` (never a driver
error) while its replica takes over, then work again on the same client; a process that starts
while its only named node is down runs degraded and recovers without a restart.

These tests kill nodes, so they run on a cluster of their own, not the run's shared one.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from redis.crc import key_slot

from adapters.redis import RedisIdempotencyStore, RedisRateLimiter, RedisSeatLock, connect, ping
from cinema_core import BackendUnavailable, SeatLabel, SeatsUnavailable
from cinema_core.ports import StoredAnswer
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from tests import services
from tests.conftest import new_session
from tests.redis_cluster import RedisCluster

pytestmark = [pytest.mark.redis, pytest.mark.slow]

TAKEOVER = 15.0  # seconds a failover may take here (node timeout 1 s, then the election)


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    with RedisCluster(17201) as made:
        yield made


@pytest.fixture
def prefix() -> str:
    # The cluster is thrown away with its keys after the module: no clean-up needed.
    return services.unique("cinema_failover") + ":"


def session_on(cluster: RedisCluster, master: int) -> UUID:
    """A session id whose seats live on ``master``."""
    while True:
        session_id = uuid.uuid4()
        if cluster.master_of(key_slot(str(session_id).encode())) == master:
            return session_id


def key_on(cluster: RedisCluster, master: int, prefix: str, kind: str) -> str:
    """A user id whose ``kind`` key (``rate``) lives on ``master``."""
    while True:
        user = uuid.uuid4().hex
        if cluster.master_of(key_slot(f"{prefix}{kind}:{user}".encode())) == master:
            return user


def heal(cluster: RedisCluster, port: int) -> None:
    """Bring the killed node back (it rejoins as a replica) and wait for a healthy cluster."""
    cluster.start_node(port)
    cluster.wait_healthy()


def until(done: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < timeout, f"{what} within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_killed_master_is_backend_unavailable_then_the_replica_serves(cluster, prefix):
    """While a master's replica takes over, each operation on its slots works or raises
    BackendUnavailable, quickly; afterwards they all work on the same client."""
    client = connect(cluster.url)
    try:
        lock = RedisSeatLock(client, prefix)
        store = RedisIdempotencyStore(client, prefix, wait=0.2)
        limiter = RedisRateLimiter(client, prefix)
        victim = next(iter(cluster.masters()))
        session_id = session_on(cluster, victim)
        user = key_on(cluster, victim, prefix, "rate")
        labels = [SeatLabel.parse("A1"), SeatLabel.parse("A2")]
        lock.acquire(session_id, labels, "before", 30)
        time.sleep(0.5)  # replication is asynchronous: let the replica have the lock
        counter = iter(range(1_000_000))

        def operations() -> dict[str, Callable[[], Any]]:
            n = next(counter)
            seat = [SeatLabel.parse(f"B{n % 99 + 1}")]
            return {
                "ping": lambda: ping(client),
                "acquire": lambda: lock.acquire(session_id, seat, f"o{n}", 30),
                "release": lambda: lock.release(session_id, labels, "nobody"),
                "begin": lambda: store.begin(user, f"k{n}", "fp"),
                "finish": lambda: store.finish(user, f"k{n}", "fp", StoredAnswer(201, b"{}")),
                "take": lambda: limiter.take(user, 1000.0, 1000),
            }

        cluster.kill(victim)
        outcomes: Counter[str] = Counter()
        slowest = 0.0

        def all_work() -> bool:
            nonlocal slowest
            worked = True
            for name, operation in operations().items():
                started = time.monotonic()
                try:
                    operation()
                    outcomes[f"{name} ok"] += 1
                except BackendUnavailable:
                    outcomes[f"{name} unavailable"] += 1
                    worked = False
                except Exception as error:  # a driver error crossing the port: the bug
                    pytest.fail(f"{name} raised {type(error).__name__}: {error}")
                slowest = max(slowest, time.monotonic() - started)
            return worked

        took = until(all_work, TAKEOVER, "the replica did not take over")
        print(f"replica took over after {took:.1f} s; {dict(outcomes)}; slowest {slowest:.2f} s")
        assert any(key.endswith("unavailable") for key in outcomes), "the kill went unnoticed"
        assert slowest < 2.0
        # The promoted replica has the lock taken before the kill: the seats are still refused.
        with pytest.raises(SeatsUnavailable):
            lock.acquire(session_id, labels, "after", 30)
    finally:
        client.close()
        heal(cluster, victim)


def _new_session(box: Any) -> Any:
    return new_session(box).session.id


def test_bootstrapped_services_degrade_during_a_failover_and_recover(cluster, prefix):
    """Wired from a redis+cluster:// URL: ready is ok; a master killed makes it degraded while
    reservations carry on (the store judges); once the replica has taken over it is ok again
    and the seat locks are in the cluster again, with no restart."""
    settings = Settings(redis_url=cluster.url, namespace=prefix)
    wired = bootstrap(settings)
    # Not the node the URL names: a client made during the outage must find the cluster.
    victim = next(port for port in cluster.masters() if cluster.url.split(":")[-1] != str(port))
    try:
        assert wired.backends["redis"] == "redis-cluster"
        in_process = {"database": "in-process", "broker": "in-process", "workers": "ok"}
        assert wired.readiness() == ("ok", {**in_process, "redis": "ok"})
        box = wired.box
        session_id = _new_session(box)
        box.reserve("u1", session_id, ["A1"])

        cluster.kill(victim)
        assert wired.readiness()[1]["redis"] == "down"
        box.reserve("u2", session_id, ["A2"])
        with pytest.raises(SeatsUnavailable):
            box.reserve("u3", session_id, ["A2"])

        until(lambda: wired.readiness()[0] == "ok", TAKEOVER, "ready did not come back")
        time.sleep(1.1)  # the seat lock's pause after a failure runs out
        reservation = box.reserve("u4", session_id, ["C1"])
        client = connect(cluster.url)
        try:
            owners = {client.get(key) for key in client.scan_iter(match=f"{prefix}seat:*:C1")}
        finally:
            client.close()
        assert owners == {str(reservation.id).encode()}
    finally:
        wired.close()
        heal(cluster, victim)


def test_process_started_while_its_node_is_down_recovers_without_restart(cluster, prefix):
    """The only node a URL names is down when the process starts: it runs degraded, and uses
    the cluster as soon as the node is back."""
    node = cluster.ports[-1]
    cluster.kill(node)
    wired = bootstrap(Settings(redis_url=f"redis+cluster://127.0.0.1:{node}", namespace=prefix))
    try:
        status, checks = wired.readiness()
        assert (status, checks["redis"]) == ("degraded", "down")
        session_id = _new_session(wired.box)
        wired.box.reserve("u1", session_id, ["A1"])
        assert wired.rate_limiter.take("user:u1", 1.0, 5) == 0.0

        heal(cluster, node)
        until(lambda: wired.readiness()[0] == "ok", 10, "ready did not come back")
    finally:
        wired.close()
