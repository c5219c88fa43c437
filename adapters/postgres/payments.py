"""Payments on PostgreSQL: the ``Transaction`` methods that add, lock and save payments and note
provider notices, and the ``ReservationRepo`` reads of payments. The SQL is in
``sql.payments``; migration 0007 names the constraint behind each money rule.

Locks: a payment's row is locked FOR UPDATE by whatever decides its outcome (a notice, a
reconciler, a refund), so each payment has one outcome however many processes race; the
reconcilers skip rows locked by others (``lock_payments_due``). A payment is locked after
its reservation and seats when a use case takes both, never before them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import sqlalchemy as sa

from cinema_core.payments.errors import PaymentInProgress
from cinema_core.payments.payment import Payment, PaymentStatus

from . import rows
from .driver_errors import constraint_name
from .executor import Executor
from .sql import payments as payment_sql

# The partial unique index that admits one pending payment per reservation.
ONE_PENDING = "payments_one_pending_key"


class PaymentStatements:
    """The payment statements, on one executor: the ``Transaction`` methods that add, lock and
    save payments and note notices (``PostgresTransaction`` hands them here), and the reads of
    ``PostgresReservationRepo``. The statements that guard are class attributes, so that an
    unguarded variant (the race tests' control runs) can swap them."""

    ADD_PAYMENT: ClassVar[str] = payment_sql.ADD_PAYMENT
    NOTE_NOTICE: ClassVar[str] = payment_sql.NOTE_NOTICE

    def __init__(self, db: Executor):
        self._db = db

    def add_payment(self, payment: Payment) -> None:
        values = rows.payment_values(payment)
        if self._db.execute(self.ADD_PAYMENT, values).fetchone() is not None:
            return
        # Skipped by a unique key (sql.payments.ADD_PAYMENT): which one decides the answer.
        pending = self._db.scalar(
            payment_sql.PENDING_OF_RESERVATION, {"reservation_id": payment.reservation_id}
        )
        if pending is not None and payment.status is PaymentStatus.PENDING:
            raise PaymentInProgress(payment.reservation_id)
        raise ValueError(f"payment {payment.id}: its id, attempt key, charge or sale is taken")

    def lock_payment(self, payment_id: UUID) -> Payment | None:
        return self._one(payment_sql.LOCK_PAYMENT, {"id": payment_id})

    def lock_payment_of_charge(self, provider: str, charge_id: str) -> Payment | None:
        return self._one(
            payment_sql.LOCK_PAYMENT_OF_CHARGE, {"provider": provider, "charge_id": charge_id}
        )

    def lock_payment_of_sale(self, sale_id: UUID) -> Payment | None:
        return self._one(payment_sql.LOCK_PAYMENT_OF_SALE, {"sale_id": sale_id})

    def lock_open_payment(self, reservation_id: UUID) -> Payment | None:
        return self._one(payment_sql.LOCK_OPEN_PAYMENT, {"reservation_id": reservation_id})

    def save_payment(self, payment: Payment) -> None:
        try:
            saved = self._db.execute(payment_sql.SAVE_PAYMENT, rows.payment_values(payment))
        except sa.exc.DBAPIError as error:
            # Made pending beside another pending payment (a race the row locks above did not
            # order): the index refuses it. The transaction cannot go on after this; the use
            # case's work ends with the error and is rolled back whole.
            if constraint_name(error.orig) == ONE_PENDING:
                raise PaymentInProgress(payment.reservation_id) from None
            raise
        if saved.fetchone() is None:
            raise ValueError(f"payment {payment.id} is not stored")

    def lock_payments_due(self, quiet_since: datetime, limit: int) -> list[Payment]:
        found = self._db.execute(
            payment_sql.LOCK_PAYMENTS_DUE,
            {"quiet_since": quiet_since, "limit": limit},
            mapped=True,
        )
        return [rows.payment_from_row(row) for row in found]

    def note_notice(self, provider: str, notice: str) -> bool:
        noted = self._db.execute(self.NOTE_NOTICE, {"provider": provider, "notice": notice})
        return noted.fetchone() is not None

    # -- reads (no locks) ---------------------------------------------------------------------

    def get_payment(self, payment_id: UUID) -> Payment | None:
        return self._one(payment_sql.GET_PAYMENT, {"id": payment_id})

    def payment_of_sale(self, sale_id: UUID) -> Payment | None:
        return self._one(payment_sql.PAYMENT_OF_SALE, {"sale_id": sale_id})

    def payments_of_reservation(self, reservation_id: UUID) -> list[Payment]:
        found = self._db.execute(
            payment_sql.PAYMENTS_OF_RESERVATION, {"reservation_id": reservation_id}, mapped=True
        ).fetchall()
        return [rows.payment_from_row(row) for row in found]

    def _one(self, sql: str, params: dict[str, Any]) -> Payment | None:
        row = self._db.execute(sql, params, mapped=True).fetchone()
        return rows.payment_from_row(row) if row else None
