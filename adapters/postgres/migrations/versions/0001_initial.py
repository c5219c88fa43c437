"""The initial schema: sessions and their seats, reservations, sales, the outbox, idempotency keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("movie", sa.Text, nullable=False),
        sa.Column("room", sa.Text, nullable=False),
        sa.Column("starts_at", TIMESTAMPTZ, nullable=False),
        sa.Column("price_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("seats_per_row", sa.Integer, nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("price_cents > 0", name="sessions_price_positive"),
        sa.CheckConstraint("rows BETWEEN 1 AND 26", name="sessions_rows_range"),
        sa.CheckConstraint("seats_per_row BETWEEN 1 AND 100", name="sessions_seats_per_row_range"),
    )
    # Keyset pages of GET /sessions: ORDER BY starts_at, id WHERE (starts_at, id) > cursor.
    op.create_index("sessions_starts_at_id_idx", "sessions", ["starts_at", "id"])

    op.create_table(
        "seats",
        sa.Column(
            "session_id",
            UUID,
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("row", sa.CHAR(1), primary_key=True, quote=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("held_by", UUID),
        sa.Column("hold_expires_at", TIMESTAMPTZ),
        sa.Column("sale_id", UUID),
        sa.CheckConstraint("number >= 1", name="seats_number_positive"),
        sa.CheckConstraint(
            "hold_expires_at IS NULL OR held_by IS NOT NULL", name="seats_hold_has_holder"
        ),
    )
    # The seats that are not plainly free (sold, or under a hold that may not have lapsed):
    # availability counts only these, so counting a 2,600-seat room reads the few taken ones.
    op.create_index(
        "seats_taken_idx",
        "seats",
        ["session_id"],
        postgresql_where=sa.text("sale_id IS NOT NULL OR hold_expires_at IS NOT NULL"),
    )

    op.create_table(
        "reservations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("session_id", UUID, sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("seats", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("expires_at", TIMESTAMPTZ, nullable=False),
        sa.Column("sale_id", UUID),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'expired', 'cancelled')",
            name="reservations_status_known",
        ),
        sa.CheckConstraint(
            "cardinality(seats) BETWEEN 1 AND 10", name="reservations_seat_count_range"
        ),
        sa.CheckConstraint("amount_cents > 0", name="reservations_amount_positive"),
        sa.CheckConstraint(
            "(status = 'confirmed') = (sale_id IS NOT NULL)",
            name="reservations_confirmed_has_sale",
        ),
    )
    # The sweeper's query: pending reservations by expiry. Only pending rows are indexed, so
    # the index stays as small as the number of live holds.
    op.create_index(
        "reservations_pending_expiry_idx",
        "reservations",
        ["expires_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "sales",
        sa.Column("id", UUID, primary_key=True),
        # UNIQUE: a reservation is sold at most once.
        sa.Column(
            "reservation_id",
            UUID,
            sa.ForeignKey("reservations.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("session_id", UUID, sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("seats", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("paid_at", TIMESTAMPTZ, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name="sales_amount_positive"),
    )
    # A user's purchases, newest first (scanned backwards), keyset on (paid_at, id).
    op.create_index("sales_user_paid_at_id_idx", "sales", ["user_id", "paid_at", "id"])

    # One row per sold seat; its primary key makes a second sale of a seat impossible.
    op.create_table(
        "sale_seats",
        sa.Column("session_id", UUID, primary_key=True),
        sa.Column("row", sa.CHAR(1), primary_key=True, quote=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("sale_id", UUID, sa.ForeignKey("sales.id"), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id", "row", "number"],
            ["seats.session_id", "seats.row", "seats.number"],
            name="sale_seats_seat_fkey",
        ),
    )
    op.create_index("sale_seats_sale_id_idx", "sale_seats", ["sale_id"])

    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("id", UUID, nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("occurred_at", TIMESTAMPTZ, nullable=False),
        sa.Column("session_id", sa.Text),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("published_at", TIMESTAMPTZ),
    )
    # The relay's queue: only unpublished rows are indexed.
    op.create_index(
        "outbox_unpublished_idx",
        "outbox",
        ["seq"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    # The audit trail's filters, newest first (both scanned backwards).
    op.create_index("outbox_type_seq_idx", "outbox", ["type", "seq"])
    op.create_index(
        "outbox_session_seq_idx",
        "outbox",
        ["session_id", "seq"],
        postgresql_where=sa.text("session_id IS NOT NULL"),
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("body", sa.LargeBinary),
        sa.Column("lease_until", TIMESTAMPTZ, nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.CheckConstraint(
            "(status IS NULL) = (body IS NULL)", name="idempotency_keys_answer_whole"
        ),
    )
    # The purge of keys older than a day.
    op.create_index("idempotency_keys_created_at_idx", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "outbox",
        "sale_seats",
        "sales",
        "reservations",
        "seats",
        "sessions",
    ):
        op.drop_table(table)
