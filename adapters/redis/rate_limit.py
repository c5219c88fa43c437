"""Token buckets in Redis, shared by every process, each process spending its own leases."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from cinema_core.ports import Bucket

from .client import Client, namespaced, translated
from .cluster import ClusterClient

# A process takes up to a tenth of a bucket's burst from Redis at once and spends the rest of
# that lease without a round trip, for at most a second. Processes together never spend more
# than Redis gave them; a lease is spent later than Redis counted it, so a bucket can pass up
# to one lease a process beyond its burst within that second, and a lease left over when its
# second ends is lost (it is gone from Redis too). A burst under ten leases one token: the
# limit is then as exact as with no leases.
LEASE_SHARE = 10
LEASE_SECONDS = 1.0
# Past this many keys leased, the ones whose second is over are swept from memory, at most
# once a second (a sweep on every lease would cost each request all the keys of the second).
LEASES_KEPT = 10_000

# One script takes tokens from each bucket in KEYS, in order, with ARGV holding each one's
# rate, burst and the lease wanted in turn, and stops at the first that has no token: the
# buckets a request is limited by cost one round trip. It answers the wait (0 if every bucket
# had a token) then the tokens each bucket gave: at least one, at most the lease, never more
# than it held. They are timed by Redis' own clock, read once: the processes' clocks may
# disagree, the server's is the one every bucket update sees. Lua numbers come back truncated
# to integers, so the wait is returned as text. Time is kept as whole seconds and
# microseconds, because a double of seconds since 1970 printed for storage would lose the
# fraction.
_TAKE = """
local clock = redis.call('TIME')
local seconds, micros = tonumber(clock[1]), tonumber(clock[2])
local answer = {'0'}
for i, key in ipairs(KEYS) do
    local rate = tonumber(ARGV[3 * i - 2])
    local burst = tonumber(ARGV[3 * i - 1])
    local lease = tonumber(ARGV[3 * i])
    local bucket = redis.call('HMGET', key, 'tokens', 'seconds', 'micros')
    local tokens = burst
    if bucket[1] then
        local elapsed = (seconds - tonumber(bucket[2])) + (micros - tonumber(bucket[3])) / 1e6
        tokens = math.min(burst, tonumber(bucket[1]) + math.max(0, elapsed) * rate)
    end
    local wait = 0
    if tokens >= 1 then
        local given = math.min(lease, math.floor(tokens))
        tokens = tokens - given
        answer[#answer + 1] = given
    else
        wait = (1 - tokens) / rate
    end
    redis.call('HSET', key, 'tokens', string.format('%.17g', tokens),
               'seconds', clock[1], 'micros', clock[2])
    -- Once full again a bucket is the same as none: let Redis forget it then.
    redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate * 1000) + 1000)
    if wait > 0 then
        answer[1] = string.format('%.17g', wait)
        return answer
    end
end
return answer
"""


class RedisRateLimiter:
    """The ``RateLimiter`` port in Redis: one hash per bucket, ``{namespace}:rate:<key>``.

    Tokens are taken from Redis in leases (``LEASE_SHARE``, ``LEASE_SECONDS``): a busy key
    costs a round trip every tenth of its burst rather than every request.

    On a Redis Cluster the buckets of one request hash to different slots, and no script may
    touch keys of two: there each bucket is taken by a script of its own, in order, with the
    same outcome.
    """

    def __init__(
        self,
        client: Client,
        namespace: str = "cinema",
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._prefix = f"{namespaced(namespace)}:rate"
        self._take = client.register_script(_TAKE)
        self._one_bucket_a_script = isinstance(client, ClusterClient)
        self._monotonic = monotonic
        # key → (tokens leased and not yet spent, the monotonic time they lapse at)
        self._leases: dict[str, tuple[int, float]] = {}
        self._swept_at = monotonic()
        self._mutex = threading.Lock()

    def take(self, key: str, rate: float, burst: int) -> float:
        """Take one token; 0 if it was there, else the seconds until one will be."""
        return self.take_all(((key, rate, burst),))

    def take_all(self, buckets: Sequence[Bucket]) -> float:
        """Take a token from each bucket in order, up to the first empty one; 0 if every
        token was there, else the seconds until that bucket has one."""
        for _, rate, burst in buckets:
            if not rate > 0 or burst < 1:
                # A bucket that never refills is no limit the settings can ask for (0
                # switches a limit off before it gets here), and the script would divide by
                # zero.
                raise ValueError(f"rate must be > 0 and burst ≥ 1, not {rate} and {burst}")
        now = self._monotonic()
        with self._mutex:
            spent = [self._spend_leased(key, now) for key, _, _ in buckets]
        asked = [i for i, leased in enumerate(spent) if not leased]
        wait, given = self._lease([buckets[i] for i in asked])
        with self._mutex:
            for i, tokens in zip(asked, given, strict=False):
                if tokens > 1:
                    self._keep_lease(buckets[i][0], tokens - 1, now + LEASE_SECONDS, now)
            if not wait > 0:
                return 0.0
            empty = asked[len(given)]
            # The buckets after the empty one are not taken from: a token spent from one's
            # lease goes back to it.
            for i in range(empty + 1, len(buckets)):
                if spent[i]:
                    self._keep_lease(buckets[i][0], 1, spent[i], now)
            # Empty in Redis because a request beside this one leased the last tokens to
            # this process: one of those is this request's.
            leased_meanwhile = self._spend_leased(buckets[empty][0], now)
        return self.take_all(buckets[empty + 1 :]) if leased_meanwhile else wait

    def _spend_leased(self, key: str, now: float) -> float:
        """Spend a token of ``key``'s lease: the time that lease lapses at, 0 if none."""
        tokens, lapses = self._leases.get(key, (0, 0.0))
        if not tokens:
            return 0.0
        if now >= lapses:
            self._leases.pop(key, None)
            return 0.0
        if tokens == 1:
            self._leases.pop(key, None)
        else:
            self._leases[key] = (tokens - 1, lapses)
        return lapses

    def _keep_lease(self, key: str, tokens: int, lapses: float, now: float) -> None:
        held, lapsed = self._leases.get(key, (0, lapses))
        if lapsed > now:
            # Two leases of one key (two requests asked at once) lapse together, at the
            # earlier time: no token outlives its second.
            self._leases[key] = (held + tokens, min(lapses, lapsed))
        else:
            self._leases[key] = (tokens, lapses)
        if len(self._leases) > LEASES_KEPT and now - self._swept_at >= LEASE_SECONDS:
            self._leases = {k: lease for k, lease in self._leases.items() if lease[1] > now}
            self._swept_at = now

    def _lease(self, buckets: Sequence[Bucket]) -> tuple[float, list[int]]:
        """The wait (0 if every bucket had a token) and the tokens each bucket gave, up to
        the empty one."""
        if not self._one_bucket_a_script:
            return self._run(buckets)
        given: list[int] = []
        for bucket in buckets:
            wait, tokens = self._run((bucket,))
            given += tokens
            if wait > 0:
                return wait, given
        return 0.0, given

    def _run(self, buckets: Sequence[Bucket]) -> tuple[float, list[int]]:
        if not buckets:
            return 0.0, []
        keys = [self._bucket(key) for key, _, _ in buckets]
        args: list[str | int] = []
        for _, rate, burst in buckets:
            args += (repr(rate), burst, max(1, burst // LEASE_SHARE))
        with translated("rate limit"):
            wait, *given = self._take(keys=keys, args=args)
        return float(wait), [int(tokens) for tokens in given]

    def _bucket(self, key: str) -> bytes:
        # Keys carry client text (a user id may hold any character a JSON string can, lone
        # surrogates included); encoded here so none can fail in the driver.
        return f"{self._prefix}:{key}".encode("utf-8", "surrogatepass")
