"""Payments through a provider: inserted, locked (by id, by charge, the open one, those due
for reconciliation), saved, read; and the provider notices handled.

The database is the judge of the money rules (migration 0007 names each constraint). Where a
refusal is an answer rather than a fault (a second pending payment, a notice seen before) the
insert skips the conflicting row and says so by returning nothing, so the transaction stays
usable and no savepoint is needed; a row another transaction is inserting is waited for, as a
plain INSERT would. Those conflicts are left untargeted, so that the race tests' control runs
(which drop the unique index or key) show what each one prevents.
"""

from __future__ import annotations

from typing import Final

COLUMNS: Final = (
    "id, reservation_id, session_id, user_id, provider, status, amount_cents, currency,"
    " created_at, expires_at, attempt_key, heard_at, charge_id, pix_qr_code,"
    " pix_qr_code_base64, pix_ticket_url, late, sale_id, refunded_cents, settled_at"
)
VALUES: Final = ", ".join(f"%({name.strip()})s" for name in COLUMNS.split(","))

ADD_PAYMENT: Final = f"""
INSERT INTO payments ({COLUMNS}) VALUES ({VALUES})
ON CONFLICT DO NOTHING
RETURNING id
"""
# Why ADD_PAYMENT skipped its row, read after it (so after the conflicting row committed).
PENDING_OF_RESERVATION: Final = """
SELECT id FROM payments WHERE reservation_id = %(reservation_id)s AND status = 'pending'
"""

SAVE_PAYMENT: Final = (
    "UPDATE payments SET "
    + ", ".join(f"{name} = %({name})s" for name in (n.strip() for n in COLUMNS.split(",")))
    + " WHERE id = %(id)s RETURNING id"
)

GET_PAYMENT: Final = f"SELECT {COLUMNS} FROM payments WHERE id = %(id)s"
LOCK_PAYMENT: Final = GET_PAYMENT + " FOR UPDATE"
LOCK_PAYMENT_OF_CHARGE: Final = f"""
SELECT {COLUMNS} FROM payments WHERE provider = %(provider)s AND charge_id = %(charge_id)s
FOR UPDATE
"""
# On payments_one_pending_key. A row that stops being pending while this waits for its lock is
# re-checked by PostgreSQL and left out: what comes back is pending.
LOCK_OPEN_PAYMENT: Final = f"""
SELECT {COLUMNS} FROM payments WHERE reservation_id = %(reservation_id)s AND status = 'pending'
FOR UPDATE
"""
# On payments_due_idx. SKIP LOCKED: a payment another worker (or a notice) is settling now is
# left to it, so any number of reconcilers run side by side and none waits. A review payment is
# due by heard_at too (the claim sets it): a refund the provider keeps refusing is asked once per
# interval, not in a loop that would hammer the provider.
LOCK_PAYMENTS_DUE: Final = f"""
SELECT {COLUMNS} FROM payments
WHERE status IN ('pending', 'review') AND heard_at < %(quiet_since)s
ORDER BY heard_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

PAYMENT_OF_SALE: Final = f"SELECT {COLUMNS} FROM payments WHERE sale_id = %(sale_id)s"
LOCK_PAYMENT_OF_SALE: Final = PAYMENT_OF_SALE + " FOR UPDATE"
PAYMENTS_OF_RESERVATION: Final = f"""
SELECT {COLUMNS} FROM payments WHERE reservation_id = %(reservation_id)s
ORDER BY created_at DESC, id DESC
"""

# A row back: the notice is this transaction's to handle; none: it was handled before (or
# another transaction has it and committed while this one waited on its row).
NOTE_NOTICE: Final = """
INSERT INTO payment_notices (provider, notice, handled_at) VALUES (%(provider)s, %(notice)s, now())
ON CONFLICT DO NOTHING
RETURNING 1
"""
