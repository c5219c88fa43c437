"""Seat locks in Redis, shared by every process: one key per seat, holding its owner."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from cinema_core.errors import SeatsUnavailable
from cinema_core.rooms.seats import SeatLabel

from .client import Client, namespaced, translated

# All the seats of a request in one script, so taking them is atomic: no other client runs
# between the check and the sets, and there is no lock order to get wrong. Returns the
# 1-based positions of the keys another owner has; empty means they are all ours now.
_ACQUIRE = """
local taken = {}
for i, key in ipairs(KEYS) do
    local holder = redis.call('GET', key)
    if holder and holder ~= ARGV[1] then
        taken[#taken + 1] = i
    end
end
if #taken == 0 then
    for _, key in ipairs(KEYS) do
        redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    end
end
return taken
"""

# Compare-and-delete: a lock that lapsed and was taken by someone else is not ours to drop.
_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
    if redis.call('GET', key) == ARGV[1] then
        released = released + redis.call('DEL', key)
    end
end
return released
"""


class RedisSeatLock:
    """The ``SeatLock`` port in Redis; all-or-none, with owners and TTLs on Redis' clock.

    Keys are ``{namespace}:seat:{<session id>}:<label>``: the braces put every seat of a
    session in one hash slot, so the scripts also run on Redis Cluster.
    """

    def __init__(self, client: Client, namespace: str = "cinema"):
        self._client = client
        self._prefix = f"{namespaced(namespace)}:seat"
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    def acquire(
        self, session_id: UUID, labels: Sequence[SeatLabel], owner: str, ttl: float
    ) -> None:
        """Take every seat for ``owner`` for ``ttl`` seconds, or none of them."""
        if not labels:
            return
        # Redis counts a key expired once its deadline, in whole milliseconds, is strictly
        # past: up to 1 ms after the TTL. One millisecond less makes the lock lapse no later
        # than ``ttl`` (as the in-memory lock does) and no more than 1 ms sooner.
        ttl_ms = max(1, round(ttl * 1000) - 1)
        with translated("seat lock acquire"):
            taken = self._acquire(keys=self._keys(session_id, labels), args=[owner, ttl_ms])
        if taken:
            raise SeatsUnavailable([labels[int(position) - 1] for position in taken])

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        """Drop those of the locks that ``owner`` still has."""
        if not labels:
            return
        with translated("seat lock release"):
            self._release(keys=self._keys(session_id, labels), args=[owner])

    def locked(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        """Those of the seats some owner has a lock on now (one MGET; a lapsed key is gone)."""
        if not labels:
            return set()
        with translated("seat lock read"):
            owners = self._client.mget(self._keys(session_id, labels))
        return {label for label, owner in zip(labels, owners, strict=True) if owner is not None}

    def _keys(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[str]:
        return [f"{self._prefix}:{{{session_id}}}:{label}" for label in labels]
