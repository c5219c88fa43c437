"""Seat locks in Redis, shared by every process: one key per seat, holding its owner."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from cinema_core.errors import SeatsUnavailable, WaitingRoomMayBeOn
from cinema_core.rooms.seats import SeatLabel

from .client import Client, namespaced, translated
from .waiting import queue_prefix, room_key

# All the seats of a request in one script, so taking them is atomic: no other client runs
# between the check and the sets, and there is no lock order to get wrong. Returns the
# 1-based positions of the seats another owner has; empty means they are all ours now. The
# seats' keys start at KEYS[first].
_TAKE_SEATS = """
local taken = {}
for i = first, #KEYS do
    local holder = redis.call('GET', KEYS[i])
    if holder and holder ~= ARGV[1] then
        taken[#taken + 1] = i - first + 1
    end
end
if #taken == 0 then
    for i = first, #KEYS do
        redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
    end
end
return taken
"""
_ACQUIRE = "local first = 1\n" + _TAKE_SEATS
# The same with the session's waiting room read first (KEYS[1], its settings hash, in the
# seats' hash slot): switched on, nothing is taken and the answer is -1. A buyer with no
# admission costs one round trip, the room's check included.
_ACQUIRE_UNLESS_WAITING = (
    "if redis.call('HGET', KEYS[1], 'enabled') == '1' then return -1 end\nlocal first = 2\n"
    + _TAKE_SEATS
)

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
        self._rooms = queue_prefix(namespace)
        self._prefix = f"{namespaced(namespace)}:seat"
        self._acquire = client.register_script(_ACQUIRE)
        self._acquire_unless_waiting = client.register_script(_ACQUIRE_UNLESS_WAITING)
        self._release = client.register_script(_RELEASE)

    def acquire(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: str,
        ttl: float,
        *,
        unless_waiting: bool = False,
    ) -> None:
        """Take every seat for ``owner`` for ``ttl`` seconds, or none of them; with
        ``unless_waiting``, none while the session's waiting room is on."""
        if not labels:
            if unless_waiting:
                raise WaitingRoomMayBeOn()  # nothing to take: the caller asks the room itself
            return
        # Redis counts a key expired once its deadline, in whole milliseconds, is strictly
        # past: up to 1 ms after the TTL. One millisecond less makes the lock lapse no later
        # than ``ttl`` (as the in-memory lock does) and no more than 1 ms sooner.
        ttl_ms = max(1, round(ttl * 1000) - 1)
        keys = self._keys(session_id, labels)
        with translated("seat lock acquire"):
            if unless_waiting:
                room = room_key(self._rooms, session_id)
                taken = self._acquire_unless_waiting(keys=[room, *keys], args=[owner, ttl_ms])
            else:
                taken = self._acquire(keys=keys, args=[owner, ttl_ms])
        if taken == -1:
            raise WaitingRoomMayBeOn()
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
