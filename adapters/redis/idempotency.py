"""Idempotency keys in Redis: remembered for a day by every process, duplicates in flight wait."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from datetime import timedelta

from cinema_core.errors import IdempotencyInProgress, IdempotencyKeyReused
from cinema_core.ports import StoredAnswer
from cinema_core.resilience.leases import Renewals

from .client import Client, namespaced, translated

REMEMBER = timedelta(hours=24)
# Short, and renewed every RENEW_EVERY while the request runs
# (cinema_core/resilience/leases.py): the claim of a process that died lapses within LEASE, a
# live one's never does.
LEASE = timedelta(seconds=5)
RENEW_EVERY = 1.0

# One hash per key: fingerprint, then either a running claim (token, lease_until in ms of
# Redis' clock) or the answer (status, body). Checking and claiming happen in one script so
# two processes can never both claim, and a claim whose lease ran out (its process died) is
# taken over instead of blocking the key for a day.
_BEGIN = """
local entry = redis.call('HMGET', KEYS[1], 'fingerprint', 'status', 'body', 'token',
                         'lease_until')
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if entry[1] then
    if entry[1] ~= ARGV[1] then
        return {'reused'}
    end
    if entry[2] then
        return {'done', entry[2], entry[3]}
    end
    -- The same token: a retried call of ours whose first reply was lost.
    if entry[4] ~= ARGV[2] and tonumber(entry[5]) > now then
        return {'running'}
    end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'token', ARGV[2],
           'lease_until', string.format('%.0f', now + tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'claimed'}
"""

# The answer replaces the claim in one step (a script rather than MULTI/EXEC, so that one
# server and a cluster run the same thing).
_FINISH = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'status', ARGV[2], 'body', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

# Only the claim's own holder renews it, and never once it has an answer.
_RENEW = """
local entry = redis.call('HMGET', KEYS[1], 'token', 'status')
if entry[2] or entry[1] ~= ARGV[1] then
    return 0
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('HSET', KEYS[1], 'lease_until', string.format('%.0f', now + tonumber(ARGV[2])))
return 1
"""

# Only the claim's own holder may give it up, and never once it has an answer.
_ABANDON = """
local entry = redis.call('HMGET', KEYS[1], 'token', 'status')
if entry[2] then
    return 0
end
if ARGV[1] == '' or entry[1] == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisIdempotencyStore:
    """The ``IdempotencyStore`` port in Redis.

    A duplicate that finds the key claimed polls, with a growing pause, for up to ``wait``
    seconds for the first request's answer, then raises ``IdempotencyInProgress``.
    """

    def __init__(
        self,
        client: Client,
        namespace: str = "cinema",
        *,
        wait: float = 10.0,
        lease: timedelta = LEASE,
        remember: timedelta = REMEMBER,
        renew_every: float | None = None,
    ):
        self._prefix = f"{namespaced(namespace)}:idem"
        self._wait = wait
        self._lease_ms = _milliseconds(lease)
        self._remember_ms = _milliseconds(remember)
        self._begin = client.register_script(_BEGIN)
        self._finish = client.register_script(_FINISH)
        self._abandon = client.register_script(_ABANDON)
        self._renew = client.register_script(_RENEW)
        # None: never renewed (the bootstrap renews every RENEW_EVERY; unrenewed, a claim stands
        # for a process that died).
        self._renewals = (
            None if renew_every is None else Renewals(self._renew_held, renew_every, "cinema-idem")
        )
        # The tokens of the claims this process holds, so that ``abandon`` drops only its own.
        self._tokens: dict[tuple[str, str], str] = {}
        self._mutex = threading.Lock()

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
        """Claim the key, or replay its answer, or wait for the request that claimed it."""
        entry = self._key(scope, key)
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self._wait
        pause = 0.01
        while True:
            with translated("idempotency begin"):
                reply = self._begin(
                    keys=[entry], args=[fingerprint, token, self._lease_ms, self._remember_ms]
                )
            outcome = reply[0]
            if outcome == b"claimed":
                with self._mutex:
                    self._tokens[(scope, key)] = token
                if self._renewals is not None:
                    self._renewals.holding()
                return None
            if outcome == b"reused":
                raise IdempotencyKeyReused()
            if outcome == b"done":
                return StoredAnswer(int(reply[1]), bytes(reply[2]))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise IdempotencyInProgress()
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.2)

    def finish(self, scope: str, key: str, fingerprint: str, answer: StoredAnswer) -> None:
        """Store the answer, replacing the claim in one step."""
        with translated("idempotency finish"):
            self._finish(
                keys=[self._key(scope, key)],
                args=[fingerprint, answer.status, answer.body, self._remember_ms],
            )
        with self._mutex:
            self._tokens.pop((scope, key), None)

    def abandon(self, scope: str, key: str) -> None:
        """Drop this process's claim so that a retry runs the request afresh."""
        with self._mutex:
            token = self._tokens.pop((scope, key), "")
        with translated("idempotency abandon"):
            self._abandon(keys=[self._key(scope, key)], args=[token])

    def close(self) -> None:
        """Stop renewing this process's claims (they lapse as a dead process's would); the
        client is the caller's to close."""
        if self._renewals is not None:
            self._renewals.close()

    def _renew_held(self) -> int:
        """Renew the lease of every claim this process holds; how many it still holds."""
        with self._mutex:
            held = list(self._tokens.items())
        for (scope, key), token in held:
            with translated("idempotency renew"):
                self._renew(keys=[self._key(scope, key)], args=[token, self._lease_ms])
        with self._mutex:
            return len(self._tokens)

    def _key(self, scope: str, key: str) -> str:
        # Hashed: scope and key are the client's text, of any length and any characters.
        digest = hashlib.sha256(f"{scope}\x00{key}".encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self._prefix}:{digest}"


def _milliseconds(span: timedelta) -> int:
    return max(1, int(span.total_seconds() * 1000))
