"""The one Redis client a process shares, and the translation of its failures into ours.

Timeouts are short on purpose: Redis only speeds the box office up, so when it is slow or gone a
request must give up on it quickly and fall back, never hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from cinema_core.errors import BackendUnavailable

CONNECT_TIMEOUT = 0.25
READ_TIMEOUT = 0.5
HEALTH_CHECK_INTERVAL = 10


def connect(url: str) -> redis.Redis:
    """A pooled client for ``url``; it connects lazily, on the first command."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=READ_TIMEOUT,
        health_check_interval=HEALTH_CHECK_INTERVAL,
        # One immediate retry on a broken connection covers a pooled socket that a Redis
        # restart closed; more (redis-py's default is ten, with back-off) would turn an outage
        # into a stall. Timeouts are not retried: the server is slow, asking again won't help.
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn any failure of the driver inside the block into ``BackendUnavailable``."""
    try:
        yield
    except (redis.RedisError, OSError) as error:
        raise BackendUnavailable(f"redis: {action} failed: {error}") from error


def ping(client: redis.Redis) -> None:
    """Raise ``BackendUnavailable`` unless Redis answers."""
    with translated("ping"):
        client.ping()


def namespaced(namespace: str) -> str:
    """The namespace as a key prefix, whether or not it came with its trailing colon."""
    return namespace.rstrip(":")
