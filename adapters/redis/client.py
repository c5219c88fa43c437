"""The one Redis client a process shares, and the translation of its failures into ours.

Timeouts are short on purpose: Redis only speeds the box office up, so when it is slow or gone a
request must give up on it quickly and fall back, never hang.

``redis://`` (or ``rediss://``) names one server; ``redis+cluster://host:port`` a Redis Cluster
(see ``cluster.py``). The adapters work on either: every script they run on a cluster touches
keys of one hash slot only (the rate limiter, which takes a request's buckets in one script on
one server, takes them one script each there).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

from cinema_core.errors import BackendUnavailable

from .cluster import ClusterClient, is_cluster_url

CONNECT_TIMEOUT = 0.25
READ_TIMEOUT = 0.5
HEALTH_CHECK_INTERVAL = 10

# What the adapters are handed: one server's client, or a cluster's.
Client = redis.Redis | ClusterClient


def connect(url: str) -> Client:
    """A pooled client for ``url``; it connects lazily, on the first command."""
    if is_cluster_url(url):
        return ClusterClient(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=READ_TIMEOUT,
            health_check_interval=HEALTH_CHECK_INTERVAL,
        )
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
    # RedisClusterException is not a RedisError: the cluster client raises it when no node
    # gives it a slot map, or a slot has no master.
    except (redis.RedisError, redis.exceptions.RedisClusterException, OSError) as error:
        raise BackendUnavailable(f"redis: {action} failed: {error}") from error


def ping(client: Client) -> None:
    """Raise ``BackendUnavailable`` unless Redis (on a cluster: every master) answers."""
    with translated("ping"):
        client.ping()


def namespaced(namespace: str) -> str:
    """The namespace as a key prefix, whether or not it came with its trailing colon.

    Braces are refused: Redis Cluster hashes only what the first ``{…}`` of a key encloses,
    so a brace in the prefix would move (or, as ``{}``, switch off) the session's hash tag and
    a seat script's keys could land in different slots.
    """
    if "{" in namespace or "}" in namespace:
        raise ValueError(f"a Redis key namespace may not contain braces: {namespace!r}")
    return namespace.rstrip(":")
