"""The hot path's SQL, written once: one fixed text per statement, whatever the number of seats.

Seat lists travel as array parameters (``unnest(%(rows)s, %(numbers)s)``), so a statement's text
never depends on its data. That is what lets these run without SQLAlchemy building and compiling
a statement per call (they go to psycopg as they are, through ``exec_driver_sql``), and what lets
psycopg prepare them on the server after a few uses on a connection (its prepared-statement cache
is keyed by the exact text). The ``Table`` objects in ``tables.py`` stay the schema's description
and serve the cold paths.

Parameters use psycopg's ``%(name)s`` style. Arrays are cast explicitly: a list of ``None`` (every
hold released) would otherwise have no type, and ``"row"`` is ``char(1)`` so that comparisons with
the column stay on its index.
"""

from __future__ import annotations

import functools
from typing import Final

_SEAT_COLUMNS = 's."row", s.number, s.held_by, s.hold_expires_at, s.sale_id, s.ticket'
# A reservation's and a sale's lines travel as parallel arrays (rows.lines_values).
_LINES = "seats, categories, tickets, line_cents, amount_cents, currency"
_LINE_VALUES = (
    "%(seats)s::text[], %(categories)s::text[], %(tickets)s::text[], %(line_cents)s::bigint[],"
    " %(amount_cents)s, %(currency)s"
)
_RESERVATION_COLUMNS = f"id, session_id, user_id, {_LINES}, status, created_at, expires_at, sale_id"
_SALE_COLUMNS = f"id, reservation_id, session_id, user_id, {_LINES}, paid_at"


# The seats that are not plainly free: seats_touched_idx's predicate (migration 0004). Every
# statement that counts or reads such seats spells it out, so the planner takes that index.
def _touched(seat: str) -> str:
    return (
        f"({seat}.held_by IS NOT NULL OR {seat}.sale_id IS NOT NULL OR {seat}.ticket IS NOT NULL)"
    )


TOUCHED: Final = _touched("s")
# The labels asked for, as rows. Callers send them de-duplicated, in label order.
_LABELS = 'unnest(%(rows)s::char(1)[], %(numbers)s::int[]) AS v("row", number)'


# Each seat is found by its primary key in a LATERAL subquery: one index probe per label, the
# only plan whatever the table's statistics say. Written as a plain join, the seats and the labels
# leave the planner free to read all of a session's seats and hash them, and it did so:
# connections run generic plans (engine.create_engine), and on statistics that do not know the
# seats yet (a fresh database before autovacuum's first ANALYZE) that plan read a 2,600-seat
# session whole to lock one seat, ~1 ms of PostgreSQL per statement. A subquery that locks rows
# (or has an OFFSET) is never flattened into the join, so the loop over the labels stays.
# tests/contract/test_seat_plans.py holds each of these plans to the rows asked for.
def _seats_by_label(columns: str, tail: str) -> str:
    return f"""
{_LABELS}
CROSS JOIN LATERAL (
    SELECT {columns} FROM seats AS t
    WHERE t.session_id = %(session_id)s AND t."row" = v."row" AND t.number = v.number
    {tail}
) AS s"""


# Rows are locked as the loop reaches their label, i.e. in the label order the caller sends
# them in: two requests for crossed seats ([A1, A3] and [A3, A1]) queue on A1 instead of
# deadlocking. Under READ COMMITTED a locked row is re-read at its newest committed version, so
# a request that waited sees the winner's hold.
_SELECT_SEATS = f'SELECT {_SEAT_COLUMNS}\nFROM{{labels}}\nORDER BY s."row", s.number\n'
LOCK_SEATS: Final = _SELECT_SEATS.format(labels=_seats_by_label("*", "FOR UPDATE"))
# Best available's try: seats another transaction has locked are skipped, not waited for, so
# buyers choosing at once take different seats. Never waits, so it cannot join a deadlock.
TRY_LOCK_SEATS: Final = _SELECT_SEATS.format(labels=_seats_by_label("*", "FOR UPDATE SKIP LOCKED"))
# TEST-ONLY (``row_locks=False``): the same read without the locks, for race tests' control runs.
READ_SEATS_UNLOCKED: Final = _SELECT_SEATS.format(labels=_seats_by_label("*", "OFFSET 0"))

# The seats are found as above, then updated by their row's address (a TID scan). The port's
# callers have locked them earlier in the transaction, so the version this statement sees is the
# newest one; without the locks (a race test's control run) a row updated meanwhile is waited
# for and written at its newest version, as a plain UPDATE would.
SAVE_SEATS: Final = """
UPDATE seats AS target
SET held_by = v.held_by, hold_expires_at = v.hold_expires_at, sale_id = v.sale_id,
    ticket = v.ticket
FROM unnest(
    %(rows)s::char(1)[], %(numbers)s::int[], %(held_by)s::uuid[],
    %(hold_expires_at)s::timestamptz[], %(sale_ids)s::uuid[], %(tickets)s::text[]
) AS v("row", number, held_by, hold_expires_at, sale_id, ticket)
CROSS JOIN LATERAL (
    SELECT t.ctid FROM seats AS t
    WHERE t.session_id = %(session_id)s AND t."row" = v."row" AND t.number = v.number
    OFFSET 0
) AS s
WHERE target.ctid = s.ctid
"""

ADD_RESERVATION: Final = f"""
INSERT INTO reservations ({_RESERVATION_COLUMNS})
VALUES (
    %(id)s, %(session_id)s, %(user_id)s, {_LINE_VALUES},
    %(status)s, %(created_at)s, %(expires_at)s, %(sale_id)s
)
"""

LOCK_RESERVATION: Final = f"""
SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE id = %(id)s FOR UPDATE
"""


# The reservation, locked, then each of its seats, locked in label order as LOCK_SEATS does (the
# labels sorted byte-wise, as Python sorts them): payment and cancellation in one round trip.
# One row per seat found, the reservation's columns on each; a reservation whose seats are all
# gone comes back once, with NULL seat columns.
_RESERVATION = f"""
WITH r AS (
    SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE id = %(id)s FOR UPDATE
)"""


def _reservation_and_seats(lock: str, head: str = _RESERVATION) -> str:
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


LOCK_RESERVATION_AND_SEATS: Final = _reservation_and_seats("FOR UPDATE")
# A payment's first statement: the reservation's session locked FOR KEY SHARE, then the
# reservation and its seats as above, in that order (session_life's). The session is found by
# the reservation's session_id read unlocked (a reservation never moves); the reservation's row
# is locked above its join with the locked session's row, so only once that row is. The
# session's columns come prefixed se_ on each row.
_SESSION_RES = f"""
WITH se AS (
    SELECT id AS se_id, movie AS se_movie, starts_at AS se_starts_at,
        duration_minutes AS se_duration_minutes, cancelled_at AS se_cancelled_at
    FROM sessions
    WHERE id = (SELECT session_id FROM reservations WHERE id = %(id)s)
    FOR KEY SHARE
), r AS (
    SELECT {_RESERVATION_COLUMNS}, se.* FROM reservations, se
    WHERE id = %(id)s AND session_id = se.se_id
    FOR UPDATE OF reservations
)"""


LOCK_SESSION_RESERVATION_AND_SEATS: Final = _reservation_and_seats("FOR UPDATE", _SESSION_RES)
# TEST-ONLY (``row_locks=False``): the session and the reservation locked, its seats read
# without locks.
LOCK_SESSION_RESERVATION_READ_SEATS: Final = _reservation_and_seats("OFFSET 0", _SESSION_RES)
# TEST-ONLY (``row_locks=False``): the reservation locked, its seats read without locks.
LOCK_RESERVATION_READ_SEATS: Final = _reservation_and_seats("OFFSET 0")

# A saved reservation: an upsert, so that nothing needs its row count (it may ride along with a
# later statement, below); the row exists whenever a use case saves a reservation it has read.
SAVE_RESERVATION: Final = (
    ADD_RESERVATION
    + """ON CONFLICT (id) DO UPDATE SET
    session_id = EXCLUDED.session_id, user_id = EXCLUDED.user_id, seats = EXCLUDED.seats,
    categories = EXCLUDED.categories, tickets = EXCLUDED.tickets,
    line_cents = EXCLUDED.line_cents, amount_cents = EXCLUDED.amount_cents,
    currency = EXCLUDED.currency,
    status = EXCLUDED.status, created_at = EXCLUDED.created_at,
    expires_at = EXCLUDED.expires_at, sale_id = EXCLUDED.sale_id
"""
)

# The sale and its seats in one statement. The database stays the judge of "never sold twice":
# sales.reservation_id is UNIQUE and sale_seats' primary key admits one sale per seat. Instead
# of letting a violation abort the transaction (which needed a savepoint round it), the
# inserts skip conflicting rows and the counts returned say what was refused: fewer sales than
# one means the reservation is already sold, fewer seats than asked means a seat is. A row
# another transaction is inserting is waited for, exactly as a plain INSERT would.
ADD_SALE: Final = f"""
WITH sale AS (
    INSERT INTO sales ({_SALE_COLUMNS})
    VALUES (
        %(id)s, %(reservation_id)s, %(session_id)s, %(user_id)s, {_LINE_VALUES}, %(paid_at)s
    )
    ON CONFLICT (reservation_id) DO NOTHING
    RETURNING id
), sold AS (
    INSERT INTO sale_seats (session_id, "row", number, sale_id)
    SELECT %(session_id)s, v."row", v.number, sale.id FROM sale, {_LABELS}
    -- sale_seats' one unique key is its primary key; untargeted, so that the race tests'
    -- control run (which drops that key) shows what it prevents.
    ON CONFLICT DO NOTHING
    RETURNING "row", number
)
SELECT (SELECT count(*) FROM sale), array(SELECT "row" || number FROM sold)
"""
# Undoing a refused sale (the rare path): what ADD_SALE inserted before it found a seat sold.
UNDO_SALE_SEATS: Final = "DELETE FROM sale_seats WHERE sale_id = %(id)s"
UNDO_SALE: Final = "DELETE FROM sales WHERE id = %(id)s"

GET_SALE: Final = f"SELECT {_SALE_COLUMNS}, refunded_seats FROM sales WHERE id = %(id)s"

# SKIP LOCKED: a reservation another sweeper (or its payer) holds is left to them, so each
# lapsed reservation is expired exactly once however many sweepers run.
LOCK_LAPSED: Final = f"""
SELECT {_RESERVATION_COLUMNS} FROM reservations
WHERE status = 'pending' AND expires_at <= %(now)s
ORDER BY expires_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

# The events as one JSON array (rows.events_json), inserted in the order they were emitted, which
# is the order of their seq and so of publication.
ADD_EVENTS: Final = """
INSERT INTO outbox (id, type, occurred_at, session_id, data)
SELECT e.id, e.type, e.occurred_at, e.session_id, e.data
FROM ROWS FROM (
    jsonb_to_recordset(%(events)s::jsonb)
        AS (id uuid, type text, occurred_at timestamptz, session_id text, data jsonb)
) WITH ORDINALITY AS e(id, type, occurred_at, session_id, data, emitted)
ORDER BY e.emitted
"""

# A session with its room, as rows.session_from_row reads it (the room's columns prefixed room_).
SESSION_COLUMNS: Final = (
    "se.id, se.movie, se.starts_at, se.duration_minutes, se.prices, se.currency,"
    " se.ticket_types, se.forbid_single_gaps, se.cancelled_at, r.id AS room_id,"
    " r.cinema AS room_cinema,"
    " r.name AS room_name, r.layout AS room_layout, r.private AS room_private"
)
GET_SESSION: Final = f"""
SELECT {SESSION_COLUMNS}
FROM sessions AS se JOIN rooms AS r ON r.id = se.room_id
WHERE se.id = %(id)s
"""

# What may have changed of a session since a process kept it, its row locked
# (Transaction.lock_session's modes). FOR KEY SHARE by every purchase: purchases never wait for
# each other, nor for a quota's FOR NO KEY UPDATE (LOCK_QUOTAS), which it does not conflict
# with. FOR UPDATE by a cancellation, the one mode that conflicts with FOR KEY SHARE: it waits
# for every purchase in flight and makes every later one wait (session_life). FOR NO KEY UPDATE
# by a change: it conflicts with another change or a cancellation (no lost update of the row),
# and with a quota's lock (a quota hold waits for a change, harmlessly), not with purchases: a
# purchase judged on the times just before a change is as if it came first, since a change
# leaves holds and sales as they are. (SAVE_SESSION's UPDATE itself takes FOR NO KEY UPDATE:
# it changes no column of a unique index.)
_SESSION_STATE = "movie, starts_at, duration_minutes, cancelled_at"
_LOCK_SESSION = f"""
SELECT {_SESSION_STATE} FROM sessions
WHERE id = %(id)s
FOR {{mode}}
"""
LOCK_SESSION: Final = {
    "purchase": _LOCK_SESSION.format(mode="KEY SHARE"),
    "change": _LOCK_SESSION.format(mode="NO KEY UPDATE"),
    "cancel": _LOCK_SESSION.format(mode="UPDATE"),
}


# A purchase's first statement: the session's row locked FOR KEY SHARE (as LOCK_SESSION's
# "purchase"), then the seats as LOCK_SEATS locks them, in that order: the seats' subquery reads
# the session's id from the locked row, so the row is locked before any seat is reached. One row
# per seat found, the session's columns (prefixed se_) on each; a session none of whose labels
# is found comes back once, with NULL seat columns; an unknown session, with no row.
def _session_and_seats(lock: str) -> str:
    return f"""
WITH se AS (
    SELECT id, {_SESSION_STATE} FROM sessions WHERE id = %(session_id)s FOR KEY SHARE
)
SELECT se.movie AS se_movie, se.starts_at AS se_starts_at,
    se.duration_minutes AS se_duration_minutes, se.cancelled_at AS se_cancelled_at,
    {_SEAT_COLUMNS}
FROM se
LEFT JOIN LATERAL (
    SELECT t.* FROM {_LABELS}
    CROSS JOIN LATERAL (
        SELECT * FROM seats AS t
        WHERE t.session_id = se.id AND t."row" = v."row" AND t.number = v.number
        {lock}
    ) AS t
) AS s ON true
ORDER BY s."row", s.number
"""


LOCK_SESSION_AND_SEATS: Final = _session_and_seats("FOR UPDATE")
TRY_LOCK_SESSION_AND_SEATS: Final = _session_and_seats("FOR UPDATE SKIP LOCKED")
# TEST-ONLY (``row_locks=False``): the session locked, the seats read without locks.
LOCK_SESSION_READ_SEATS: Final = _session_and_seats("OFFSET 0")

# A changed or cancelled session; sessions_room_no_overlap judges the new times (an
# ExclusionViolation, raised as RoomBusy by the transaction).
SAVE_SESSION: Final = """
UPDATE sessions
SET movie = %(movie)s, movie_lower = %(movie_lower)s, starts_at = %(starts_at)s,
    duration_minutes = %(duration_minutes)s, ends_at = %(ends_at)s,
    cancelled_at = %(cancelled_at)s
WHERE id = %(id)s
"""

# A session's reservations stored as pending, locked in id order (session_life's lock order).
LOCK_PENDING: Final = f"""
SELECT {_RESERVATION_COLUMNS} FROM reservations
WHERE session_id = %(session_id)s AND status = 'pending'
ORDER BY id
FOR UPDATE
"""

SESSION_SALES: Final = f"""
SELECT {_SALE_COLUMNS}, refunded_seats FROM sales WHERE session_id = %(session_id)s ORDER BY id
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

# A room that is not private, unless its cinema has one of that name (rooms_cinema_name_key):
# skipped, not raised, so the transaction stays usable (no row back: RoomExists).
ADD_ROOM: Final = """
INSERT INTO rooms (id, cinema, name, layout, private)
VALUES (%(id)s, %(cinema)s, %(name)s, %(layout)s::text[], %(private)s)
ON CONFLICT (cinema, name) WHERE NOT private DO NOTHING
RETURNING id
"""

# What a session's seats are now, in one short text: how many are touched, and the sum of a
# 64-bit hash of each one's label and of the transaction that last wrote it (xmin: any change to
# a row makes a new version of it, written by another transaction). A sum needs no sort, and
# two states of the seats share a text only by a 64-bit accident. Equal texts mean the same
# stored seats, so a process that kept the seats of its last read needs only this
# (SEAT_VERSION) to know they are still the session's. Written once, for both statements below.
_VERSION = (
    "count(*) || ':' || coalesce(sum(hashtextextended("
    "t.\"row\" || t.number || ':' || t.xmin::text, 0)), 0)"
)
SEAT_VERSION: Final = f"""
SELECT {_VERSION} FROM seats AS t WHERE t.session_id = %(session_id)s AND {_touched("t")}
"""

# The room's layout and the seats' version (one row), then the seats that are not plainly free:
# the free ones are every other seat for sale, which the caller fills in from the layout (a
# 2,600-seat map is then a few rows, not 2,600). One statement, so the version is that of the
# seats read. An unknown session returns no row at all. held_by alone (no expiry) is no hold,
# but the port hands seats over as stored, so it is read; a hold time always has a holder
# (seats_hold_has_holder). The seats come from seats_touched_idx (see TOUCHED).
TOUCHED_SEATS: Final = f"""
WITH t AS (
    SELECT s.xmin, {_SEAT_COLUMNS}
    FROM seats AS s
    WHERE s.session_id = %(session_id)s AND {TOUCHED}
)
SELECT r.layout, (SELECT {_VERSION} FROM t),
    NULL::char(1), NULL::int, NULL::uuid, NULL::timestamptz, NULL::uuid, NULL::text
FROM sessions AS se JOIN rooms AS r ON r.id = se.room_id
WHERE se.id = %(session_id)s
UNION ALL
SELECT NULL, NULL, t."row", t.number, t.held_by, t.hold_expires_at, t.sale_id, t.ticket FROM t
"""

# The availability rule in SQL; Seat.status_at is the same rule in Python, and
# tests/contract/test_postgres_repo.py pins that both agree. A seat is taken when sold, or held
# by a hold that has not lapsed at ``now``; the rest of the session's seats for sale are
# available. Counted from seats_touched_idx (a 2,600-seat room from its few touched seats).
AVAILABLE_COUNTS: Final = f"""
SELECT se.id, se.seat_count - (
    SELECT count(*) FROM seats AS s
    WHERE s.session_id = se.id
        AND {TOUCHED}
        AND (s.sale_id IS NOT NULL OR (s.held_by IS NOT NULL AND s.hold_expires_at > %(now)s))
)
FROM sessions AS se
WHERE se.id = ANY(%(ids)s::uuid[])
"""

# A session's ticket quotas are locked on its row (PostgresTransaction.quota_usage). FOR NO KEY
# UPDATE, not FOR UPDATE: every reservation and sale inserted for the session takes FOR KEY
# SHARE on this row (their foreign keys), and FOR UPDATE would queue all of them, full-price
# buyers included, behind whoever holds the quota lock. The session row is never updated.
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


# Writes that nothing reads back before the transaction's next statement (seats saved, a
# reservation, tickets) are held back by PostgresTransaction and sent as data-modifying CTEs of
# the next statement that only writes (the sale, the outbox INSERT), or of each other: one round
# trip and one statement instead of several. They run in that statement's snapshot and their
# constraints are checked at its end, as for statements of their own; none of them reads what
# another writes. Each rider's parameters are prefixed ``w<i>_`` so as not to clash.
_WITH = "\nWITH "


# A handful of use cases make a handful of combinations.
@functools.lru_cache(maxsize=64)
def riding(riders: tuple[str, ...], carrier: str | None) -> str:
    """The text of ``carrier`` (or, without one, of the last rider) with the others as CTEs."""
    if carrier is None:
        riders, carrier = riders[:-1], riders[-1]
    ctes = ", ".join(
        f"w{index} AS ({sql.replace('%(', f'%(w{index}_')})" for index, sql in enumerate(riders)
    )
    if not ctes:
        return carrier
    if carrier.startswith(_WITH):
        return f"WITH {ctes}, {carrier[len(_WITH) :]}"
    return f"WITH {ctes}{carrier}"


# The outbox relay (PostgresReservationRepo.relay_outbox), run after every commit that recorded
# events, in every process. The lock and the read stay two statements: under READ COMMITTED the
# read's snapshot must be taken after the lock is held, so that it sees what the previous holder
# marked published.
TRY_RELAY_LOCK: Final = "SELECT pg_try_advisory_xact_lock(%(key)s)"
UNPUBLISHED_EVENTS: Final = """
SELECT seq, id, type, occurred_at, data FROM outbox
WHERE published_at IS NULL
ORDER BY seq
LIMIT %(limit)s
"""
MARK_PUBLISHED: Final = "UPDATE outbox SET published_at = now() WHERE seq = ANY(%(seqs)s::bigint[])"
