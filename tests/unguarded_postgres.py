"""The PostgreSQL store with its guards switched off, for race tests' control runs only.

``UnguardedRepo(engine, row_locks=False)`` reads seats, reservations' seats and tickets without
locking them and writes refunds and check-ins without their "still untouched" conditions;
``quota_locks=False`` counts ticket quotas without the session's lock. ``UnguardedWebhookStore``
claims due webhook deliveries without locking them. Each is a subclass of the
product's transaction that overrides the guarded statements, on the same plans (``OFFSET 0``
keeps a subquery that no longer locks from being flattened into the join).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.engine import Engine

from adapters.postgres import PostgresReservationRepo
from adapters.postgres.after_sale import AfterSaleStatements
from adapters.postgres.sql import (
    products,
    promo_codes,
    refunds,
    reservations,
    seats,
    sessions,
    tickets,
    webhooks,
)
from adapters.postgres.transaction import PostgresTransaction
from adapters.postgres.webhooks import PostgresWebhookStore
from cinema_core.errors import ProductSoldOut
from cinema_core.goods.products import Product

READ_SEATS_UNLOCKED: Final = seats.by_label("OFFSET 0")
LOCK_SESSION_READ_SEATS: Final = sessions.session_and_seats("OFFSET 0")
LOCK_RESERVATION_READ_SEATS: Final = reservations.reservation_and_seats("OFFSET 0")
LOCK_SESSION_RESERVATION_READ_SEATS: Final = reservations.reservation_and_seats(
    "OFFSET 0", reservations.SESSION_AND_RESERVATION
)
REFUND_UNGUARDED: Final = refunds.refund(guard="")
CHECK_IN_UNGUARDED: Final = tickets.check_in("")


class NoRowLocksAfterSale(AfterSaleStatements):
    """Tickets read, never locked; refunds and check-ins written unconditionally."""

    LOCK_TICKETS = tickets.READ_TICKETS
    LOCK_TICKET = tickets.READ_TICKET
    REFUND = REFUND_UNGUARDED
    CHECK_IN = CHECK_IN_UNGUARDED


class NoRowLocksTransaction(PostgresTransaction):
    """Seats and tickets read, never locked; refunds and check-ins written unconditionally."""

    LOCK_SEATS = READ_SEATS_UNLOCKED
    TRY_LOCK_SEATS = READ_SEATS_UNLOCKED
    LOCK_SESSION_AND_SEATS = LOCK_SESSION_READ_SEATS
    TRY_LOCK_SESSION_AND_SEATS = LOCK_SESSION_READ_SEATS
    LOCK_RESERVATION_AND_SEATS = LOCK_RESERVATION_READ_SEATS
    LOCK_SESSION_RESERVATION_AND_SEATS = LOCK_SESSION_RESERVATION_READ_SEATS
    after_sale = NoRowLocksAfterSale


class NoQuotaLockTransaction(PostgresTransaction):
    """Ticket quotas counted without the session's quota lock."""

    def _lock_quotas(self, params: dict[str, Any]) -> None:
        pass


class NoLocksTransaction(NoRowLocksTransaction, NoQuotaLockTransaction):
    """Neither row locks nor the quota lock."""


_TRANSACTIONS: Final = {
    (True, True): PostgresTransaction,
    (False, True): NoRowLocksTransaction,
    (True, False): NoQuotaLockTransaction,
    (False, False): NoLocksTransaction,
}


class UnguardedRepo(PostgresReservationRepo):
    """``PostgresReservationRepo`` whose transactions skip the guards switched off."""

    def __init__(
        self,
        engine_or_url: Engine | str,
        *,
        row_locks: bool = True,
        quota_locks: bool = True,
        **options: Any,
    ):
        super().__init__(engine_or_url, **options)
        self.transaction = _TRANSACTIONS[(row_locks, quota_locks)]


# -- the counter's goods ---------------------------------------------------------------------

STOCK_PAUSE: Final = 0.05


class NoStockGuardTransaction(PostgresTransaction):
    """A product's stock read without a lock, judged in Python, and written back as read less
    the units: the read-then-write a conditional update exists to avoid (the pause between
    the two holds the window open)."""

    def take_stock(self, wanted: Mapping[str, int]) -> None:
        for code in sorted(wanted):
            left = self._db.execute(products.STOCK_LEFT, {"code": code}).fetchone()
            if left is None or left[0] is None:
                continue
            if left[0] < wanted[code]:
                raise ProductSoldOut(code, int(left[0]))
            time.sleep(STOCK_PAUSE)
            self._db.execute(
                "UPDATE products SET stock_left = %(left)s WHERE code = %(code)s",
                {"left": left[0] - wanted[code], "code": code},
            )


class SettingRestockTransaction(PostgresTransaction):
    """A restock that reads what is left and sets it to that plus the units: the
    read-then-set an added restock exists to avoid (a hold taking units in between is undone,
    its units made up; two such restocks write over each other).

    ``between_read_and_write`` is where a control run forces the order that shows it (a
    pause alone let a loaded machine run them one after another)."""

    def between_read_and_write(self) -> None:
        time.sleep(STOCK_PAUSE)

    def restock(self, code: str, units: int) -> Product | None:
        left = self._db.execute(products.STOCK_LEFT, {"code": code}).fetchone()
        if left is None or left[0] is None:
            return super().restock(code, 0) if left else None
        self.between_read_and_write()
        self._db.execute(
            "UPDATE products SET stock_left = %(left)s WHERE code = %(code)s",
            {"left": left[0] + units, "code": code},
        )
        return self.products([code])[0]


class NoPromoLockTransaction(PostgresTransaction):
    """A promo code's uses counted without the code's row lock."""

    LOCK_PROMO_CODE = f"SELECT {promo_codes.COLUMNS} FROM promo_codes WHERE code = %(code)s"


class UnguardedCounterRepo(PostgresReservationRepo):
    """``PostgresReservationRepo`` whose transactions take stock or count promo code uses
    unguarded (``transaction``: one of the classes above)."""

    def __init__(
        self, engine_or_url: Engine | str, transaction: type[PostgresTransaction], **options: Any
    ):
        super().__init__(engine_or_url, **options)
        self.transaction = transaction


# The webhook senders' claim without its row locks: two claims read the same due deliveries
# and both take them (the UPDATE re-checks only the id).
CLAIM_DUE_UNLOCKED: Final = webhooks.CLAIM_DUE.replace("FOR UPDATE OF d SKIP LOCKED", "")


class UnguardedWebhookStore(PostgresWebhookStore):
    """Claims due deliveries without locking them (CONTROL ONLY)."""

    claim_sql = CLAIM_DUE_UNLOCKED
