"""The outbox: events recorded with the transaction that emitted them, and the relay's lock,
read and mark."""

from __future__ import annotations

from typing import Final

# The events as one JSON array (rows.events_json), inserted in the order they were emitted, which
# is the order of their seq and so of publication.
ADD_EVENTS: Final = """
INSERT INTO outbox (id, type, occurred_at, session_id, data, traceparent)
SELECT e.id, e.type, e.occurred_at, e.session_id, e.data, e.traceparent
FROM ROWS FROM (
    jsonb_to_recordset(%(events)s::jsonb)
        AS (id uuid, type text, occurred_at timestamptz, session_id text, data jsonb,
            traceparent text)
) WITH ORDINALITY AS e(id, type, occurred_at, session_id, data, traceparent, emitted)
ORDER BY e.emitted
"""

# The outbox relay (PostgresReservationRepo.relay_outbox), run after every commit that recorded
# events, in every process. The lock and the read stay two statements: under READ COMMITTED the
# read's snapshot must be taken after the lock is held, so that it sees what the previous holder
# marked published.
TRY_RELAY_LOCK: Final = "SELECT pg_try_advisory_xact_lock(%(key)s)"
UNPUBLISHED_EVENTS: Final = """
SELECT seq, id, type, occurred_at, data, traceparent FROM outbox
WHERE published_at IS NULL
ORDER BY seq
LIMIT %(limit)s
"""
MARK_PUBLISHED: Final = "UPDATE outbox SET published_at = now() WHERE seq = ANY(%(seqs)s::bigint[])"

# What GET /metrics reports of the relay's queue: the partial index on unpublished rows keeps it
# to the rows waiting, however long the outbox grows.
BACKLOG: Final = """
SELECT count(*) AS count, min(occurred_at) AS oldest_at FROM outbox WHERE published_at IS NULL
"""
