"""Living with backends that fail: outages said once, supervised background loops, renewed
leases, and the seat lock, idempotency store and rate limiter that degrade as documented."""
