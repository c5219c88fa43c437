"""A sale: inserted with its seats' live-sale rows, undone, read (alone, by session, by shift)."""

from __future__ import annotations

from typing import Final

from .lines import LINE_VALUES, LINES
from .seats import LABELS

COLUMNS: Final = (
    f"id, reservation_id, session_id, user_id, {LINES}, paid_at,"
    " channel, shift_id, payment_method, tendered_cents"
)

# The sale and its seats in one statement. The database stays the judge of "never sold twice":
# sales.reservation_id is UNIQUE and sale_seats' primary key admits one sale per seat. Instead
# of letting a violation abort the transaction (which needed a savepoint round it), the
# inserts skip conflicting rows and the counts returned say what was refused: fewer sales than
# one means the reservation is already sold, fewer seats than asked means a seat is. A row
# another transaction is inserting is waited for, exactly as a plain INSERT would.
ADD_SALE: Final = f"""
WITH sale AS (
    INSERT INTO sales ({COLUMNS})
    VALUES (
        %(id)s, %(reservation_id)s, %(session_id)s, %(user_id)s, {LINE_VALUES}, %(paid_at)s,
        %(channel)s, %(shift_id)s, %(payment_method)s, %(tendered_cents)s
    )
    ON CONFLICT (reservation_id) DO NOTHING
    RETURNING id
), sold AS (
    INSERT INTO sale_seats (session_id, "row", number, sale_id)
    SELECT %(session_id)s, v."row", v.number, sale.id FROM sale, {LABELS}
    -- sale_seats' one unique key is its primary key; untargeted, so that the race tests'
    -- control run (which drops that key) shows what it prevents.
    ON CONFLICT DO NOTHING
    RETURNING "row", number
)
SELECT (SELECT count(*) FROM sale), array(SELECT "row" || number FROM sold)
"""
# Undoing a refused sale (the rare path): what ADD_SALE inserted before it found a seat sold.
UNDO_SALE_SEATS: Final = "DELETE FROM sale_seats WHERE sale_id = %(id)s"
UNDO_SALE: Final = "DELETE FROM sales WHERE id = %(id)s"

GET_SALE: Final = f"SELECT {COLUMNS}, refunded_seats FROM sales WHERE id = %(id)s"

SESSION_SALES: Final = f"""
SELECT {COLUMNS}, refunded_seats FROM sales WHERE session_id = %(session_id)s ORDER BY id
"""

# A shift's counter sales (sales_shift_idx), for its statement.
SHIFT_SALES: Final = f"""
SELECT {COLUMNS}, refunded_seats FROM sales WHERE shift_id = %(shift_id)s ORDER BY id
"""
