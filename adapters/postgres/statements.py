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

from typing import Final

_SEAT_COLUMNS = 's."row", s.number, s.held_by, s.hold_expires_at, s.sale_id'
_RESERVATION_COLUMNS = (
    "id, session_id, user_id, seats, amount_cents, currency, status, created_at, expires_at,"
    " sale_id"
)
_SALE_COLUMNS = "id, reservation_id, session_id, user_id, seats, amount_cents, currency, paid_at"
# The labels asked for, as rows. Callers send them de-duplicated.
_LABELS = 'unnest(%(rows)s::char(1)[], %(numbers)s::int[]) AS v("row", number)'

_SELECT_SEATS = f"""
SELECT {_SEAT_COLUMNS}
FROM seats AS s JOIN {_LABELS} ON s."row" = v."row" AND s.number = v.number
WHERE s.session_id = %(session_id)s
ORDER BY s."row", s.number
"""
# Rows are locked as they leave the sort, i.e. in label order: two requests for crossed seats
# ([A1, A3] and [A3, A1]) queue on A1 instead of deadlocking. Under READ COMMITTED a locked row
# is re-read at its newest committed version, so a request that waited sees the winner's hold.
LOCK_SEATS: Final = _SELECT_SEATS + "FOR UPDATE OF s"
# TEST-ONLY (``row_locks=False``): the same read without the locks, for race tests' control runs.
READ_SEATS_UNLOCKED: Final = _SELECT_SEATS

SAVE_SEATS: Final = """
UPDATE seats AS s
SET held_by = v.held_by, hold_expires_at = v.hold_expires_at, sale_id = v.sale_id
FROM unnest(
    %(rows)s::char(1)[], %(numbers)s::int[], %(held_by)s::uuid[],
    %(hold_expires_at)s::timestamptz[], %(sale_ids)s::uuid[]
) AS v("row", number, held_by, hold_expires_at, sale_id)
WHERE s.session_id = %(session_id)s AND s."row" = v."row" AND s.number = v.number
"""

ADD_RESERVATION: Final = f"""
INSERT INTO reservations ({_RESERVATION_COLUMNS})
VALUES (
    %(id)s, %(session_id)s, %(user_id)s, %(seats)s::text[], %(amount_cents)s, %(currency)s,
    %(status)s, %(created_at)s, %(expires_at)s, %(sale_id)s
)
"""

LOCK_RESERVATION: Final = f"""
SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE id = %(id)s FOR UPDATE
"""

# A saved reservation: an upsert, so that nothing needs its row count (it may ride along with a
# later statement, below); the row exists whenever a use case saves a reservation it has read.
SAVE_RESERVATION: Final = (
    ADD_RESERVATION
    + """ON CONFLICT (id) DO UPDATE SET
    session_id = EXCLUDED.session_id, user_id = EXCLUDED.user_id, seats = EXCLUDED.seats,
    amount_cents = EXCLUDED.amount_cents, currency = EXCLUDED.currency,
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
        %(id)s, %(reservation_id)s, %(session_id)s, %(user_id)s, %(seats)s::text[],
        %(amount_cents)s, %(currency)s, %(paid_at)s
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
assert ADD_SALE.startswith("\nWITH ")
# Undoing a refused sale (the rare path): what ADD_SALE inserted before it found a seat sold.
UNDO_SALE_SEATS: Final = "DELETE FROM sale_seats WHERE sale_id = %(id)s"
UNDO_SALE: Final = "DELETE FROM sales WHERE id = %(id)s"

GET_SALE: Final = f"SELECT {_SALE_COLUMNS} FROM sales WHERE id = %(id)s"

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

GET_SESSION: Final = """
SELECT id, movie, room, starts_at, price_cents, currency, "rows", seats_per_row
FROM sessions WHERE id = %(id)s
"""

# The seats that are not plainly free, with the room's size: the free ones are every other
# label, which the caller fills in (a 2,600-seat map is then a few rows, not 2,600). A session
# without seats of note still returns its one row (LEFT JOIN); an unknown one returns none.
# held_by alone (no expiry) is no hold, but the port hands seats over as stored, so it counts;
# a hold time always has a holder (seats_hold_has_holder). The condition is seats_touched_idx's
# predicate, so the few touched seats come from that partial index (migration 0003).
TOUCHED_SEATS: Final = f"""
SELECT se."rows", se.seats_per_row, {_SEAT_COLUMNS}
FROM sessions AS se
LEFT JOIN seats AS s ON s.session_id = se.id
    AND (s.held_by IS NOT NULL OR s.sale_id IS NOT NULL)
WHERE se.id = %(session_id)s
"""

# The availability rule in SQL; Seat.status_at is the same rule in Python, and
# tests/contract/test_postgres_repo.py pins that both agree. A seat is taken when sold, or held
# by a hold that has not lapsed at ``now``; the rest are available. The first condition is
# seats_touched_idx's predicate, spelled out so the planner counts from that partial index (a
# 2,600-seat room is counted from its few touched seats).
AVAILABLE_COUNTS: Final = """
SELECT se.id, se."rows" * se.seats_per_row - (
    SELECT count(*) FROM seats AS s
    WHERE s.session_id = se.id
        AND (s.held_by IS NOT NULL OR s.sale_id IS NOT NULL)
        AND (s.sale_id IS NOT NULL OR (s.held_by IS NOT NULL AND s.hold_expires_at > %(now)s))
)
FROM sessions AS se
WHERE se.id = ANY(%(ids)s::uuid[])
"""


# A reservation write is held back (PostgresTransaction._defer) and sent as a data-modifying CTE
# of the next statement that does not read reservations: the outbox INSERT for a reservation
# (reserve, cancel), the sale for a payment. One round trip fewer per use case. The CTE runs in
# the same statement, in the same transaction; constraints (reservations_pkey, the sales
# foreign key) are checked at the end of the statement as for a statement of its own. The
# reservation's parameters are prefixed ``r_`` so as not to clash with the statement's.
def _with_reservation(reservation_sql: str, sql: str) -> str:
    cte = "WITH r AS (" + reservation_sql.replace("%(", "%(r_") + ")"
    if sql.startswith("\nWITH "):
        return cte + ", " + sql[len("\nWITH ") :]
    return cte + sql


WITH_RESERVATION: Final = {
    (kind, sql): _with_reservation(reservation_sql, sql)
    for kind, reservation_sql in (("add", ADD_RESERVATION), ("save", SAVE_RESERVATION))
    for sql in (ADD_SALE, ADD_EVENTS)
}


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
