"""Each seat names the transaction that last wrote it, so a seat map is read as a delta.

A process that keeps a session's seats used to learn whether they were still current by
hashing every touched seat (all of a sold-out session's), on every read of its seat map. Now a
trigger stamps ``changed_by`` with the writing transaction's id on every insert and update, an
index on ``(session_id, changed_by)`` finds the rows written since a snapshot, and a read
fetches only the seats changed since the snapshot of its last read.

Carried data: existing rows keep ``changed_by`` NULL (no table rewrite), which reads as "not
changed since any snapshot"; every process reads each session whole once after the upgrade,
and every later write stamps its rows. Built without CONCURRENTLY (migrations run in a
transaction): on a large ``seats`` table, run this when the box office is quiet. The way back
drops the trigger, its function, the index and the column.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seats", sa.Column("changed_by", sa.BigInteger))
    # xid8 as bigint: 64 bits with the epoch, never wrapping, so it orders as the ids do.
    op.execute(
        """
        CREATE FUNCTION seats_stamp_changed_by() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.changed_by := pg_current_xact_id()::text::bigint;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER seats_changed_by BEFORE INSERT OR UPDATE ON seats
        FOR EACH ROW EXECUTE FUNCTION seats_stamp_changed_by()
        """
    )
    op.create_index("seats_changed_idx", "seats", ["session_id", "changed_by"])


def downgrade() -> None:
    op.drop_index("seats_changed_idx", table_name="seats")
    op.execute("DROP TRIGGER seats_changed_by ON seats")
    op.execute("DROP FUNCTION seats_stamp_changed_by()")
    op.drop_column("seats", "changed_by")
