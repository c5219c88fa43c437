"""The counter's goods: products (combos, snacks) with their stock, promo codes, and both on
reservations and sales.

``products`` keeps each product's price and ``stock_left`` (null: no stock kept), never below
zero (``products_stock_not_negative``); ``promo_codes`` each code's discount (a percentage or an
amount, exactly one: ``promo_codes_one_discount``) and limits. A reservation and a sale gain
``products`` (their product lines as JSON), and ``promo_code`` with ``percent_off`` or
``amount_off_cents`` (the discount they carry); ``amount_cents`` stays what the claim costs.

Carried data: every reservation and sale stored before this revision carries no products and
no discount (``[]`` and nulls), so their amounts are as they were. The downgrade refuses while
a reservation carries products or a promo code (0008 could not tell what it cost).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_CLAIMS = ("reservations", "sales")

_CARRYING = """
SELECT count(*) FROM reservations WHERE products <> '[]'::jsonb OR promo_code IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("price_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("stock_left", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stock_left >= 0", name="products_stock_not_negative"),
        sa.CheckConstraint("price_cents >= 0", name="products_price_not_negative"),
    )
    op.create_table(
        "promo_codes",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("percent_off", sa.Integer),
        sa.Column("amount_off_cents", sa.BigInteger),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("max_uses", sa.Integer),
        sa.Column("per_user", sa.Integer),
        sa.Column("valid_from", sa.DateTime(timezone=True)),
        sa.Column("valid_to", sa.DateTime(timezone=True)),
        sa.Column("movie", sa.Text),
        sa.Column("cinema", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(percent_off IS NULL) <> (amount_off_cents IS NULL)", name="promo_codes_one_discount"
        ),
    )
    for table in _CLAIMS:
        op.add_column(
            table,
            sa.Column("products", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        )
        op.add_column(table, sa.Column("promo_code", sa.Text))
        op.add_column(table, sa.Column("percent_off", sa.Integer))
        op.add_column(table, sa.Column("amount_off_cents", sa.BigInteger))
    # A code's uses are counted among the reservations carrying it (sql.promo_codes).
    op.create_index(
        "reservations_promo_code",
        "reservations",
        ["promo_code"],
        postgresql_where=sa.text("promo_code IS NOT NULL"),
    )


def downgrade() -> None:
    carrying = op.get_bind().execute(sa.text(_CARRYING)).scalar_one()
    if carrying:
        raise RuntimeError(
            f"{carrying} reservations carry products or a promo code, "
            "which revision 0008 cannot describe"
        )
    op.drop_index("reservations_promo_code", table_name="reservations")
    for table in _CLAIMS:
        for column in ("amount_off_cents", "percent_off", "promo_code", "products"):
            op.drop_column(table, column)
    op.drop_table("promo_codes")
    op.drop_table("products")
