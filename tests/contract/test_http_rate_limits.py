"""HTTP contract: token-bucket rate limits per user and per client address."""

from __future__ import annotations

from collections.abc import Callable

from tests.contract.http_app import Api, error_code

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
