"""Token buckets in Redis, shared by every process."""

from __future__ import annotations

from .client import Client, namespaced, translated

# One script per take, timed by Redis' own clock: the processes' clocks may disagree, the
# server's is the one every bucket update sees. Lua numbers come back truncated to integers,
# so the wait is returned as text. Time is kept as whole seconds and microseconds, because a
# double of seconds since 1970 printed for storage would lose the fraction.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local seconds, micros = tonumber(clock[1]), tonumber(clock[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'seconds', 'micros')
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
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
           'seconds', clock[1], 'micros', clock[2])
-- Once full again a bucket is the same as none: let Redis forget it then.
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return string.format('%.17g', wait)
"""


class RedisRateLimiter:
    """The ``RateLimiter`` port in Redis: one hash per bucket, ``{namespace}:rate:<key>``."""

    def __init__(self, client: Client, namespace: str = "cinema"):
        self._prefix = f"{namespaced(namespace)}:rate"
        self._take = client.register_script(_TAKE)

    def take(self, key: str, rate: float, burst: int) -> float:
        """Take one token; 0 if it was there, else the seconds until one will be."""
        if not rate > 0 or burst < 1:
            # A bucket that never refills is no limit the settings can ask for (0 switches a
            # limit off before it gets here), and the script would divide by zero.
            raise ValueError(f"rate must be > 0 and burst ≥ 1, not {rate} and {burst}")
        with translated("rate limit"):
            wait = self._take(keys=[self._bucket(key)], args=[repr(rate), burst])
        return float(wait)

    def _bucket(self, key: str) -> bytes:
        # Keys carry client text (a user id may hold any character a JSON string can, lone
        # surrogates included); encoded here so none can fail in the driver.
        return f"{self._prefix}:{key}".encode("utf-8", "surrogatepass")
