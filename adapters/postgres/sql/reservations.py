"""A reservation: inserted, locked (alone, with its seats, with its session), saved, and the
lapsed or pending ones locked."""

from __future__ import annotations

from typing import Final

from .lines import LINE_VALUES, LINES

COLUMNS: Final = f"id, session_id, user_id, {LINES}, status, created_at, expires_at, sale_id"

ADD_RESERVATION: Final = f"""
INSERT INTO reservations ({COLUMNS})
VALUES (
    %(id)s, %(session_id)s, %(user_id)s, {LINE_VALUES},
    %(status)s, %(created_at)s, %(expires_at)s, %(sale_id)s
)
"""

LOCK_RESERVATION: Final = f"""
SELECT {COLUMNS} FROM reservations WHERE id = %(id)s FOR UPDATE
"""

_RESERVATION = f"""
WITH r AS (
    SELECT {COLUMNS} FROM reservations WHERE id = %(id)s FOR UPDATE
)"""

# A payment's first statement: the reservation's session locked FOR KEY SHARE, then the
# reservation and its seats, in that order (session_life's). The session is found by the
# reservation's session_id read unlocked (a reservation never moves); the reservation's row
# is locked above its join with the locked session's row, so only once that row is. The
# session's columns come prefixed se_ on each row.
SESSION_AND_RESERVATION: Final = f"""
WITH se AS (
    SELECT id AS se_id, movie AS se_movie, starts_at AS se_starts_at,
        duration_minutes AS se_duration_minutes, cancelled_at AS se_cancelled_at
    FROM sessions
    WHERE id = (SELECT session_id FROM reservations WHERE id = %(id)s)
    FOR KEY SHARE
), r AS (
    SELECT {COLUMNS}, se.* FROM reservations, se
    WHERE id = %(id)s AND session_id = se.se_id
    FOR UPDATE OF reservations
)"""


def reservation_and_seats(lock: str, head: str = _RESERVATION) -> str:
    """The reservation, locked (by ``head``, which names it ``r``), then each of its seats taken
    with ``lock``, in label order as seats.LOCK_SEATS takes them (the labels sorted byte-wise,
    as Python sorts them): payment and cancellation in one round trip. One row per seat found,
    the reservation's columns on each; a reservation whose seats are all gone comes back once,
    with NULL seat columns."""
    return f"""{head}
SELECT r.*, s."row" AS seat_row, s.number AS seat_number, s.held_by AS seat_held_by,
    s.hold_expires_at AS seat_hold_expires_at, s.sale_id AS seat_sale_id, s.ticket AS seat_ticket
FROM r
LEFT JOIN LATERAL (
    SELECT t.* FROM (
        SELECT left(label, 1)::char(1) AS "row", substr(label, 2)::int AS number
        FROM unnest(r.seats) AS label
        ORDER BY left(label, 1) COLLATE "C", substr(label, 2)::int
    ) AS v
    CROSS JOIN LATERAL (
        SELECT * FROM seats AS t
        WHERE t.session_id = r.session_id AND t."row" = v."row" AND t.number = v.number
        {lock}
    ) AS t
) AS s ON true
ORDER BY s."row", s.number
"""


LOCK_RESERVATION_AND_SEATS: Final = reservation_and_seats("FOR UPDATE")
LOCK_SESSION_RESERVATION_AND_SEATS: Final = reservation_and_seats(
    "FOR UPDATE", SESSION_AND_RESERVATION
)

# A saved reservation: an upsert, so that nothing needs its row count (it may ride along with a
# later statement, riders.Riders); the row exists whenever a use case saves a reservation it has
# read.
SAVE_RESERVATION: Final = (
    ADD_RESERVATION
    + """ON CONFLICT (id) DO UPDATE SET
    session_id = EXCLUDED.session_id, user_id = EXCLUDED.user_id, seats = EXCLUDED.seats,
    categories = EXCLUDED.categories, tickets = EXCLUDED.tickets,
    line_cents = EXCLUDED.line_cents, amount_cents = EXCLUDED.amount_cents,
    currency = EXCLUDED.currency, products = EXCLUDED.products,
    promo_code = EXCLUDED.promo_code, percent_off = EXCLUDED.percent_off,
    amount_off_cents = EXCLUDED.amount_off_cents,
    status = EXCLUDED.status, created_at = EXCLUDED.created_at,
    expires_at = EXCLUDED.expires_at, sale_id = EXCLUDED.sale_id
"""
)

# SKIP LOCKED: a reservation another sweeper (or its payer) holds is left to them, so each
# lapsed reservation is expired exactly once however many sweepers run.
LOCK_LAPSED: Final = f"""
SELECT {COLUMNS} FROM reservations
WHERE status = 'pending' AND expires_at <= %(now)s
ORDER BY expires_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

# A session's reservations stored as pending, locked in id order (session_life's lock order).
LOCK_PENDING: Final = f"""
SELECT {COLUMNS} FROM reservations
WHERE session_id = %(session_id)s AND status = 'pending'
ORDER BY id
FOR UPDATE
"""
