"""Webhooks and their delivery log: registrations (cold), the fan-out and the sender's claims
(the worker's, one statement each)."""

from __future__ import annotations

from typing import Final

_WEBHOOK_COLUMNS = "id, url, events, secret, created_at, disabled_at, disabled_reason"
_DELIVERY_COLUMNS = (
    "id, webhook_id, event_id, event_type, body, created_at, status, attempts, "
    "next_attempt_at, last_attempt_at, last_status, last_error, delivered_at"
)

ADD_WEBHOOK: Final = f"""
INSERT INTO webhooks ({_WEBHOOK_COLUMNS})
VALUES (%(id)s, %(url)s, %(events)s, %(secret)s, %(created_at)s, %(disabled_at)s,
        %(disabled_reason)s)
"""
WEBHOOKS: Final = f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id"
WEBHOOK: Final = f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE id = %(id)s"
# The log goes with it (ON DELETE CASCADE).
REMOVE_WEBHOOK: Final = "DELETE FROM webhooks WHERE id = %(id)s"
SET_SECRET: Final = "UPDATE webhooks SET secret = %(secret)s WHERE id = %(id)s"
DISABLE_WEBHOOK: Final = """
UPDATE webhooks SET disabled_at = %(now)s, disabled_reason = %(reason)s
WHERE id = %(id)s AND disabled_at IS NULL
"""
DISABLE_PENDING: Final = """
UPDATE webhook_deliveries SET status = 'disabled', next_attempt_at = NULL
WHERE webhook_id = %(id)s AND status = 'pending'
"""

# One row per (webhook, event): an event the consumer is handed again owes nothing new. A
# webhook deleted meanwhile owes nothing (the join drops its rows instead of failing the batch).
ADD_DELIVERIES: Final = """
INSERT INTO webhook_deliveries (
    id, webhook_id, event_id, event_type, body, created_at, status, attempts, next_attempt_at
)
SELECT d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.created_at, 'pending', 0,
       d.created_at
FROM unnest(%(ids)s::uuid[], %(webhooks)s::uuid[], %(events)s::uuid[], %(types)s::text[],
            %(bodies)s::bytea[], %(made)s::timestamptz[])
     AS d(id, webhook_id, event_id, event_type, body, created_at)
JOIN webhooks w ON w.id = d.webhook_id
ON CONFLICT (webhook_id, event_id) DO NOTHING
"""

DELIVERIES: Final = f"""
SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries
WHERE webhook_id = %(webhook_id)s
  AND (%(at)s::timestamptz IS NULL OR (created_at, id) < (%(at)s::timestamptz, %(id)s::uuid))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""

# What makes two senders (threads, workers) never take one delivery at once: the rows are
# locked as they are picked and the ones another claim holds are skipped; once that claim
# commits, their next_attempt_at is in the future and they no longer qualify.
# (tests/unguarded_postgres.py keeps a copy without the lock, for the race's control run.)
CLAIM_DUE: Final = """
WITH due AS (
    SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s AND w.disabled_at IS NULL
    ORDER BY d.next_attempt_at, d.created_at, d.id
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = %(until)s
FROM due, webhooks w
WHERE d.id = due.id AND w.id = d.webhook_id
RETURNING d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.created_at, d.status,
          d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error,
          d.delivered_at, w.url AS w_url, w.events AS w_events, w.secret AS w_secret,
          w.created_at AS w_created_at, w.disabled_at AS w_disabled_at,
          w.disabled_reason AS w_disabled_reason
"""

# A sender's batch of attempts in one statement. Only the claim that made an attempt writes it:
# a lapsed lease's second sender finds the attempts moved on and leaves the log as the first one
# wrote it.
SAVE_ATTEMPTS: Final = """
UPDATE webhook_deliveries d
SET status = a.status, attempts = a.attempts, next_attempt_at = a.next_attempt_at,
    last_attempt_at = a.last_attempt_at, last_status = a.last_status,
    last_error = a.last_error, delivered_at = a.delivered_at
FROM unnest(%(ids)s::uuid[], %(before)s::int[], %(statuses)s::text[], %(attempts)s::int[],
            %(next)s::timestamptz[], %(last)s::timestamptz[], %(codes)s::int[],
            %(errors)s::text[], %(delivered)s::timestamptz[])
     AS a(id, attempts_before, status, attempts, next_attempt_at, last_attempt_at, last_status,
          last_error, delivered_at)
WHERE d.id = a.id AND d.attempts = a.attempts_before AND d.status = 'pending'
RETURNING d.id
"""
