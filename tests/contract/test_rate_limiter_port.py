"""The RateLimiter port: token buckets of ``burst`` tokens refilled at ``rate`` per second."""

from __future__ import annotations

from typing import Any

import pytest

from tests.concurrency import run_together
from tests.contract.conftest import TimePasses


def test_a_full_bucket_serves_a_burst(rate_limiter: Any) -> None:
    """burst requests in a row pass at once."""
    assert [rate_limiter.take("k", 1.0, 5) for _ in range(5)] == [0.0] * 5


def test_an_empty_bucket_says_how_long_to_wait(rate_limiter: Any) -> None:
    """Past the burst, take answers the seconds until the next token (about 1 / rate)."""
    for _ in range(3):
        rate_limiter.take("k", 2.0, 3)
    wait = rate_limiter.take("k", 2.0, 3)
    assert wait == pytest.approx(0.5, abs=0.1)


def test_buckets_are_per_key(rate_limiter: Any) -> None:
    """One client's exhausted bucket does not touch another's."""
    rate_limiter.take("a", 1.0, 1)
    assert rate_limiter.take("a", 1.0, 1) > 0
    assert rate_limiter.take("b", 1.0, 1) == 0


def test_tokens_come_back_with_time(rate_limiter: Any, time_passes: TimePasses) -> None:
    """After 1 / rate seconds one more request passes, and never more than the burst."""
    rate = 1.0 if time_passes.manual else 10.0
    for _ in range(2):
        rate_limiter.take("k", rate, 2)
    assert rate_limiter.take("k", rate, 2) > 0
    time_passes.wait(1 / rate)
    assert rate_limiter.take("k", rate, 2) == 0
    time_passes.wait(3 / rate)  # more than enough to refill: the bucket caps at the burst
    assert [rate_limiter.take("k", rate, 2) == 0 for _ in range(3)] == [True, True, False]


def test_concurrent_takers_never_exceed_the_burst(rate_limiter: Any) -> None:
    """Twenty takers at once on a bucket of five: exactly five pass."""
    waits = run_together(20, lambda _: rate_limiter.take("shared", 0.001, 5))
    assert sum(1 for wait in waits if wait == 0) == 5


# -- several buckets in one call (a request's client and user limits) -------------------------


def test_take_all_takes_a_token_from_every_bucket(rate_limiter: Any) -> None:
    """With a token in each bucket, take_all answers 0 and each bucket has given one."""
    assert rate_limiter.take_all([("a", 0.001, 2), ("b", 0.001, 1)]) == 0.0
    assert rate_limiter.take("a", 0.001, 2) == 0.0
    assert rate_limiter.take("a", 0.001, 2) > 0
    assert rate_limiter.take("b", 0.001, 1) > 0


def test_take_all_stops_at_the_first_empty_bucket(rate_limiter: Any) -> None:
    """The buckets before the empty one give their token, those after it are not touched,
    and the wait is the empty bucket's (b refills in 2 s, a and c would take 1000 s)."""
    rate_limiter.take("b", 0.5, 1)
    wait = rate_limiter.take_all([("a", 0.001, 2), ("b", 0.5, 1), ("c", 0.001, 1)])
    assert wait == pytest.approx(2.0, abs=0.1)
    assert [rate_limiter.take("a", 0.001, 2) == 0 for _ in range(2)] == [True, False]
    assert rate_limiter.take("c", 0.001, 1) == 0.0


def test_take_all_passes_again_once_the_empty_bucket_refills(
    rate_limiter: Any, time_passes: TimePasses
) -> None:
    """After the wait take_all answered, the same buckets pass again."""
    rate = 1.0 if time_passes.manual else 10.0
    buckets = [("client", 1000.0, 1000), ("user", rate, 1)]
    assert rate_limiter.take_all(buckets) == 0.0
    wait = rate_limiter.take_all(buckets)
    assert 0 < wait <= 1 / rate
    time_passes.wait(wait)
    assert rate_limiter.take_all(buckets) == 0.0


def test_concurrent_take_alls_stop_at_the_same_empty_bucket(rate_limiter: Any) -> None:
    """Twenty callers of take_all at once, their first bucket holding five tokens: five pass,
    and only those five take from the bucket after it."""
    buckets = [("first", 0.001, 5), ("second", 0.001, 20)]
    waits = run_together(20, lambda _: rate_limiter.take_all(buckets))
    assert sum(1 for wait in waits if wait == 0) == 5
    left = [rate_limiter.take("second", 0.001, 20) == 0 for _ in range(16)]
    assert left == [True] * 15 + [False]
