"""A session's seats: locked by label, saved, inserted, and read for the seat map and the
availability counts."""

from __future__ import annotations

from typing import Final

COLUMNS: Final = 's."row", s.number, s.held_by, s.hold_expires_at, s.sale_id, s.ticket'


# The seats that are not plainly free: seats_touched_idx's predicate (migration 0004). Every
# statement that counts or reads such seats spells it out, so the planner takes that index.
def touched(seat: str) -> str:
    return (
        f"({seat}.held_by IS NOT NULL OR {seat}.sale_id IS NOT NULL OR {seat}.ticket IS NOT NULL)"
    )


TOUCHED: Final = touched("s")
# The labels asked for, as rows. Callers send them de-duplicated, in label order.
LABELS: Final = 'unnest(%(rows)s::char(1)[], %(numbers)s::int[]) AS v("row", number)'


# Each seat is found by its primary key in a LATERAL subquery: one index probe per label, the
# only plan whatever the table's statistics say. Written as a plain join, the seats and the labels
# leave the planner free to read all of a session's seats and hash them, and it did so:
# connections run generic plans (engine.create_engine), and on statistics that do not know the
# seats yet (a fresh database before autovacuum's first ANALYZE) that plan read a 2,600-seat
# session whole to lock one seat, ~1 ms of PostgreSQL per statement. A subquery that locks rows
# (or has an OFFSET) is never flattened into the join, so the loop over the labels stays.
# tests/contract/test_seat_plans.py holds each of these plans to the rows asked for.
def _by_label(columns: str, tail: str) -> str:
    return f"""
{LABELS}
CROSS JOIN LATERAL (
    SELECT {columns} FROM seats AS t
    WHERE t.session_id = %(session_id)s AND t."row" = v."row" AND t.number = v.number
    {tail}
) AS s"""


def by_label(lock: str) -> str:
    """The seats of the labels asked for, in label order, each taken with ``lock`` (a locking
    clause, or ``OFFSET 0`` to read them unlocked on the same plan)."""
    return f'SELECT {COLUMNS}\nFROM{_by_label("*", lock)}\nORDER BY s."row", s.number\n'


# Rows are locked as the loop reaches their label, i.e. in the label order the caller sends
# them in: two requests for crossed seats ([A1, A3] and [A3, A1]) queue on A1 instead of
# deadlocking. Under READ COMMITTED a locked row is re-read at its newest committed version, so
# a request that waited sees the winner's hold.
LOCK_SEATS: Final = by_label("FOR UPDATE")
# Best available's try: seats another transaction has locked are skipped, not waited for, so
# buyers choosing at once take different seats. Never waits, so it cannot join a deadlock.
TRY_LOCK_SEATS: Final = by_label("FOR UPDATE SKIP LOCKED")

# The seats are found as above, then updated by their row's address (a TID scan). The port's
# callers have locked them earlier in the transaction, so the version this statement sees is the
# newest one; a row updated meanwhile (were it not locked) is waited for and written at its
# newest version, as a plain UPDATE would.
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

# Every seat for sale of a new session in one statement: the labels go as two arrays that
# unnest() zips into rows. A 2,600-seat room is one round trip, not 2,600 parameter sets.
ADD_SEATS: Final = """
INSERT INTO seats (session_id, "row", number)
SELECT %(session_id)s, v."row", v.number
FROM unnest(%(rows)s::char(1)[], %(numbers)s::int[]) AS v("row", number)
"""

# A process keeps the seats of its last read of each session with the snapshot that read was
# taken at (pg_current_snapshot(), as text), and then reads only what changed since: the rows
# whose last writer (changed_by, stamped by a trigger: migration 0014) is not visible in that
# snapshot. No writer visible in it can have been after it, and every writer that was still
# running or yet to come is not visible in it, so none is missed, whatever order transactions
# commit in; a transaction still running now is in neither and is seen by a later read. Such
# writers have ids from the snapshot's xmin on, which seats_changed_idx finds: a read costs the
# seats changed since, not the session's touched seats. Reads are autocommit statements, whose
# snapshot never includes an uncommitted write of their own.
_SNAPSHOT = "pg_current_snapshot()::text"

# The room's layout and the snapshot (one row), then the seats that are not plainly free: the
# free ones are every other seat for sale, which the caller fills in from the layout (a
# 2,600-seat map is then a few rows, not 2,600). One statement, so the snapshot is that of the
# seats read. An unknown session returns no row at all. held_by alone (no expiry) is no hold,
# but the port hands seats over as stored, so it is read; a hold time always has a holder
# (seats_hold_has_holder). The seats come from seats_touched_idx (see TOUCHED).
TOUCHED_SEATS: Final = f"""
SELECT r.layout, {_SNAPSHOT},
    NULL::char(1), NULL::int, NULL::uuid, NULL::timestamptz, NULL::uuid, NULL::text
FROM sessions AS se JOIN rooms AS r ON r.id = se.room_id
WHERE se.id = %(session_id)s
UNION ALL
SELECT NULL, NULL, {COLUMNS} FROM seats AS s WHERE s.session_id = %(session_id)s AND {TOUCHED}
"""

# The snapshot now (one row), then every seat of the session written since the snapshot
# ``since`` (touched or not: a seat that became free again is one of them).
CHANGED_SEATS: Final = f"""
SELECT {_SNAPSHOT},
    NULL::char(1), NULL::int, NULL::uuid, NULL::timestamptz, NULL::uuid, NULL::text
UNION ALL
SELECT NULL, {COLUMNS} FROM seats AS s
WHERE s.session_id = %(session_id)s
    AND s.changed_by >= pg_snapshot_xmin(%(since)s::pg_snapshot)::text::bigint
    AND NOT pg_visible_in_snapshot(s.changed_by::text::xid8, %(since)s::pg_snapshot)
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
