"""The partial index of seats covers every seat that is not plainly free.

``seats_taken_idx`` held the sold seats and those with a hold time. Reading a seat map now
fetches only the seats that differ from a free one (sold, held, or with a holder left behind)
and fills in the rest, so the index covers exactly those: ``held_by`` or ``sale_id`` set (a hold
time without a holder is refused by ``seats_hold_has_holder``, so this includes the old
predicate). Availability counts use it as well; one partial index is kept, not two.

Built without CONCURRENTLY (migrations run in a transaction): on a large ``seats`` table, run
this migration when the box office is quiet, as writes to seats wait for the build.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "seats_touched_idx",
        "seats",
        ["session_id"],
        postgresql_where=sa.text("held_by IS NOT NULL OR sale_id IS NOT NULL"),
    )
    op.drop_index("seats_taken_idx", table_name="seats")


def downgrade() -> None:
    op.create_index(
        "seats_taken_idx",
        "seats",
        ["session_id"],
        postgresql_where=sa.text("sale_id IS NOT NULL OR hold_expires_at IS NOT NULL"),
    )
    op.drop_index("seats_touched_idx", table_name="seats")
