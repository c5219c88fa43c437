"""The audit trail (fed by the ``audit`` consumer) and the event ids each consumer has handled.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=True),
        # Unique: a redelivered event is recorded once (INSERT … ON CONFLICT DO NOTHING).
        sa.Column("id", UUID, nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("occurred_at", TIMESTAMPTZ, nullable=False),
        sa.Column("session_id", sa.Text),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("recorded_at", TIMESTAMPTZ, nullable=False, server_default=sa.func.now()),
    )
    # GET /admin/events pages newest first, optionally by type or by session.
    op.create_index("audit_events_type_seq_idx", "audit_events", ["type", "seq"])
    op.create_index("audit_events_session_seq_idx", "audit_events", ["session_id", "seq"])

    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", UUID, primary_key=True),
        sa.Column("processed_at", TIMESTAMPTZ, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("audit_events")
