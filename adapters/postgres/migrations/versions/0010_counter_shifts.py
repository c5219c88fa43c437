"""The counter: operators' shifts, and each sale's channel, shift and payment method.

``shifts`` holds each operator's shift: its float, when it opened and closed, and its final
statement (the figures as closed, kept so that nothing later changes them).
``shifts_one_open_per_operator`` (a partial unique index) is the judge of "one open shift per
operator", however many opens race. A sale gains ``channel`` (``online`` or ``counter``), and a
counter sale its ``shift_id``, ``payment_method`` and the cash ``tendered_cents``;
``sales_counter_complete`` admits a counter sale only with its shift and method.

Carried data: every sale stored before this revision was made online, so it reads ``online``
with no shift (the column's default fills it, with no rewrite of the table).

The downgrade refuses while a counter sale exists: revision 0009 would keep it as an online
sale, its till forgotten.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0010"
# A sibling revision 0009 is made at the same time; the two are put in a line when merged.
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shifts",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("operator", sa.Text, nullable=False),
        sa.Column("float_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("statement", pg.JSONB),
        sa.CheckConstraint("float_cents >= 0", name="shifts_float_not_negative"),
        sa.CheckConstraint(
            "(closed_at IS NULL) = (statement IS NULL)", name="shifts_closed_with_statement"
        ),
    )
    op.create_index(
        "shifts_one_open_per_operator",
        "shifts",
        ["operator"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.add_column("sales", sa.Column("channel", sa.Text, nullable=False, server_default="online"))
    op.add_column("sales", sa.Column("shift_id", pg.UUID(as_uuid=True), sa.ForeignKey("shifts.id")))
    op.add_column("sales", sa.Column("payment_method", sa.Text))
    op.add_column("sales", sa.Column("tendered_cents", sa.BigInteger))
    op.create_check_constraint(
        "sales_counter_complete",
        "sales",
        "(channel = 'online' AND shift_id IS NULL AND payment_method IS NULL"
        " AND tendered_cents IS NULL)"
        " OR (channel = 'counter' AND shift_id IS NOT NULL"
        " AND payment_method IN ('cash', 'card', 'pix'))",
    )
    op.create_index(
        "sales_shift_idx", "sales", ["shift_id"], postgresql_where=sa.text("shift_id IS NOT NULL")
    )


def downgrade() -> None:
    counted = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM sales WHERE channel = 'counter'"))
        .scalar_one()
    )
    if counted:
        raise RuntimeError(
            f"{counted} sales were made at the counter, which revision 0009 cannot describe"
        )
    op.drop_index("sales_shift_idx", "sales")
    op.drop_constraint("sales_counter_complete", "sales", type_="check")
    for column in ("tendered_cents", "payment_method", "shift_id", "channel"):
        op.drop_column("sales", column)
    op.drop_index("shifts_one_open_per_operator", "shifts")
    op.drop_table("shifts")
