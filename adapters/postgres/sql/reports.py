"""The managers' reports: a session's tally and statement, and the sales by day."""

from __future__ import annotations

from typing import Final

from .seats import TOUCHED

# One snapshot for the whole report: the holds (from the partial index of touched seats, whose
# predicate is spelled out) and the tickets by category and type (tickets_session_idx).
SESSION_TALLY: Final = f"""
WITH held AS (
    SELECT count(*) AS n FROM seats AS s
    WHERE s.session_id = %(session_id)s
        AND {TOUCHED}
        AND s.sale_id IS NULL AND s.held_by IS NOT NULL AND s.hold_expires_at > %(now)s
), groups AS (
    SELECT category, ticket,
        count(*) FILTER (WHERE refund_id IS NULL) AS sold,
        coalesce(sum(price_cents) FILTER (WHERE refund_id IS NULL), 0) AS revenue,
        coalesce(sum(price_cents) FILTER (WHERE refund_id IS NOT NULL), 0) AS refunded,
        count(*) FILTER (WHERE checked_in_at IS NOT NULL) AS checked_in
    FROM tickets WHERE session_id = %(session_id)s
    GROUP BY category, ticket
)
SELECT held.n AS held, g.* FROM held LEFT JOIN groups AS g ON true
ORDER BY g.category, g.ticket
"""

# Every ticket of the session ever sold, by category, type and method: the counter's (cash,
# card, pix) for a counter sale, else the provider of the payment that made its sale
# (payments_sale_id_key: at most one per sale, so the join adds no rows; none: the sale was paid
# at once), refunded or not (tickets_session_idx).
STATEMENT_GROUPS: Final = """
SELECT t.category, t.ticket, coalesce(s.payment_method, p.provider, %(instant)s) AS method,
    count(*) AS sold,
    sum(t.price_cents) AS sold_cents,
    count(*) FILTER (WHERE t.refund_id IS NOT NULL) AS refunded,
    coalesce(sum(t.price_cents) FILTER (WHERE t.refund_id IS NOT NULL), 0) AS refunded_cents,
    count(*) FILTER (WHERE t.checked_in_at IS NOT NULL) AS checked_in
FROM tickets AS t JOIN sales AS s ON s.id = t.sale_id
    LEFT JOIN payments AS p ON p.sale_id = t.sale_id
WHERE t.session_id = %(session_id)s
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""

# Tickets paid in the window (tickets_paid_at_idx) grouped by day (UTC), cinema and movie. The
# bounds are never NULL (±infinity stand for "none"), so the range stays on the index.
SALES_BY_DAY: Final = """
SELECT (t.paid_at AT TIME ZONE 'UTC')::date AS day, se.cinema, se.movie,
    count(DISTINCT t.session_id) AS sessions,
    count(*) FILTER (WHERE t.refund_id IS NULL) AS tickets,
    coalesce(sum(t.price_cents) FILTER (WHERE t.refund_id IS NULL), 0) AS revenue,
    min(t.currency) AS currency
FROM tickets AS t JOIN sessions AS se ON se.id = t.session_id
WHERE t.paid_at >= %(from)s AND t.paid_at < %(before)s
    AND (%(cinema)s::text IS NULL OR se.cinema = %(cinema)s::text)
GROUP BY 1, 2, 3
ORDER BY 1, se.cinema COLLATE "C", se.movie COLLATE "C"
"""
