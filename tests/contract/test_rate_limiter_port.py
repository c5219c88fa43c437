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
