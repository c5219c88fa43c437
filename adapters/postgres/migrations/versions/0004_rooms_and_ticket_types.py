"""Rooms with layouts, sessions in rooms (duration, prices per category, ticket types), lines on
reservations and sales, the ticket a seat is held or sold as.

Today's data is carried forward as the first API shape would make it now: each session gets a
private rectangular room of standard seats (cinema ``""``, named after its old ``room`` text,
``rows`` × ``"s" * seats_per_row``), lasts 120 minutes, sells the default ticket types (full
100 %, half 50 % with a 40 % quota) at its one price for ``standard``; every reservation and
sale gets a line per seat (category ``standard``, ticket ``full``, the session's price), and
held or sold seats the ticket ``full``.

Two sessions of one room never overlap: an exclusion constraint on ``[starts_at, ends_at)``,
so the database judges it even when two processes create them at the same instant.

Dropped: ``sessions.room``, ``rows``, ``seats_per_row`` (the room says them now). Kept, though
derivable: ``sessions.price_cents`` (the lowest price, ``Session.price``), ``reservations`` and
``sales``' ``seats`` and ``amount_cents`` (the lines' seats and total): reports and the
invariant checks read them without unpacking lines.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMPTZ = sa.DateTime(timezone=True)
# Written out rather than imported: a migration describes the data as it was when written, and
# must not change when the model's defaults do.
LEGACY_TICKET_TYPES = (
    '[{"code": "full", "name": "Inteira", "percent": 100},'
    ' {"code": "half", "name": "Meia-entrada", "percent": 50, "quota_percent": 40}]'
)
LEGACY_DURATION = 120
OLD_TOUCHED = "held_by IS NOT NULL OR sale_id IS NOT NULL"
# A seat with a ticket left on it is not plainly free either: the seat map hands seats over as
# stored, so the partial index covers it too (the model clears the ticket with the hold).
TOUCHED = "held_by IS NOT NULL OR sale_id IS NOT NULL OR ticket IS NOT NULL"


def upgrade() -> None:
    # Both ship with PostgreSQL (contrib) and are trusted extensions: btree_gist lets one gist
    # index mix "same room" (=) with "overlapping time" (&&); pg_trgm indexes substring search.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    op.create_table(
        "rooms",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("cinema", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("layout", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("private", sa.Boolean, nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("cardinality(layout) BETWEEN 1 AND 26", name="rooms_rows_range"),
    )
    # One name per cinema; private rooms (one per session of the first API shape) apart. In
    # code-point order ("C"), which is how the in-memory store sorts listings, so it serves
    # GET /rooms?cinema= ordered by name as well.
    op.execute(
        'CREATE UNIQUE INDEX rooms_cinema_name_key ON rooms (cinema COLLATE "C", name COLLATE "C")'
        " WHERE NOT private"
    )

    # -- sessions ---------------------------------------------------------------------------
    # Constant defaults cost no table rewrite; they only fill today's rows and are dropped
    # below, so that the code always says what it stores.
    op.add_column("sessions", sa.Column("room_id", UUID, sa.ForeignKey("rooms.id")))
    op.add_column("sessions", sa.Column("cinema", sa.Text, nullable=False, server_default=""))
    op.add_column(
        "sessions",
        sa.Column(
            "duration_minutes",
            sa.Integer,
            nullable=False,
            server_default=str(LEGACY_DURATION),
        ),
    )
    op.add_column("sessions", sa.Column("ends_at", TIMESTAMPTZ))
    op.add_column("sessions", sa.Column("prices", pg.JSONB))
    op.add_column(
        "sessions",
        sa.Column(
            "ticket_types",
            pg.JSONB,
            nullable=False,
            server_default=sa.text(f"'{LEGACY_TICKET_TYPES}'::jsonb"),
        ),
    )
    op.add_column(
        "sessions",
        sa.Column("forbid_single_gaps", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("sessions", sa.Column("seat_count", sa.Integer))
    op.add_column("sessions", sa.Column("movie_lower", sa.Text))
    op.execute(
        f"""
        WITH legacy AS MATERIALIZED (
            SELECT id AS session_id, gen_random_uuid() AS room_id, room, "rows", seats_per_row,
                created_at
            FROM sessions
        ), made AS (
            INSERT INTO rooms (id, cinema, name, layout, private, created_at)
            SELECT room_id, '', room, array_fill(repeat('s', seats_per_row), ARRAY["rows"]),
                true, created_at
            FROM legacy
        )
        UPDATE sessions AS s SET
            room_id = l.room_id,
            ends_at = s.starts_at + interval '{LEGACY_DURATION} minutes',
            prices = jsonb_build_object('standard', s.price_cents),
            seat_count = s."rows" * s.seats_per_row
        FROM legacy AS l
        WHERE s.id = l.session_id
        """
    )
    _fill_movie_lower()
    for column in ("room_id", "ends_at", "prices", "seat_count", "movie_lower"):
        op.alter_column("sessions", column, nullable=False)
    for column in ("cinema", "duration_minutes", "ticket_types", "forbid_single_gaps"):
        op.alter_column("sessions", column, server_default=None)
    for column in ("room", "rows", "seats_per_row"):
        op.drop_column("sessions", column)
    op.create_check_constraint(
        "sessions_duration_range", "sessions", "duration_minutes BETWEEN 1 AND 600"
    )
    op.create_check_constraint(
        "sessions_ends_after_duration",
        "sessions",
        "ends_at = starts_at + duration_minutes * interval '1 minute'",
    )
    op.create_check_constraint("sessions_seat_count_positive", "sessions", "seat_count > 0")
    # The judge of "a room never hosts two sessions at once", whatever the code above it does
    # and however many processes create sessions at the same instant. Its gist index also finds
    # the other session of a refused one (PostgresTransaction.add_session).
    op.execute(
        "ALTER TABLE sessions ADD CONSTRAINT sessions_room_no_overlap EXCLUDE USING gist "
        "(room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)"
    )
    # GET /sessions?cinema= pages by (starts_at, id) within one cinema.
    op.create_index("sessions_cinema_starts_at_id_idx", "sessions", ["cinema", "starts_at", "id"])
    # GET /sessions?movie=: a substring anywhere in the title, as LIKE '%…%' on trigrams.
    op.execute(
        "CREATE INDEX sessions_movie_trgm_idx ON sessions USING gin (movie_lower gin_trgm_ops)"
    )

    # -- seats ------------------------------------------------------------------------------
    op.add_column("seats", sa.Column("ticket", sa.Text))
    op.execute(f"UPDATE seats SET ticket = 'full' WHERE {OLD_TOUCHED}")
    op.create_index(
        "seats_touched_idx_new", "seats", ["session_id"], postgresql_where=sa.text(TOUCHED)
    )
    op.drop_index("seats_touched_idx", table_name="seats")
    op.execute("ALTER INDEX seats_touched_idx_new RENAME TO seats_touched_idx")

    # -- reservations and sales: one line per seat, as parallel arrays ------------------------
    for table in ("reservations", "sales"):
        op.add_column(table, sa.Column("categories", pg.ARRAY(sa.Text)))
        op.add_column(table, sa.Column("tickets", pg.ARRAY(sa.Text)))
        op.add_column(table, sa.Column("line_cents", pg.ARRAY(sa.BigInteger)))
        op.execute(
            f"""
            UPDATE {table} AS t SET
                categories = array_fill('standard'::text, ARRAY[cardinality(t.seats)]),
                tickets = array_fill('full'::text, ARRAY[cardinality(t.seats)]),
                line_cents = array_fill(s.price_cents, ARRAY[cardinality(t.seats)])
            FROM sessions AS s
            WHERE s.id = t.session_id
            """
        )
        for column in ("categories", "tickets", "line_cents"):
            op.alter_column(table, column, nullable=False)
        op.create_check_constraint(
            f"{table}_lines_whole",
            table,
            "cardinality(categories) = cardinality(seats) AND cardinality(tickets) = "
            "cardinality(seats) AND cardinality(line_cents) = cardinality(seats)",
        )
        # A ticket type of a few percent of a price of a few cents rounds to zero: a free
        # ticket is odd but lawful, and must not make the store refuse the sale.
        op.drop_constraint(f"{table}_amount_positive", table, type_="check")
        op.create_check_constraint(f"{table}_amount_not_negative", table, "amount_cents >= 0")


def _fill_movie_lower() -> None:
    # Python's str.lower, not SQL's lower(): the filter compares as SessionFilter.admits does,
    # and PostgreSQL's lower() depends on the server's locale (under "C" it leaves É alone).
    connection = op.get_bind()
    found = connection.execute(sa.text("SELECT id, movie FROM sessions")).all()
    if found:
        connection.execute(
            sa.text(
                "UPDATE sessions AS s SET movie_lower = v.lower "
                "FROM unnest(CAST(:ids AS uuid[]), CAST(:lowers AS text[])) AS v(id, lower) "
                "WHERE s.id = v.id"
            ),
            {"ids": [row.id for row in found], "lowers": [row.movie.lower() for row in found]},
        )


def downgrade() -> None:
    connection = op.get_bind()
    shaped = connection.execute(
        sa.text(
            "SELECT count(*) FROM sessions AS s JOIN rooms AS r ON r.id = s.room_id "
            "WHERE EXISTS (SELECT 1 FROM unnest(r.layout) AS row_ "
            "WHERE row_ !~ '^s+$' OR length(row_) <> length(r.layout[1]))"
        )
    ).scalar_one()
    if shaped:
        raise RuntimeError(
            f"{shaped} sessions are in rooms that are not rectangles of standard seats, which "
            "revision 0003 cannot describe; not downgrading"
        )
    for table in ("reservations", "sales"):
        op.drop_constraint(f"{table}_amount_not_negative", table, type_="check")
        op.create_check_constraint(f"{table}_amount_positive", table, "amount_cents > 0")
        op.drop_constraint(f"{table}_lines_whole", table, type_="check")
        for column in ("categories", "tickets", "line_cents"):
            op.drop_column(table, column)

    op.create_index(
        "seats_touched_idx_old", "seats", ["session_id"], postgresql_where=sa.text(OLD_TOUCHED)
    )
    op.drop_index("seats_touched_idx", table_name="seats")
    op.execute("ALTER INDEX seats_touched_idx_old RENAME TO seats_touched_idx")
    op.drop_column("seats", "ticket")

    op.add_column("sessions", sa.Column("room", sa.Text))
    op.add_column("sessions", sa.Column("rows", sa.Integer))
    op.add_column("sessions", sa.Column("seats_per_row", sa.Integer))
    op.execute(
        'UPDATE sessions AS s SET room = r.name, "rows" = cardinality(r.layout), '
        "seats_per_row = length(r.layout[1]) FROM rooms AS r WHERE r.id = s.room_id"
    )
    for column in ("room", "rows", "seats_per_row"):
        op.alter_column("sessions", column, nullable=False)
    op.create_check_constraint("sessions_rows_range", "sessions", "rows BETWEEN 1 AND 26")
    op.create_check_constraint(
        "sessions_seats_per_row_range", "sessions", "seats_per_row BETWEEN 1 AND 100"
    )
    op.drop_index("sessions_movie_trgm_idx", table_name="sessions")
    op.drop_index("sessions_cinema_starts_at_id_idx", table_name="sessions")
    op.drop_constraint("sessions_room_no_overlap", "sessions")
    for column in (
        "movie_lower",
        "seat_count",
        "forbid_single_gaps",
        "ticket_types",
        "prices",
        "ends_at",
        "duration_minutes",
        "cinema",
        "room_id",
    ):
        op.drop_column("sessions", column)
    op.drop_table("rooms")
    # The extensions stay: other objects may use them, and they cost nothing unused.
