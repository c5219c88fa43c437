"""Each outbox row carries the W3C traceparent of the request that recorded it
(``outbox.traceparent``), which the relay sends as the message's ``traceparent`` header so that
the consumers continue that request's trace.

Carried data: every event stored before this revision keeps its row, published or not, with no
traceparent (NULL): the relay sends those without the header, as it did. The downgrade drops the
column; the events themselves are untouched either way.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds it without rewriting the table, however long the
    # outbox has grown.
    op.add_column("outbox", sa.Column("traceparent", sa.Text))


def downgrade() -> None:
    op.drop_column("outbox", "traceparent")
