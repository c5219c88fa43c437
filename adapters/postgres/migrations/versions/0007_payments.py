"""Payments through a provider: a ``payments`` row beside its reservation for each attempt at
taking money, and ``payment_notices``, the provider notifications already handled.

The constraints that make the money rules hold whatever the code above does:

- ``payments_one_pending_key`` (unique on ``reservation_id`` where ``status = 'pending'``): one
  attempt in flight per reservation, so two processes starting a payment at once cannot both
  ask for a charge;
- ``payments_sale_id_key`` (unique, and a foreign key to ``sales``): a sale is made by one
  payment; with ``sales.reservation_id`` unique, one sale per reservation however many
  payments were approved;
- ``payments_approved_has_sale``: an approved payment names the sale it made;
- ``payments_refunded_within_amount``: never more given back than was taken;
- ``payments_attempt_key_key``: one payment per idempotency key sent to the provider;
- ``payments_charge_key`` (unique ``(provider, charge_id)``): a provider's charge is one
  payment's, so a notice about it finds exactly one row to lock;
- ``payment_notices_pkey`` (``(provider, notice)``): a notification is handled once, however
  many copies arrive at however many processes.

``payments_due_idx`` serves reconciliation (``lock_payments_due``): the open payments by
``heard_at``. There is nothing to carry: no payment was taken before this revision, and every
existing sale was paid at once (it has no payment row).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMPTZ = sa.DateTime(timezone=True)
STATUSES = ("pending", "approved", "declined", "expired", "refunded", "review")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("reservation_id", UUID, sa.ForeignKey("reservations.id"), nullable=False),
        sa.Column("session_id", UUID, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("expires_at", TIMESTAMPTZ, nullable=False),
        sa.Column("attempt_key", sa.Text, nullable=False),
        sa.Column("heard_at", TIMESTAMPTZ, nullable=False),
        sa.Column("charge_id", sa.Text),
        # The Pix the buyer pays with, whole (all null while the provider has not answered).
        sa.Column("pix_qr_code", sa.Text),
        sa.Column("pix_qr_code_base64", sa.Text),
        sa.Column("pix_ticket_url", sa.Text),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("sale_id", UUID, sa.ForeignKey("sales.id")),
        # Null: nothing refunded (Payment.refunded None).
        sa.Column("refunded_cents", sa.BigInteger),
        sa.Column("settled_at", TIMESTAMPTZ),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
            name="payments_status_known",
        ),
        sa.CheckConstraint("amount_cents >= 0", name="payments_amount_not_negative"),
        sa.CheckConstraint(
            "status <> 'approved' OR sale_id IS NOT NULL", name="payments_approved_has_sale"
        ),
        sa.CheckConstraint(
            "refunded_cents IS NULL OR refunded_cents BETWEEN 0 AND amount_cents",
            name="payments_refunded_within_amount",
        ),
        sa.CheckConstraint(
            "(pix_qr_code IS NULL) = (pix_qr_code_base64 IS NULL)", name="payments_pix_whole"
        ),
        sa.UniqueConstraint("attempt_key", name="payments_attempt_key_key"),
        sa.UniqueConstraint("sale_id", name="payments_sale_id_key"),
        sa.UniqueConstraint("provider", "charge_id", name="payments_charge_key"),
    )
    op.create_index(
        "payments_one_pending_key",
        "payments",
        ["reservation_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("payments_reservation_id_idx", "payments", ["reservation_id", "created_at"])
    op.create_index(
        "payments_due_idx",
        "payments",
        ["heard_at", "id"],
        postgresql_where=sa.text("status IN ('pending', 'review')"),
    )

    op.create_table(
        "payment_notices",
        sa.Column("provider", sa.Text, primary_key=True),
        sa.Column("notice", sa.Text, primary_key=True),
        sa.Column("payment_id", UUID, sa.ForeignKey("payments.id")),
        sa.Column("handled_at", TIMESTAMPTZ, nullable=False),
    )


def downgrade() -> None:
    owed = op.get_bind().execute(
        sa.text("SELECT count(*) FROM payments WHERE status IN ('pending', 'review')")
    )
    count = owed.scalar_one()
    if count:
        # Revision 0006 has no word for money in flight or owed back: it would be forgotten.
        raise RuntimeError(f"{count} payments are pending or owed back, which 0006 cannot keep")
    op.drop_table("payment_notices")
    op.drop_table("payments")
