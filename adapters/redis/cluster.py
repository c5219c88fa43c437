"""A Redis Cluster named by ``redis+cluster://host:port`` (any node; more after commas).

The client is redis-py's own ``RedisCluster``; what this module adds is *when* it is made.
``RedisCluster`` asks a node for the slot map as it is constructed, so a process that started
while the cluster was unreachable would have no client at all. ``ClusterClient`` makes it on
first use instead, and again on a later use if that failed: the box office starts degraded and
recovers without a restart, as it does with one Redis server.
"""

from __future__ import annotations

import threading
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.commands.core import Script
from redis.connection import Encoder  # type: ignore[attr-defined]  # redis-py's, not re-exported
from redis.retry import Retry

SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme in SCHEMES


def parse_cluster_url(url: str) -> tuple[str, list[tuple[str, int]]]:
    """The first node as a plain ``redis://`` (or ``rediss://``) URL carrying the credentials
    and options, and every node named as ``(host, port)``; ``ValueError`` if it cannot be."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"not a Redis Cluster URL (redis+cluster://host:port): {url!r}")
    credentials, _, hosts = parts.netloc.rpartition("@")
    nodes: list[tuple[str, int]] = []
    for host_port in hosts.split(","):
        host, _, port = host_port.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"a Redis Cluster URL names its nodes as host:port, not {host_port!r}")
        nodes.append((host.strip("[]"), int(port)))
    if parts.path not in ("", "/", "/0"):
        raise ValueError("a Redis Cluster has database 0 only: leave the path out")
    first = hosts.split(",")[0]
    netloc = f"{credentials}@{first}" if credentials else first
    return urlunsplit((SCHEMES[parts.scheme], netloc, "", parts.query, "")), nodes


class ClusterClient:
    """A ``RedisCluster`` made on first use; commands are passed through to it.

    Every attribute not defined here is the cluster client's, so adapters written for a
    ``Redis`` client (scripts, ``get``, ``scan_iter`` …) run unchanged. An attempt to reach
    the cluster that fails raises redis-py's own error (the adapters translate it), and the
    next use tries again.
    """

    def __init__(self, url: str, **options: Any):
        self._url, nodes = parse_cluster_url(url)
        # redis-py leaves ClusterNode, Encoder and get_nodes untyped.
        self._others = [ClusterNode(host, port) for host, port in nodes[1:]]  # type: ignore[no-untyped-call]
        self._options = options
        self._client: RedisCluster | None = None
        self._mutex = threading.Lock()

    def cluster(self) -> RedisCluster:
        """The cluster client, made now if it has not been yet."""
        client = self._client
        if client is not None:
            return client
        with self._mutex:
            if self._client is None:
                self._client = RedisCluster(
                    url=self._url,
                    startup_nodes=list(self._others),
                    # One immediate retry, after redis-py has refreshed its slot map (it does
                    # so on every connection error, MOVED or CLUSTERDOWN): enough to follow a
                    # failover that has happened, not so many that a failover in progress
                    # stalls the request; the box office falls back to the database meanwhile.
                    retry=Retry(NoBackoff(), 1),
                    # Serve the slots that have a master even while others have none.
                    require_full_coverage=False,
                    **self._options,
                )
            return self._client

    def register_script(self, script: str) -> Script:
        # Registering only computes the script's digest: it must not reach the cluster.
        # Script only reads the client's encoder (get_encoder), which this class has.
        return Script(cast("RedisCluster", self), script)

    def get_encoder(self) -> Encoder:
        """How scripts are encoded to compute their digests (the client's defaults)."""
        return Encoder("utf-8", "strict", False)  # type: ignore[no-untyped-call]

    def ping(self) -> bool:
        """Whether every master answers: each slot's writes go to its master alone."""
        return bool(self.cluster().ping(target_nodes=RedisCluster.PRIMARIES))

    def close(self) -> None:
        with self._mutex:
            client, self._client = self._client, None
        if client is None:
            return
        nodes = client.get_nodes()  # type: ignore[no-untyped-call]
        client.close()
        # RedisCluster.close leaves the nodes' pools open (a SCAN's connections stay behind),
        # so close their sockets here rather than leave them to the garbage collector.
        for node in nodes:
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            # Our own attributes, asked for before __init__ set them (copy, pickle): never
            # the cluster's, and never a reason to connect.
            raise AttributeError(name)
        return getattr(self.cluster(), name)
