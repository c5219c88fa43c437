"""A session: read with its room, locked (alone or with seats), inserted, changed."""

from __future__ import annotations

from typing import Final

from .seats import COLUMNS as SEAT_COLUMNS
from .seats import LABELS

# A session with its room, as rows.session_from_row reads it (the room's columns prefixed room_).
SESSION_COLUMNS: Final = (
    "se.id, se.movie, se.starts_at, se.duration_minutes, se.prices, se.currency,"
    " se.ticket_types, se.forbid_single_gaps, se.cancelled_at, se.rating, r.id AS room_id,"
    " r.cinema AS room_cinema,"
    " r.name AS room_name, r.layout AS room_layout, r.private AS room_private"
)
GET_SESSION: Final = f"""
SELECT {SESSION_COLUMNS}
FROM sessions AS se JOIN rooms AS r ON r.id = se.room_id
WHERE se.id = %(id)s
"""

# Skipped, not raised, when sessions_room_no_overlap refuses it (as sales.ADD_SALE does with its
# keys): the transaction stays usable to name the other session (OVERLAPPING_SESSION).
# Untargeted, so that the race tests' control run (which drops the constraint) shows what it
# prevents. No row back: refused, or a session of that id exists.
ADD_SESSION: Final = """
INSERT INTO sessions (
    id, movie, movie_lower, room_id, cinema, starts_at, duration_minutes, ends_at, prices,
    price_cents, currency, ticket_types, forbid_single_gaps, seat_count, cancelled_at, rating
)
VALUES (
    %(id)s, %(movie)s, %(movie_lower)s, %(room_id)s, %(cinema)s, %(starts_at)s,
    %(duration_minutes)s, %(ends_at)s, %(prices)s::jsonb, %(price_cents)s, %(currency)s,
    %(ticket_types)s::jsonb, %(forbid_single_gaps)s, %(seat_count)s, %(cancelled_at)s,
    %(rating)s
)
ON CONFLICT DO NOTHING
RETURNING id
"""

# What may have changed of a session since a process kept it, its row locked
# (Transaction.lock_session's modes). FOR KEY SHARE by every purchase: purchases never wait for
# each other, nor for a quota's FOR NO KEY UPDATE (quotas.LOCK_QUOTAS), which it does not
# conflict with. FOR UPDATE by a cancellation, the one mode that conflicts with FOR KEY SHARE:
# it waits for every purchase in flight and makes every later one wait (session_life). FOR NO
# KEY UPDATE by a change: it conflicts with another change or a cancellation (no lost update of
# the row), and with a quota's lock (a quota hold waits for a change, harmlessly), not with
# purchases: a purchase judged on the times just before a change is as if it came first, since
# a change leaves holds and sales as they are. (SAVE_SESSION's UPDATE itself takes FOR NO KEY
# UPDATE: it changes no column of a unique index.) The rating is read with them: a change
# saves it, so it must be the row's, not the one a process kept.
STATE: Final = "movie, starts_at, duration_minutes, cancelled_at, rating"
_LOCK_SESSION = f"""
SELECT {STATE} FROM sessions
WHERE id = %(id)s
FOR {{mode}}
"""
LOCK_SESSION: Final = {
    "purchase": _LOCK_SESSION.format(mode="KEY SHARE"),
    "change": _LOCK_SESSION.format(mode="NO KEY UPDATE"),
    "cancel": _LOCK_SESSION.format(mode="UPDATE"),
}


def session_and_seats(lock: str) -> str:
    """A purchase's first statement: the session's row locked FOR KEY SHARE (as LOCK_SESSION's
    "purchase"), then the seats asked for, each taken with ``lock`` (as seats.by_label), in that
    order: the seats' subquery reads the session's id from the locked row, so the row is locked
    before any seat is reached. One row per seat found, the session's columns (prefixed se_) on
    each; a session none of whose labels is found comes back once, with NULL seat columns; an
    unknown session, with no row."""
    return f"""
WITH se AS (
    SELECT id, {STATE} FROM sessions WHERE id = %(session_id)s FOR KEY SHARE
)
SELECT se.movie AS se_movie, se.starts_at AS se_starts_at,
    se.duration_minutes AS se_duration_minutes, se.cancelled_at AS se_cancelled_at,
    {SEAT_COLUMNS}
FROM se
LEFT JOIN LATERAL (
    SELECT t.* FROM {LABELS}
    CROSS JOIN LATERAL (
        SELECT * FROM seats AS t
        WHERE t.session_id = se.id AND t."row" = v."row" AND t.number = v.number
        {lock}
    ) AS t
) AS s ON true
ORDER BY s."row", s.number
"""


LOCK_SESSION_AND_SEATS: Final = session_and_seats("FOR UPDATE")
TRY_LOCK_SESSION_AND_SEATS: Final = session_and_seats("FOR UPDATE SKIP LOCKED")

# A changed or cancelled session; sessions_room_no_overlap judges the new times (an
# ExclusionViolation, raised as RoomBusy by the transaction).
SAVE_SESSION: Final = """
UPDATE sessions
SET movie = %(movie)s, movie_lower = %(movie_lower)s, starts_at = %(starts_at)s,
    duration_minutes = %(duration_minutes)s, ends_at = %(ends_at)s,
    cancelled_at = %(cancelled_at)s, rating = %(rating)s
WHERE id = %(id)s
"""

# The session whose [starts_at, ends_at) overlaps a refused one's in its room: read after the
# exclusion constraint refused the insert, so its snapshot sees the committed winner. The
# condition is the constraint's own, so its gist index finds it.
OVERLAPPING_SESSION: Final = """
SELECT id FROM sessions
WHERE room_id = %(room_id)s AND id <> %(id)s AND cancelled_at IS NULL
    AND tstzrange(starts_at, ends_at, '[)') && tstzrange(%(starts_at)s, %(ends_at)s, '[)')
ORDER BY starts_at, id
LIMIT 1
"""
