"""The audit trail is the outbox's published rows: ``audit_events`` and the consumer that copied
every event into it are gone.

Every event the audit consumer recorded was first a row of the outbox, which keeps its rows: so
the trail loses nothing. Carried data: any row of ``audit_events`` whose event is not in the
outbox (none, unless rows were deleted from the outbox by hand) is added to it, published at the
time it was recorded, in its order. The way back builds ``audit_events`` again from the outbox's
published rows, in their order.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        INSERT INTO outbox (id, type, occurred_at, session_id, data, published_at)
        SELECT a.id, a.type, a.occurred_at, a.session_id, a.data, a.recorded_at
        FROM audit_events a
        WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = a.id)
        ORDER BY a.seq
        """
    )
    op.drop_table("audit_events")


def downgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.Text),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("audit_events_type_seq_idx", "audit_events", ["type", "seq"])
    op.create_index("audit_events_session_seq_idx", "audit_events", ["session_id", "seq"])
    op.execute(
        """
        INSERT INTO audit_events (id, type, occurred_at, session_id, data, recorded_at)
        SELECT id, type, occurred_at, session_id, data, published_at
        FROM outbox WHERE published_at IS NOT NULL
        ORDER BY seq
        """
    )
