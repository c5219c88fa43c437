"""The Redis adapters against a real Redis: seat locks, idempotency keys, token buckets.

What only a shared server shows: several clients (standing for several processes) seeing each
other's state, races between them, Redis' own TTLs, and the key layout. TTLs here are short and
real (Redis' clock cannot be turned by hand). Every test runs twice: on one Redis server, and on
the run's Redis Cluster (3 masters, a replica each) named as ``redis+cluster://``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from uuid import UUID

import pytest
from redis.crc import key_slot

from adapters.redis import (
    RedisIdempotencyStore,
    RedisRateLimiter,
    RedisSeatLock,
    connect,
)
from adapters.redis.client import Client
from adapters.redis.waiting import queue_prefix
from cinema_core import IdempotencyInProgress, IdempotencyKeyReused, SeatLabel, SeatsUnavailable
from cinema_core.ports import StoredAnswer
from tests.concurrency import run_together

pytestmark = pytest.mark.redis


@pytest.fixture(params=["redis", "redis-cluster"])
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """One Redis server, or the run's Redis Cluster: its URL and a key prefix of this test's."""
    where = "redis_cluster" if request.param == "redis-cluster" else "redis"
    return request.getfixturevalue(f"{where}_url"), request.getfixturevalue(f"{where}_prefix")


@pytest.fixture
def url(server: tuple[str, str]) -> str:
    return server[0]


@pytest.fixture
def prefix(server: tuple[str, str]) -> str:
    return server[1]


ANSWER = StoredAnswer(201, b'{"id": "r1"}\xff\x00 bytes, not text')


def seats(*texts: str) -> list[SeatLabel]:
    return [SeatLabel.parse(text) for text in texts]


@pytest.fixture
def clients(url: str) -> Iterator[list[Client]]:
    """Three separate clients: three processes sharing one Redis."""
    made = [connect(url) for _ in range(3)]
    yield made
    for client in made:
        client.close()


@pytest.fixture
def client(clients: list[Client]) -> Client:
    return clients[0]


@pytest.fixture
def session_id() -> UUID:
    return uuid.uuid4()


# -- seat locks -------------------------------------------------------------------------------


@pytest.fixture
def locks(clients: list[Client], prefix: str) -> list[RedisSeatLock]:
    return [RedisSeatLock(c, prefix) for c in clients]


def test_seats_are_taken_all_or_none(locks, session_id):
    """A request with one taken seat gets none, and is told which seat was taken."""
    a, b, _ = locks
    a.acquire(session_id, seats("A2"), "owner-a", 30)
    with pytest.raises(SeatsUnavailable) as refused:
        b.acquire(session_id, seats("A1", "A2", "A3"), "owner-b", 30)
    assert refused.value.seats == ["A2"]
    b.acquire(session_id, seats("A1", "A3"), "owner-c", 30)


def test_every_taken_seat_is_named(locks, session_id):
    """The refusal lists every seat another owner has, not just the first."""
    a, b, _ = locks
    a.acquire(session_id, seats("B3", "A5"), "owner-a", 30)
    with pytest.raises(SeatsUnavailable) as refused:
        b.acquire(session_id, seats("A5", "A6", "B3"), "owner-b", 30)
    assert refused.value.seats == ["A5", "B3"]


def test_owner_may_take_its_seats_again(locks, session_id):
    """Re-acquiring by the same owner succeeds (a retried request is not turned away)."""
    a, b, _ = locks
    a.acquire(session_id, seats("A1"), "owner-a", 30)
    b.acquire(session_id, seats("A1", "A2"), "owner-a", 30)


def test_only_the_owner_releases(locks, session_id):
    """Releasing someone else's lock leaves it; the owner's release frees the seat."""
    a, b, c = locks
    a.acquire(session_id, seats("A1"), "owner-a", 30)
    b.release(session_id, seats("A1"), "owner-b")
    with pytest.raises(SeatsUnavailable):
        c.acquire(session_id, seats("A1"), "owner-c", 30)
    a.release(session_id, seats("A1"), "owner-a")
    c.acquire(session_id, seats("A1"), "owner-c", 30)


def test_lock_lapses_after_its_ttl(locks, session_id):
    """A lock is gone once its TTL has passed, without anyone releasing it."""
    a, b, _ = locks
    # A TTL a loaded machine's first cluster round trips cannot outlast before b is refused.
    a.acquire(session_id, seats("A1"), "owner-a", 1.0)
    with pytest.raises(SeatsUnavailable):
        b.acquire(session_id, seats("A1"), "owner-b", 30)
    time.sleep(1.1)
    b.acquire(session_id, seats("A1"), "owner-b", 30)


def test_lapsed_owner_cannot_release_the_next_owners_lock(locks, session_id):
    """After a lapse and a new owner, the old owner's late release leaves the new lock alone."""
    a, b, c = locks
    a.acquire(session_id, seats("A1"), "owner-a", 0.15)
    time.sleep(0.25)
    b.acquire(session_id, seats("A1"), "owner-b", 30)
    a.release(session_id, seats("A1"), "owner-a")
    with pytest.raises(SeatsUnavailable):
        c.acquire(session_id, seats("A1"), "owner-c", 30)


def test_sessions_do_not_share_seats(locks):
    """A1 of one session and A1 of another are different locks."""
    a, b, _ = locks
    a.acquire(uuid.uuid4(), seats("A1"), "owner-a", 30)
    b.acquire(uuid.uuid4(), seats("A1"), "owner-b", 30)


def test_keys_are_namespaced_and_hash_tagged_by_session(locks, client, prefix, session_id):
    """Every key starts with the namespace and carries the session as its hash tag, so one
    request's keys share a Redis Cluster slot."""
    locks[0].acquire(session_id, seats("A1", "B2"), "owner-a", 30)
    keys = sorted(key.decode() for key in client.scan_iter(match=f"{prefix}*"))
    assert keys == [
        f"{prefix}seat:{{{session_id}}}:A1",
        f"{prefix}seat:{{{session_id}}}:B2",
    ]
    assert len({key_slot(key.encode()) for key in keys}) == 1
    assert 0 < client.pttl(keys[0]) <= 30_000


def test_a_session_of_many_seats_stays_in_one_slot(locks, client, prefix, session_id):
    """Seats from every row and both ends of a row, taken in one request, all sit in the
    session's slot (on a cluster the script would be refused otherwise); and sessions spread
    over the slots, so over a cluster's masters."""
    every_row = [f"{row}{number}" for row in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for number in (1, 99)]
    for start in range(0, len(every_row), 10):
        locks[0].acquire(session_id, seats(*every_row[start : start + 10]), "owner-a", 30)
    keys = list(client.scan_iter(match=f"{prefix}seat:*"))
    assert len(keys) == len(every_row)
    assert {key_slot(key) for key in keys} == {key_slot(str(session_id).encode())}

    for _ in range(60):
        locks[1].acquire(uuid.uuid4(), seats("A1"), "owner-b", 30)
    thirds = {key_slot(key) * 3 // 16384 for key in client.scan_iter(match=f"{prefix}seat:*")}
    assert thirds == {0, 1, 2}


def test_namespace_with_braces_is_refused(client):
    """A brace in the prefix would move the hash tag off the session: refused up front."""
    for namespace in ("a{b}", "cinema{}", "x{"):
        with pytest.raises(ValueError, match="braces"):
            RedisSeatLock(client, namespace)


class CheckThenSetSeatLock:
    """The control: the same keys, but checked and set in separate round trips, with every
    racer made to finish checking before any sets (the window a real race would hit)."""

    def __init__(self, client: Client, prefix: str, racers: int):
        self._client = client
        self._prefix = prefix
        self._checked = threading.Barrier(racers)

    def acquire(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str, ttl: float):
        keys = [f"{self._prefix}seat:{{{session_id}}}:{label}" for label in labels]
        holders = self._client.mget(keys)
        self._checked.wait()
        taken = [label for label, h in zip(labels, holders, strict=True) if h not in (None, owner)]
        if taken:
            raise SeatsUnavailable(taken)
        for key in keys:
            self._client.set(key, owner, px=int(ttl * 1000))


def _winners(lock, session_id: UUID, racers: int) -> list[int]:
    def attempt(index: int) -> None:
        lock.acquire(session_id, seats("A1", "A2", "A3"), f"owner-{index}", 30)

    results = run_together(racers, attempt)
    for result in results:
        assert result is None or isinstance(result, SeatsUnavailable), result
    return [index for index, result in enumerate(results) if result is None]


def test_control_racers_checking_then_setting_all_win(client, prefix, session_id):
    """Control run: without the atomic script the race really fires (several winners)."""
    racers = 8
    lock = CheckThenSetSeatLock(client, prefix, racers)
    assert len(_winners(lock, session_id, racers)) == racers


def test_exactly_one_of_many_racing_acquirers_wins(url, prefix, session_id):
    """Many processes racing for the same seats: exactly one gets them."""
    racers = 16
    clients = [connect(url) for _ in range(4)]
    try:
        lock_per_thread = [RedisSeatLock(clients[i % 4], prefix) for i in range(racers)]

        def attempt(index: int) -> None:
            lock_per_thread[index].acquire(
                session_id, seats("A3", "A1", "A2")[: 3 - index % 2], f"owner-{index}", 30
            )

        results = run_together(racers, attempt)
    finally:
        for c in clients:
            c.close()
    assert sum(result is None for result in results) == 1
    assert all(r is None or isinstance(r, SeatsUnavailable) for r in results)


# -- the waiting room read by the seat lock's own script --------------------------------------


def _room(client: Client, prefix: str, session_id: UUID, enabled: bool) -> None:
    from datetime import UTC, datetime

    from adapters.redis import RedisWaitingLines
    from cinema_core.waiting.room import RoomSettings

    lines = RedisWaitingLines(client, prefix)
    lines.configure(session_id, RoomSettings(enabled, 600, 200), datetime.now(UTC))


def test_a_lock_asked_unless_waiting_takes_the_seats_while_no_room_is_on(locks, session_id):
    """No room, or a room switched off: the seats are taken as by a plain acquire."""
    a, b, _ = locks
    a.acquire(session_id, seats("A1"), "owner-a", 30, unless_waiting=True)
    with pytest.raises(SeatsUnavailable):
        b.acquire(session_id, seats("A1"), "owner-b", 30, unless_waiting=True)


def test_a_lock_asked_unless_waiting_takes_nothing_while_the_room_is_on(
    locks, client, prefix, session_id
):
    """The room switched on in any process: the lock says so and takes no seat; switched off
    again, the seats are taken."""
    from cinema_core.errors import WaitingRoomMayBeOn

    a, b, _ = locks
    _room(client, prefix, session_id, True)
    with pytest.raises(WaitingRoomMayBeOn):
        a.acquire(session_id, seats("A1", "A2"), "owner-a", 30, unless_waiting=True)
    assert b.locked(session_id, seats("A1", "A2")) == set()
    b.acquire(session_id, seats("A1"), "owner-b", 30)  # a buyer admitted by the room
    _room(client, prefix, session_id, False)
    with pytest.raises(SeatsUnavailable) as refused:
        a.acquire(session_id, seats("A1", "A2"), "owner-a", 30, unless_waiting=True)
    assert refused.value.seats == ["A1"]


# Switches the session's room on and answers the seat keys there are at that instant, in one
# step on the seats' node: what the race test below compares the end of the run with.
_SWITCH_ON_AND_LIST_SEATS = """
redis.call('HSET', KEYS[1], 'enabled', '1', 'rate', '600', 'max', '200')
return redis.call('KEYS', ARGV[1])
"""


class CheckThenTakeSeatLock(RedisSeatLock):
    """The control: the room read in a round trip of its own before the seats are taken (as a
    box office that asks the waiting room, then the lock), with a pause in between."""

    def __init__(self, client: Client, prefix: str, between: Callable[[], None]):
        super().__init__(client, prefix)
        self._room_client = client
        self._room_prefix = queue_prefix(prefix)
        self._between = between

    def acquire(self, session_id, labels, owner, ttl, *, unless_waiting=False):
        from adapters.redis.waiting import room_key
        from cinema_core.errors import WaitingRoomMayBeOn

        if unless_waiting:
            if self._room_client.hget(room_key(self._room_prefix, session_id), "enabled") == b"1":
                raise WaitingRoomMayBeOn()
            self._between()
        super().acquire(session_id, labels, owner, ttl)


@pytest.mark.parametrize("guarded", [False, True], ids=["control-check-then-take", "one-script"])
def test_no_seat_is_taken_unless_waiting_once_the_room_is_on(clients, prefix, session_id, guarded):
    """Buyers with no admission take seats through two processes while an admin switches the
    session's room on: every seat taken after that instant is a seat the room let through. In
    one script, none is; the control, reading the room before taking in another round trip,
    takes one after the room went on."""
    from adapters.redis.waiting import queue_prefix, room_key
    from cinema_core.errors import WaitingRoomMayBeOn

    room = room_key(queue_prefix(prefix), session_id)
    pattern = f"{prefix.rstrip(':')}:seat:{{{session_id}}}:*"
    switch_on = clients[2].register_script(_SWITCH_ON_AND_LIST_SEATS)
    at_switch: list[set[bytes]] = []
    checked, switched = threading.Event(), threading.Event()

    def switch() -> None:
        at_switch.append(set(switch_on(keys=[room], args=[pattern])))
        switched.set()

    if guarded:
        locks = [RedisSeatLock(c, prefix) for c in clients[:2]]
    else:

        def between() -> None:  # the first buyer's take waits for the switch
            if not checked.is_set():
                checked.set()
                assert switched.wait(5)

        locks = [CheckThenTakeSeatLock(c, prefix, between) for c in clients[:2]]
    taken = [0, 0]

    def buyer(index: int) -> None:
        for n in range(1, 200):
            label = seats(f"{'AB'[index]}{n}")
            try:
                locks[index].acquire(session_id, label, f"buyer-{index}", 30, unless_waiting=True)
            except WaitingRoomMayBeOn:
                return
            taken[index] += 1
            if index == 0 and n == 20 and guarded:
                switch()

    if guarded:
        run_together(2, buyer)
    else:
        threads = [threading.Thread(target=buyer, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        assert checked.wait(5)
        switch()
        for thread in threads:
            thread.join(10)
    # KEYS in a script keyed by the room: on a Cluster it runs on the session's node.
    after = set(clients[2].eval("return redis.call('KEYS', ARGV[1])", 1, room, pattern))
    late = after - at_switch[0]
    if guarded:
        assert late == set()
        assert taken[0] >= 20
    else:
        assert late, "the control run did not race"


# -- idempotency keys -------------------------------------------------------------------------


@pytest.fixture
def stores(clients: list[Client], prefix: str) -> list[RedisIdempotencyStore]:
    return [RedisIdempotencyStore(c, prefix, wait=0.5) for c in clients]


def test_answer_is_replayed_by_any_process(stores):
    """The first answer, status and exact bytes, is what a retry anywhere gets."""
    a, b, _ = stores
    assert a.begin("u1", "key-1", "fp") is None
    a.finish("u1", "key-1", "fp", ANSWER)
    assert b.begin("u1", "key-1", "fp") == ANSWER
    assert a.begin("u1", "key-1", "fp") == ANSWER


def test_key_reused_with_another_body_is_refused(stores):
    """The same key with another fingerprint is refused, while running and once answered."""
    a, b, _ = stores
    a.begin("u1", "key-1", "fp")
    with pytest.raises(IdempotencyKeyReused):
        b.begin("u1", "key-1", "other")
    a.finish("u1", "key-1", "fp", ANSWER)
    with pytest.raises(IdempotencyKeyReused):
        b.begin("u1", "key-1", "other")


def test_keys_are_per_scope(stores):
    """Two users may use the same key for their own requests."""
    a, b, _ = stores
    assert a.begin("u1", "key-1", "fp") is None
    assert b.begin("u2", "key-1", "fp") is None


def test_scope_and_key_cannot_be_confused(stores):
    """("a:b", "c") and ("a", "b:c") are different keys, whatever characters they hold."""
    a, b, _ = stores
    assert a.begin("a:b", "c", "fp") is None
    assert b.begin("a", "b:c", "fp") is None


def test_concurrent_duplicates_run_once_and_share_the_answer(url, prefix):
    """Duplicates racing in from many processes: one runs, the others wait for its answer."""
    clients = [connect(url) for _ in range(4)]
    executions: list[int] = []
    try:
        stores = [RedisIdempotencyStore(clients[i % 4], prefix, wait=5) for i in range(8)]

        def request(index: int) -> StoredAnswer:
            found = stores[index].begin("u1", "key-1", "fp")
            if found is not None:
                return found
            executions.append(index)
            time.sleep(0.2)  # the request's work, during which the duplicates arrive
            stores[index].finish("u1", "key-1", "fp", ANSWER)
            return ANSWER

        results = run_together(8, request)
    finally:
        for c in clients:
            c.close()
    assert len(executions) == 1
    assert results == [ANSWER] * 8


def test_duplicate_gives_up_waiting_after_the_bound(stores):
    """A duplicate waits at most its bound for a first request that does not finish."""
    a, b, _ = stores
    a.begin("u1", "key-1", "fp")
    started = time.monotonic()
    with pytest.raises(IdempotencyInProgress):
        b.begin("u1", "key-1", "fp")
    assert 0.4 <= time.monotonic() - started < 1.5


def test_waiting_duplicate_runs_the_request_once_abandoned(stores):
    """If the first request is abandoned, the waiting duplicate runs it instead."""
    a, b, _ = stores
    a.begin("u1", "key-1", "fp")
    timer = threading.Timer(0.1, a.abandon, args=("u1", "key-1"))
    timer.start()
    try:
        assert b.begin("u1", "key-1", "fp") is None
    finally:
        timer.join()


def test_waiting_duplicate_gets_the_answer_when_it_comes(stores):
    """A duplicate arriving mid-request gets the answer the first one stores."""
    a, b, _ = stores
    a.begin("u1", "key-1", "fp")
    timer = threading.Timer(0.1, a.finish, args=("u1", "key-1", "fp", ANSWER))
    timer.start()
    try:
        assert b.begin("u1", "key-1", "fp") == ANSWER
    finally:
        timer.join()


def test_claim_of_a_crashed_process_is_taken_over_after_its_lease(clients, prefix):
    """A claim whose process died stops blocking the key once its lease runs out."""
    # The lease is long enough that a slow machine's first cluster round trips (slot discovery
    # on a fresh client) cannot outlast it before the duplicate is refused.
    lease = timedelta(seconds=1.5)
    crashed = RedisIdempotencyStore(clients[0], prefix, wait=0.05, lease=lease, renew_every=None)
    other = RedisIdempotencyStore(clients[1], prefix, wait=0.05, lease=lease)
    assert crashed.begin("u1", "key-1", "fp") is None
    with pytest.raises(IdempotencyInProgress):
        other.begin("u1", "key-1", "fp")
    time.sleep(1.6)
    assert other.begin("u1", "key-1", "fp") is None


@pytest.mark.parametrize("renewed", [False, True], ids=["control-unrenewed", "renewed"])
def test_a_live_claimant_keeps_its_claim_past_the_lease(clients, prefix, renewed):
    """A claimant still running renews its short lease, so no duplicate takes the request over
    however long it runs; control: unrenewed (a process that died), the duplicate takes over."""
    holder = RedisIdempotencyStore(
        clients[0],
        prefix,
        lease=timedelta(milliseconds=400),
        renew_every=0.05 if renewed else None,
    )
    duplicate = RedisIdempotencyStore(clients[1], prefix, wait=0.05)
    assert holder.begin("u1", "key-1", "fp") is None
    time.sleep(1.2)
    if renewed:
        with pytest.raises(IdempotencyInProgress):
            duplicate.begin("u1", "key-1", "fp")
        holder.finish("u1", "key-1", "fp", ANSWER)
        assert duplicate.begin("u1", "key-1", "fp") == ANSWER
    else:
        assert duplicate.begin("u1", "key-1", "fp") is None


def test_a_closed_store_stops_renewing_its_claims(clients, prefix):
    """Closing a store that still holds a claim ends its renewal thread, so the claim lapses
    with its lease as a dead process's does."""
    before = set(threading.enumerate())
    holder = RedisIdempotencyStore(
        clients[0], prefix, lease=timedelta(milliseconds=400), renew_every=0.05
    )
    duplicate = RedisIdempotencyStore(clients[1], prefix, wait=0.05)
    assert holder.begin("u1", "key-1", "fp") is None
    renewing = [thread for thread in threading.enumerate() if thread not in before]
    assert renewing, "no renewal thread was started"
    holder.close()
    assert not any(thread.is_alive() for thread in renewing)
    time.sleep(1.2)
    assert duplicate.begin("u1", "key-1", "fp") is None


def test_late_abandon_does_not_drop_the_claim_that_took_over(clients, prefix):
    """A process whose lease ran out cannot abandon the claim another process took over."""
    # Only the slow process's lease is short: the claim that takes over must outlive the
    # rest of the test however loaded the machine (a claim's lease is set by its claimer).
    slow = RedisIdempotencyStore(
        clients[0], prefix, wait=0.05, lease=timedelta(milliseconds=150), renew_every=None
    )
    other, third = (RedisIdempotencyStore(c, prefix, wait=0.05) for c in clients[1:])
    slow.begin("u1", "key-1", "fp")
    time.sleep(0.2)
    assert other.begin("u1", "key-1", "fp") is None
    slow.abandon("u1", "key-1")
    with pytest.raises(IdempotencyInProgress):
        third.begin("u1", "key-1", "fp")


def test_abandon_never_forgets_an_answer(stores):
    """Once answered, a key keeps its answer whatever else happens to it."""
    a, b, _ = stores
    a.begin("u1", "key-1", "fp")
    a.finish("u1", "key-1", "fp", ANSWER)
    b.abandon("u1", "key-1")
    assert b.begin("u1", "key-1", "fp") == ANSWER


def test_keys_are_kept_for_at_least_a_day(stores, client, prefix):
    """Claims and answers live ≥ 24 h in Redis, under the namespace."""
    a, _, _ = stores
    a.begin("u1", "key-1", "fp")
    a.begin("u1", "key-2", "fp")
    a.finish("u1", "key-2", "fp", ANSWER)
    keys = list(client.scan_iter(match=f"{prefix}idem:*"))
    assert len(keys) == 2
    for key in keys:
        assert client.pttl(key) > 24 * 3600 * 1000 - 60_000


# -- token buckets ----------------------------------------------------------------------------


@pytest.fixture
def limiters(clients: list[Client], prefix: str) -> list[RedisRateLimiter]:
    return [RedisRateLimiter(c, prefix) for c in clients]


def test_burst_is_served_then_the_wait_is_exact(limiters):
    """A full bucket serves ``burst`` at once; then the wait is the time to the next token."""
    limiter = limiters[0]
    assert [limiter.take("u1", 0.001, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    # One token per 1000 s: the next is 1000 s away, less the instants that passed meanwhile.
    assert limiter.take("u1", 0.001, 3) == pytest.approx(1000, abs=0.1)


def test_bucket_refills_at_the_rate(limiters):
    """Tokens come back at ``rate`` per second, measured on Redis' clock."""
    limiter = limiters[0]
    assert limiter.take("u1", 10, 1) == 0.0
    wait = limiter.take("u1", 10, 1)
    assert 0.08 < wait <= 0.1
    time.sleep(wait + 0.02)
    assert limiter.take("u1", 10, 1) == 0.0


def test_bucket_never_holds_more_than_the_burst(limiters):
    """However long a bucket rests, it holds at most ``burst`` tokens."""
    limiter = limiters[0]
    limiter.take("u1", 5, 2)
    time.sleep(0.5)  # 2.5 tokens' worth of time
    assert [limiter.take("u1", 5, 2) for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("u1", 5, 2) > 0.15


def test_bucket_is_shared_by_every_process(limiters):
    """Takes from several processes drain one bucket."""
    a, b, c = limiters
    assert [a.take("u1", 0.001, 2), b.take("u1", 0.001, 2)] == [0.0, 0.0]
    # 1000 s to the next token, less the time since the first take: a bucket of c's own would
    # answer 0. Loose by seconds, for a loaded machine's first round trips of a cluster client.
    assert c.take("u1", 0.001, 2) > 990


def test_buckets_are_per_key(limiters):
    """One key's empty bucket does not limit another key."""
    limiter = limiters[0]
    limiter.take("u1", 0.001, 1)
    assert limiter.take("u1", 0.001, 1) > 0
    assert limiter.take("u2", 0.001, 1) == 0.0


def test_bucket_is_forgotten_once_it_would_be_full(limiters, client, prefix):
    """Redis drops a bucket when it would have refilled, so idle keys cost no memory."""
    limiters[0].take("u1", 10, 5)
    (key,) = client.scan_iter(match=f"{prefix}rate:*")
    assert 0 < client.pttl(key) <= 100 + 1000


def test_every_bucket_of_a_take_all_is_forgotten_once_it_would_be_full(limiters, client, prefix):
    """Each bucket one call took from expires by itself, at its own rate."""
    limiters[0].take_all([("u1", 10, 5), ("u2", 1, 3)])
    ttls = {key: client.pttl(key) for key in client.scan_iter(match=f"{prefix}rate:*")}
    assert sorted(ttls) == [f"{prefix}rate:u1".encode(), f"{prefix}rate:u2".encode()]
    assert 0 < ttls[f"{prefix}rate:u1".encode()] <= 100 + 1000
    assert 1000 < ttls[f"{prefix}rate:u2".encode()] <= 1000 + 1000


def test_rate_must_be_positive(limiters, client, prefix):
    """A bucket that never refills is refused rather than dividing by zero in Redis, before
    any bucket of the call is taken from."""
    with pytest.raises(ValueError, match="rate"):
        limiters[0].take("u1", 0, 5)
    with pytest.raises(ValueError, match="rate"):
        limiters[0].take_all([("u1", 1, 5), ("u2", 0, 5)])
    assert list(client.scan_iter(match=f"{prefix}rate:*")) == []


def test_client_text_of_any_characters_is_a_valid_key(limiters, stores):
    """User ids and keys come from clients: braces, colons, emoji and lone surrogates work."""
    odd = "u{1}:🎬\udc80"
    assert limiters[0].take(odd, 0.001, 1) == 0.0
    assert limiters[1].take(odd, 0.001, 1) > 0
    assert stores[0].begin(odd, odd, "fp") is None
    stores[0].finish(odd, odd, "fp", ANSWER)
    assert stores[1].begin(odd, odd, "fp") == ANSWER


# -- leases: a tenth of a burst taken at once, spent by one process ----------------------------


@pytest.fixture
def still_limiters(clients: list[Client], prefix: str) -> list[RedisRateLimiter]:
    """Limiters whose leases never lapse by themselves: a loaded machine's pause cannot."""
    return [RedisRateLimiter(c, prefix, monotonic=lambda: 100.0) for c in clients]


def test_processes_spending_leases_pass_the_burst_and_no_more(still_limiters):
    """Two processes taking in turn from a bucket of 20 (leases of 2): 20 pass between them,
    then both are refused."""
    a, b = still_limiters[:2]
    passed = [limiter.take("u1", 0.001, 20) == 0 for _ in range(11) for limiter in (a, b)]
    assert passed == [True] * 20 + [False] * 2


def test_a_lease_not_spent_within_its_second_lapses(clients, prefix):
    """A process's leftover token is not spent once its second is over (the bucket may have
    refilled meanwhile): of a bucket of 20, 19 pass."""
    now = [100.0]
    limiter = RedisRateLimiter(clients[0], prefix, monotonic=lambda: now[0])
    assert limiter.take("u1", 0.001, 20) == 0  # one spent, one leased
    now[0] += 1.0
    passed = [limiter.take("u1", 0.001, 20) == 0 for _ in range(20)]
    assert passed == [True] * 18 + [False] * 2


def test_a_lease_is_spent_until_its_second_is_over(clients, prefix):
    """Just before its second is over the leased token still passes: of a bucket of 20, 20
    pass."""
    now = [100.0]
    limiter = RedisRateLimiter(clients[0], prefix, monotonic=lambda: now[0])
    assert limiter.take("u1", 0.001, 20) == 0
    now[0] += 0.999
    passed = [limiter.take("u1", 0.001, 20) == 0 for _ in range(20)]
    assert passed == [True] * 19 + [False]


def test_a_refused_take_all_gives_back_what_it_spent_from_later_leases(still_limiters):
    """Refused at its first bucket, take_all leaves the second bucket as it was, the token it
    had spent from that bucket's lease included."""
    limiter = still_limiters[0]
    limiter.take("second", 0.001, 20)  # one spent, one leased
    limiter.take("first", 0.001, 1)
    assert limiter.take_all([("first", 0.001, 1), ("second", 0.001, 20)]) > 0
    assert [limiter.take("second", 0.001, 20) == 0 for _ in range(20)] == [True] * 19 + [False]


@pytest.mark.parametrize("guarded", [False, True], ids=["control-unguarded", "guarded"])
def test_takers_racing_on_one_lease_spend_each_token_once(still_limiters, guarded):
    """Twenty takers at once on one process's lease of a bucket of 20: with the lock, 20 pass
    in all. The control run, its lock off and two takers made to read the lease together,
    spends one token twice."""
    from tests.unguarded_leases import unguarded

    limiter = still_limiters[0]
    assert limiter.take("u1", 0.001, 20) == 0  # one spent, one leased
    racing = limiter if guarded else unguarded(limiter, 2)
    waits = run_together(2 if not guarded else 20, lambda _: racing.take("u1", 0.001, 20))
    later = [racing.take("u1", 0.001, 20) == 0 for _ in range(20)]
    passed = 1 + sum(1 for wait in waits if wait == 0) + sum(later)
    if guarded:
        assert passed == 20
    else:
        assert passed == 21, "the control run did not race"


def test_leases_of_many_keys_are_swept_once_their_second_is_over(clients, prefix, monkeypatch):
    """Leases of keys no longer asked for do not pile up in a process: past the bound, those
    whose second is over are dropped, and a live lease is still spent."""
    import adapters.redis.rate_limit as rate_limit

    monkeypatch.setattr(rate_limit, "LEASES_KEPT", 5)
    now = [100.0]
    limiter = RedisRateLimiter(clients[0], prefix, monotonic=lambda: now[0])
    for n in range(6):
        limiter.take(f"old{n}", 0.001, 20)
    now[0] += 1.5
    assert limiter.take("live", 0.001, 20) == 0  # leases one more, sweeps the six old ones
    assert len(limiter._leases) == 1
    passed = [limiter.take("live", 0.001, 20) == 0 for _ in range(20)]
    assert passed == [True] * 19 + [False]
