"""Token buckets in Redis, shared by every process."""

from __future__ import annotations

from collections.abc import Sequence

from cinema_core.ports import Bucket

from .client import Client, namespaced, translated
from .cluster import ClusterClient

# One script takes a token from each bucket in KEYS, in order, with ARGV holding each one's
# rate and burst in turn, and stops at the first that has none: the buckets a request is
# limited by cost one round trip. They are timed by Redis' own clock, read once: the
# processes' clocks may disagree, the server's is the one every bucket update sees. Lua
# numbers come back truncated to integers, so the wait is returned as text. Time is kept as
# whole seconds and microseconds, because a double of seconds since 1970 printed for storage
# would lose the fraction.
_TAKE = """
local clock = redis.call('TIME')
local seconds, micros = tonumber(clock[1]), tonumber(clock[2])
for i, key in ipairs(KEYS) do
    local rate = tonumber(ARGV[2 * i - 1])
    local burst = tonumber(ARGV[2 * i])
    local bucket = redis.call('HMGET', key, 'tokens', 'seconds', 'micros')
    local tokens = burst
    if bucket[1] then
        local elapsed = (seconds - tonumber(bucket[2])) + (micros - tonumber(bucket[3])) / 1e6
        tokens = math.min(burst, tonumber(bucket[1]) + math.max(0, elapsed) * rate)
    end
    local wait = 0
    if tokens >= 1 then
        tokens = tokens - 1
    else
        wait = (1 - tokens) / rate
    end
    redis.call('HSET', key, 'tokens', string.format('%.17g', tokens),
               'seconds', clock[1], 'micros', clock[2])
    -- Once full again a bucket is the same as none: let Redis forget it then.
    redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate * 1000) + 1000)
    if wait > 0 then
        return string.format('%.17g', wait)
    end
end
return '0'
"""


class RedisRateLimiter:
    """The ``RateLimiter`` port in Redis: one hash per bucket, ``{namespace}:rate:<key>``.

    On a Redis Cluster the buckets of one request hash to different slots, and no script may
    touch keys of two: there each bucket is taken by a script of its own, in order, with the
    same outcome.
    """

    def __init__(self, client: Client, namespace: str = "cinema"):
        self._prefix = f"{namespaced(namespace)}:rate"
        self._take = client.register_script(_TAKE)
        self._one_bucket_a_script = isinstance(client, ClusterClient)

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
        if not self._one_bucket_a_script:
            return self._run(buckets)
        for bucket in buckets:
            wait = self._run((bucket,))
            if wait > 0:
                return wait
        return 0.0

    def _run(self, buckets: Sequence[Bucket]) -> float:
        if not buckets:
            return 0.0
        keys = [self._bucket(key) for key, _, _ in buckets]
        args: list[str | int] = []
        for _, rate, burst in buckets:
            args += (repr(rate), burst)
        with translated("rate limit"):
            wait = self._take(keys=keys, args=args)
        return float(wait)

    def _bucket(self, key: str) -> bytes:
        # Keys carry client text (a user id may hold any character a JSON string can, lone
        # surrogates included); encoded here so none can fail in the driver.
        return f"{self._prefix}:{key}".encode("utf-8", "surrogatepass")
