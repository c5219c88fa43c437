"""Waiting rooms' queues in Redis, shared by every process: one script per step.

A session's queue is five keys, ``{namespace}:wait:{<session id>}:<part>``, one hash slot (the
braces), so every script runs on a Redis Cluster too:

- ``room``: hash of the settings, the arrival counter ``seq`` and the schedule's ``next`` (ms);
- ``waiting``: sorted set of tickets scored by arrival number (``HINCRBY`` on ``seq``: exact
  order across processes, whatever their clocks say);
- ``active``: sorted set of admitted tickets scored by when their admission lapses (ms);
- ``users`` and ``tickets``: hashes user → ticket and ticket → user.

Every step first admits whoever is due (``admissions_due`` in the core, written again here in
Lua and pinned by the contract suite over both). Times come from the caller's clock: the
processes of one deployment agree on it to a few milliseconds, which moves an admission by as
much but never changes who is next.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from cinema_core.waiting.room import Place, PlaceStatus, RoomFigures, RoomSettings, ms

from .client import Client, namespaced, translated

# The keys outlive the last step on them by two days: an on-sale's queue cleans itself up.
_COMMON = """
local room, waiting, active, users, tickets = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]

local function keep()
    for _, key in ipairs(KEYS) do
        redis.call('PEXPIRE', key, 172800000)
    end
end

local function advance(now, lasts)
    redis.call('ZREMRANGEBYSCORE', active, '-inf', now)
    local r = redis.call('HMGET', room, 'enabled', 'rate', 'max', 'next')
    if r[1] ~= '1' then
        return
    end
    local interval = 60000 / tonumber(r[2])
    local next_at = tonumber(r[4]) or now
    local n_waiting = redis.call('ZCARD', waiting)
    local space = math.max(0, tonumber(r[3]) - redis.call('ZCARD', active))
    local due = 0
    if next_at <= now then
        due = math.floor((now - next_at) / interval) + 1
    end
    local count = math.min(due, n_waiting, space)
    next_at = next_at + count * interval
    if next_at < now and (count == n_waiting or count == space) then
        next_at = now
    end
    if count > 0 then
        local popped = redis.call('ZPOPMIN', waiting, count)
        local lapses = string.format('%.17g', now + lasts)
        for i = 1, #popped, 2 do
            redis.call('ZADD', active, lapses, popped[i])
        end
        redis.call('PEXPIRE', active, 172800000)
    end
    redis.call('HSET', room, 'next', string.format('%.17g', next_at))
end

-- Numbers go back as text: Lua's would be truncated to integers on the way.
local function place(ticket, new)
    local user = redis.call('HGET', tickets, ticket)
    local next_at = redis.call('HGET', room, 'next')
    local rank = redis.call('ZRANK', waiting, ticket)
    if rank then
        return {'waiting', user, tostring(rank + 1), '', next_at, new, ticket}
    end
    local lapses = redis.call('ZSCORE', active, ticket)
    if lapses then
        return {'admitted', user, '0', lapses, next_at, new, ticket}
    end
    return {'lapsed', user, '0', '', next_at, new, ticket}
end
"""

_CONFIGURE = (
    _COMMON
    + """
local was = redis.call('HGET', room, 'enabled')
redis.call('HSET', room, 'enabled', ARGV[1], 'rate', ARGV[2], 'max', ARGV[3])
if (ARGV[1] == '1' and was ~= '1') or not redis.call('HGET', room, 'next') then
    redis.call('HSET', room, 'next', ARGV[4])
end
keep()
return 1
"""
)

# ARGV: user, new ticket, now, lasts.
_JOIN = (
    _COMMON
    + """
if redis.call('HGET', room, 'enabled') ~= '1' then
    return false
end
local now, lasts = tonumber(ARGV[3]), tonumber(ARGV[4])
advance(now, lasts)
local known = redis.call('HGET', users, ARGV[1])
if known then
    if redis.call('ZSCORE', waiting, known) or redis.call('ZSCORE', active, known) then
        return place(known, '0')
    end
    redis.call('HDEL', tickets, known)
end
local seq = redis.call('HINCRBY', room, 'seq', 1)
redis.call('ZADD', waiting, seq, ARGV[2])
redis.call('HSET', users, ARGV[1], ARGV[2])
redis.call('HSET', tickets, ARGV[2], ARGV[1])
advance(now, lasts)
keep()
return place(ARGV[2], '1')
"""
)

# ARGV: ticket, now, lasts.
_LOOK = (
    _COMMON
    + """
if not redis.call('HGET', tickets, ARGV[1]) then
    return false
end
advance(tonumber(ARGV[2]), tonumber(ARGV[3]))
return place(ARGV[1], '0')
"""
)

# ARGV: ticket.
_LEAVE = (
    _COMMON
    + """
local user = redis.call('HGET', tickets, ARGV[1])
if not user then
    return 0
end
redis.call('HDEL', tickets, ARGV[1])
redis.call('ZREM', waiting, ARGV[1])
redis.call('ZREM', active, ARGV[1])
if redis.call('HGET', users, user) == ARGV[1] then
    redis.call('HDEL', users, user)
end
return 1
"""
)

# ARGV: ticket, user, now.
_ACTIVE_UNTIL = (
    _COMMON
    + """
if redis.call('HGET', tickets, ARGV[1]) ~= ARGV[2] then
    return false
end
local lapses = redis.call('ZSCORE', active, ARGV[1])
if lapses and tonumber(lapses) > tonumber(ARGV[3]) then
    return lapses
end
return false
"""
)

# ARGV: now, lasts.
_FIGURES = (
    _COMMON
    + """
local r = redis.call('HMGET', room, 'enabled', 'rate', 'max')
if not r[1] then
    return false
end
advance(tonumber(ARGV[1]), tonumber(ARGV[2]))
return {r[1], r[2], r[3], redis.call('ZCARD', waiting), redis.call('ZCARD', active)}
"""
)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogatepass")


def _bytes(text: str) -> bytes:
    # Client text (a user id) may hold lone surrogates; encoded so none fails in the driver.
    return text.encode("utf-8", "surrogatepass")


def _instant(at_ms: bytes | float) -> datetime:
    return datetime.fromtimestamp(float(at_ms) / 1000, UTC)


def _number(at: datetime) -> str:
    return repr(ms(at))


class RedisWaitingLines:
    """The ``WaitingLines`` port in Redis (see the module's docstring for the key layout)."""

    def __init__(self, client: Client, namespace: str = "cinema"):
        self._client = client
        self._prefix = queue_prefix(namespace)
        self._rooms = f"{self._prefix}:rooms"
        self._configure = client.register_script(_CONFIGURE)
        self._join = client.register_script(_JOIN)
        self._look = client.register_script(_LOOK)
        self._leave = client.register_script(_LEAVE)
        self._active_until = client.register_script(_ACTIVE_UNTIL)
        self._figures = client.register_script(_FIGURES)

    def configure(self, session_id: UUID, settings: RoomSettings, now: datetime) -> None:
        args = ["1" if settings.enabled else "0", settings.admit_per_minute, settings.max_active]
        with translated("waiting room"):
            self._configure(keys=self._keys(session_id), args=[*args, _number(now)])
            # The rooms' index is a key of its own (its own hash slot on a cluster): it only
            # tells the metrics which rooms to read, so it need not change with the room.
            self._client.sadd(self._rooms, str(session_id))

    def rooms(self) -> list[UUID]:
        with translated("waiting room"):
            found: set[bytes] = self._client.smembers(self._rooms)  # type: ignore[assignment]
        return [UUID(_text(member)) for member in found]

    def settings(self, session_id: UUID) -> RoomSettings | None:
        with translated("waiting room"):
            found: list[Any] = self._client.hmget(
                self._keys(session_id)[0], "enabled", "rate", "max"
            )
        if found[0] is None:
            return None
        return RoomSettings(found[0] == b"1", int(found[1]), int(found[2]))

    def join(
        self, session_id: UUID, user_id: str, ticket: str, now: datetime, lasts: timedelta
    ) -> Place | None:
        args: list[bytes | str] = [
            _bytes(user_id),
            ticket,
            _number(now),
            repr(lasts.total_seconds() * 1000),
        ]
        with translated("waiting room"):
            found = self._join(keys=self._keys(session_id), args=args)
        return None if found is None else self._place(session_id, found)

    def look(self, session_id: UUID, ticket: str, now: datetime, lasts: timedelta) -> Place | None:
        args = [ticket, _number(now), repr(lasts.total_seconds() * 1000)]
        with translated("waiting room"):
            found = self._look(keys=self._keys(session_id), args=args)
        return None if found is None else self._place(session_id, found)

    def leave(self, session_id: UUID, ticket: str) -> bool:
        with translated("waiting room"):
            return bool(self._leave(keys=self._keys(session_id), args=[ticket]))

    def active_until(
        self, session_id: UUID, ticket: str, user_id: str, now: datetime
    ) -> datetime | None:
        args: list[bytes | str] = [ticket, _bytes(user_id), _number(now)]
        with translated("waiting room"):
            found = self._active_until(keys=self._keys(session_id), args=args)
        return None if found is None else _instant(found)

    def figures(self, session_id: UUID, now: datetime, lasts: timedelta) -> RoomFigures:
        args = [_number(now), repr(lasts.total_seconds() * 1000)]
        with translated("waiting room"):
            found = self._figures(keys=self._keys(session_id), args=args)
        if found is None:
            return RoomFigures(session_id, None, 0, 0)
        enabled, rate, cap, waiting, active = found
        settings = RoomSettings(enabled == b"1", int(rate), int(cap))
        return RoomFigures(session_id, settings, int(waiting), int(active))

    def _place(self, session_id: UUID, found: list[bytes]) -> Place:
        status, user, position, lapses, next_at, new, ticket = found
        return Place(
            session_id,
            _text(ticket),
            _text(user),
            PlaceStatus(_text(status)),
            int(position),
            _instant(lapses) if lapses else None,
            _instant(next_at),
            new == b"1",
        )

    def _keys(self, session_id: UUID) -> list[str]:
        return _queue_keys(self._prefix, session_id)


def _queue_keys(prefix: str, session_id: UUID) -> list[str]:
    tag = _tag(prefix, session_id)
    return [f"{tag}:{part}" for part in ("room", "waiting", "active", "users", "tickets")]


def _tag(prefix: str, session_id: UUID) -> str:
    # One hash tag a session: its queue's keys (and the seat lock's read of its room) share a
    # Cluster slot.
    return f"{prefix}:{{{session_id}}}"


def queue_prefix(namespace: str) -> str:
    """What every key of the namespace's queues starts with."""
    return f"{namespaced(namespace)}:wait"


def room_key(prefix: str, session_id: UUID) -> str:
    """The key of the session's room settings under ``queue_prefix`` (the seat lock reads
    them in its own script)."""
    return f"{_tag(prefix, session_id)}:room"
