"""A refund, with its tickets marked and its seats' live-sale rows freed; and its undoing.

A ticket is refunded once, never once used: ``REFUND`` marks only tickets neither refunded nor
checked in, and ``tickets_used_or_refunded`` (a CHECK) forbids a row to be both. A refund
deletes its seats' ``sale_seats`` rows in its own transaction: that table holds the seats of live
sales only, so the seat can be sold again, and a second live sale of it is still refused by the
key; what was sold and refunded stays in ``tickets`` (``refund_id``), ``refunds`` and
``sales.refunded_seats``.
"""

from __future__ import annotations

from typing import Final


def refund(*, marks: str = "", guard: str) -> str:
    """The refund, its tickets marked where ``guard`` (an SQL condition on ``t``) holds (and
    ``marks``, more assignments, made), and its seats' live-sale rows freed, in one statement.
    Fewer tickets marked than asked means another transaction got there first, and the caller
    undoes the rest (UNDO_REFUND) and says why. sale_seats rows go only when every ticket was
    marked. refunded_seats on the sale is what a sale read says was refunded (its CHECK keeps it
    within the sale's seats)."""
    return f"""
WITH refund AS (
    INSERT INTO refunds (
        id, sale_id, session_id, user_id, seats, amount_cents, currency, refunded_at, refunded_by
    )
    VALUES (
        %(id)s, %(sale_id)s, %(session_id)s, %(user_id)s, %(seats)s::text[], %(amount_cents)s,
        %(currency)s, %(refunded_at)s, %(by)s
    )
), marked AS (
    UPDATE tickets AS t SET refund_id = %(id)s{marks}
    FROM unnest(%(rows)s::char(1)[], %(numbers)s::int[]) AS v("row", number)
    WHERE t.sale_id = %(sale_id)s AND t."row" = v."row" AND t.number = v.number
        {guard}
    RETURNING t."row", t.number
), freed AS (
    DELETE FROM sale_seats AS s USING marked AS m
    WHERE s.session_id = %(session_id)s AND s."row" = m."row" AND s.number = m.number
        AND s.sale_id = %(sale_id)s AND (SELECT count(*) FROM marked) = %(count)s
), sale AS (
    UPDATE sales SET refunded_seats = array(
        SELECT DISTINCT seat FROM unnest(refunded_seats || %(seats)s::text[]) AS seat
    )
    WHERE id = %(sale_id)s AND (SELECT count(*) FROM marked) = %(count)s
)
SELECT array(SELECT "row" || number FROM marked)
"""


REFUND: Final = refund(guard="AND t.refund_id IS NULL AND t.checked_in_at IS NULL")
# A cancelled session's refund (Refund.in_full): a used ticket is owed too, never one refunded.
# tickets_used_or_refunded admits a used ticket refunded only with session_cancelled set.
REFUND_CANCELLED: Final = refund(
    marks=", session_cancelled = true", guard="AND t.refund_id IS NULL"
)
UNDO_REFUND: Final = """
WITH unmarked AS (UPDATE tickets SET refund_id = NULL WHERE refund_id = %(id)s)
DELETE FROM refunds WHERE id = %(id)s
"""
