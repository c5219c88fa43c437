"""A shift: inserted, locked (shared by a sale or refund, exclusively by its close), closed,
read (by id, the operator's open one)."""

from __future__ import annotations

from typing import Final

COLUMNS: Final = "id, operator, float_cents, currency, opened_at, closed_at, statement"

# shifts_one_open_per_operator judges "one open shift per operator": a second open one is
# skipped, not raised, so the transaction stays usable; left untargeted, so that the race
# tests' control run (which drops the index) shows what it prevents.
ADD_SHIFT: Final = f"""
INSERT INTO shifts ({COLUMNS})
VALUES (%(id)s, %(operator)s, %(float_cents)s, %(currency)s, %(opened_at)s, NULL, NULL)
ON CONFLICT DO NOTHING
RETURNING id
"""
# Why ADD_SHIFT skipped its row, read after it (so after the conflicting row committed).
OPEN_SHIFT: Final = f"""
SELECT {COLUMNS} FROM shifts WHERE operator = %(operator)s AND closed_at IS NULL
"""
GET_SHIFT: Final = f"SELECT {COLUMNS} FROM shifts WHERE id = %(id)s"
# A sale or a refund taken into the shift: shared, so they never wait for each other, only
# for its close (and READ COMMITTED hands back the row as the close left it).
LOCK_SHIFT_SHARED: Final = f"{GET_SHIFT} FOR SHARE"
LOCK_SHIFT: Final = f"{GET_SHIFT} FOR UPDATE"
CLOSE_SHIFT: Final = """
UPDATE shifts SET closed_at = %(closed_at)s, statement = %(statement)s WHERE id = %(id)s
"""
