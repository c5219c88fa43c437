"""Closing a process's services ends the threads that renew its Idempotency-Key claims."""

from __future__ import annotations

import threading

import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.mark.parametrize("with_redis", [False, True], ids=["database", "database-and-redis"])
def test_closing_the_services_stops_renewing_idempotency_claims(
    migrated_postgres_url: str, redis_url: str, redis_prefix: str, with_redis: bool
) -> None:
    """A claim still held when the services close is renewed no longer: no thread is left."""
    settings = Settings(
        database_url=migrated_postgres_url,
        redis_url=redis_url if with_redis else None,
        namespace=redis_prefix.rstrip(":"),
    )
    before = set(threading.enumerate())
    services = bootstrap(settings)
    try:
        assert services.idempotency.begin("u1", "k", "fp") is None
        renewing = [
            thread
            for thread in threading.enumerate()
            if thread not in before and thread.name == "cinema-idem"
        ]
        assert renewing, "no renewal thread was started"
    finally:
        services.close()
    assert not any(thread.is_alive() for thread in renewing)
