"""A session's ticket quotas: the lock they are counted under, and the count."""

from __future__ import annotations

from typing import Final

from .seats import TOUCHED

# A session's ticket quotas are locked on its row (PostgresTransaction.quota_usage). FOR NO KEY
# UPDATE, not FOR UPDATE: every reservation and sale inserted for the session takes FOR KEY
# SHARE on this row (their foreign keys), and FOR UPDATE would queue all of them, full-price
# buyers included, behind whoever holds the quota lock.
LOCK_QUOTAS: Final = "SELECT 1 FROM sessions WHERE id = %(session_id)s FOR NO KEY UPDATE"
# The quota rule in SQL; Seat.counts_for is the same rule in Python, and
# tests/contract/test_postgres_repo.py pins that both agree: a seat counts against its ticket
# type when sold as it, or held as it by a hold that has not lapsed at ``now``.
QUOTA_USAGE: Final = f"""
SELECT s.ticket, count(*) FROM seats AS s
WHERE s.session_id = %(session_id)s
    AND {TOUCHED}
    AND s.ticket = ANY(%(tickets)s::text[])
    AND (s.sale_id IS NOT NULL OR (s.held_by IS NOT NULL AND s.hold_expires_at > %(now)s))
GROUP BY s.ticket
"""
# The same count for reading (no lock), per session and ticket: the quotas a session and its
# seat map show.
TICKET_COUNTS: Final = f"""
SELECT s.session_id, s.ticket, count(*) FROM seats AS s
WHERE s.session_id = ANY(%(ids)s::uuid[])
    AND {TOUCHED}
    AND s.ticket IS NOT NULL
    AND (s.sale_id IS NOT NULL OR (s.held_by IS NOT NULL AND s.hold_expires_at > %(now)s))
GROUP BY s.session_id, s.ticket
"""
