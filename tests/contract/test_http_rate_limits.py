"""HTTP contract: token-bucket rate limits per user and per client address."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from tests.contract.http_app import Api, error_code
from tests.redis_cluster import RedisServer

OpenApi = Callable[..., Api]


def test_user_over_the_limit_gets_429_with_retry_after(open_http_api: OpenApi) -> None:
    """Past the user's burst: 429 rate_limited with Retry-After in whole seconds (≥ 1)."""
    api = open_http_api(rate_per_user=0.5, burst_per_user=2)
    path = "/users/alice/purchases"
    assert [api.get(path, headers=api.auth()).status_code for _ in range(2)] == [200, 200]
    limited = api.get(path, headers=api.auth())
    assert (limited.status_code, error_code(limited)) == (429, "rate_limited")
    assert limited.headers["retry-after"] == "2"
    bob = api.get("/users/bob/purchases", headers=api.auth("bob"))
    assert bob.status_code == 200, "other users are not affected"
    api.clock.advance(2)
    assert api.get(path, headers=api.auth()).status_code == 200


def test_client_address_is_limited_whatever_the_headers_claim(open_http_api: OpenApi) -> None:
    """The client limit keys on the socket's address; X-Forwarded-For does not escape it."""
    api = open_http_api(rate_per_client=1, burst_per_client=3)
    statuses = [
        api.get("/sessions", headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert int(api.get("/sessions").headers["retry-after"]) >= 1


def test_health_and_ready_are_never_limited(open_http_api: OpenApi) -> None:
    """Probes keep answering however hard they are hit."""
    api = open_http_api(rate_per_client=1, burst_per_client=1)
    assert {api.get("/health").status_code for _ in range(5)} == {200}
    assert {api.get("/ready").status_code for _ in range(5)} == {200}


def test_rate_zero_switches_a_limit_off(open_http_api: OpenApi) -> None:
    """With rate 0 there is no limit at all."""
    api = open_http_api(rate_per_user=0, burst_per_user=1, rate_per_client=0, burst_per_client=1)
    assert {
        api.get("/users/alice/purchases", headers=api.auth()).status_code for _ in range(20)
    } == {200}


def test_a_bad_token_spends_the_client_limit_and_is_told_429_past_it(
    open_http_api: OpenApi,
) -> None:
    """A client under its limit is told the token is bad (401); past it, 429 like any other
    request: a flood of bad tokens stays limited, and a good token from there is turned away."""
    api = open_http_api(rate_per_client=1, burst_per_client=2)
    bad = {"Authorization": "Bearer not-a-token"}
    statuses = [api.get("/users/alice/purchases", headers=bad).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert api.get("/users/alice/purchases").status_code == 429, "no token at all"
    assert api.get("/users/alice/purchases", headers=api.auth()).status_code == 429
    api.clock.advance(1)
    assert api.get("/users/alice/purchases", headers=bad).status_code == 401


def test_a_forbidden_role_spends_the_client_limit_not_the_users(open_http_api: OpenApi) -> None:
    """403 takes from the client's bucket (429 past it) but not from the user's."""
    api = open_http_api(
        rate_per_client=1, burst_per_client=2, rate_per_user=0.001, burst_per_user=1
    )
    statuses = [api.get("/admin/events", headers=api.auth()).status_code for _ in range(3)]
    assert statuses == [403, 403, 429]
    api.clock.advance(1)
    assert api.get("/users/alice/purchases", headers=api.auth()).status_code == 200


def test_a_client_over_its_limit_leaves_the_users_bucket_alone(open_http_api: OpenApi) -> None:
    """The client's limit answers first, with its own Retry-After, and takes nothing from the
    user's; the user's limit answers with the user's."""
    api = open_http_api(rate_per_client=1, burst_per_client=1, rate_per_user=0.25, burst_per_user=2)
    path = "/users/alice/purchases"
    assert api.get(path, headers=api.auth()).status_code == 200
    by_client = api.get(path, headers=api.auth())
    assert (by_client.status_code, by_client.headers["retry-after"]) == (429, "1")
    api.clock.advance(1)
    assert api.get(path, headers=api.auth()).status_code == 200, "the user had a token left"
    api.clock.advance(1)
    by_user = api.get(path, headers=api.auth())
    assert (by_user.status_code, by_user.headers["retry-after"]) == (429, "2")


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of this test's own, whose command counters count this test's commands only."""
    with RedisServer(17201) as server:
        yield server


@pytest.mark.redis
def test_a_signed_in_request_takes_both_limits_in_one_redis_call(
    open_http_api: OpenApi, own_redis: RedisServer
) -> None:
    """Over Redis, the client's and the user's buckets cost a request one script call, and the
    user's limit is told from inside it (bursts under ten: nothing is leased ahead)."""
    api = open_http_api(
        redis_url=own_redis.url,
        rate_per_client=1000,
        burst_per_client=9,
        rate_per_user=0.001,
        burst_per_user=3,
    )
    path = "/users/alice/purchases"
    assert api.get(path, headers=api.auth()).status_code == 200  # Redis learns the script
    before = Counter(own_redis.commands())
    statuses = [api.get(path, headers=api.auth()).status_code for _ in range(3)]
    ran = Counter(own_redis.commands()) - before
    assert statuses == [200, 200, 429]
    # One script call a request (the INFO is the count's own), which reads Redis' clock once
    # and reads, writes and sets the expiry of both buckets.
    assert ran == Counter(evalsha=3, time=3, hmget=6, hset=6, pexpire=6, info=1)


@pytest.mark.redis
def test_a_busy_clients_tokens_are_leased_a_tenth_of_its_burst_at_a_time(
    open_http_api: OpenApi, own_redis: RedisServer
) -> None:
    """A process takes a tenth of a bucket's burst from Redis at once and spends it without a
    round trip: twenty requests of one client cost two script calls, and the limit holds."""
    api = open_http_api(
        redis_url=own_redis.url, rate_per_client=0.001, burst_per_client=100, rate_per_user=0
    )
    assert api.get("/sessions").status_code == 200  # Redis learns the script; 9 tokens left
    before = Counter(own_redis.commands())
    statuses = [api.get("/sessions").status_code for _ in range(20)]
    ran = Counter(own_redis.commands()) - before
    assert statuses == [200] * 20
    assert ran["evalsha"] == 2
    statuses = [api.get("/sessions").status_code for _ in range(80)]
    assert statuses == [200] * 79 + [429]
