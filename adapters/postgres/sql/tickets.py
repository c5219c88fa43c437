"""Tickets: inserted with their sale, locked, read, checked in.

A ticket checks in once: ``CHECK_IN`` sets ``checked_in_at`` only where it is still NULL and the
ticket is not refunded, and says how many rows it changed. A seat has one live ticket
(``tickets_live_seat_key``, unique where not refunded).
"""

from __future__ import annotations

from typing import Final

COLUMNS: Final = (
    'id, code, sale_id, session_id, "row", number, category, ticket, price_cents, currency,'
    " paid_at, checked_in_at, refund_id"
)

ADD_TICKETS: Final = f"""
INSERT INTO tickets ({COLUMNS})
SELECT v.id, v.code, %(sale_id)s, %(session_id)s, v."row", v.number, v.category, v.ticket,
    v.price_cents, %(currency)s, %(paid_at)s, NULL, NULL
FROM unnest(
    %(ids)s::uuid[], %(codes)s::text[], %(rows)s::char(1)[], %(numbers)s::int[],
    %(categories)s::text[], %(tickets)s::text[], %(prices)s::bigint[]
) AS v(id, code, "row", number, category, ticket, price_cents)
"""

# A sale's tickets in label order, as they leave the sort: after the sale's seats, the same
# order everywhere.
READ_TICKETS: Final = f"""
SELECT {COLUMNS} FROM tickets WHERE sale_id = %(sale_id)s ORDER BY "row", number
"""
LOCK_TICKETS: Final = READ_TICKETS + "FOR UPDATE"

READ_TICKET: Final = f"SELECT {COLUMNS} FROM tickets WHERE code = %(code)s"
LOCK_TICKET: Final = READ_TICKET + " FOR UPDATE"
GET_TICKET: Final = f"SELECT {COLUMNS} FROM tickets WHERE id = %(id)s"


def check_in(guard: str) -> str:
    """The ticket marked used where ``guard`` (an SQL condition on it) holds; its id back if
    it was."""
    return f"""
UPDATE tickets SET checked_in_at = %(at)s
WHERE id = %(id)s {guard}
RETURNING id
"""


CHECK_IN: Final = check_in("AND checked_in_at IS NULL AND refund_id IS NULL")
