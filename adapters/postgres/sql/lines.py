"""The columns a reservation and a sale share: their lines, as parallel arrays
(rows.lines_values)."""

from __future__ import annotations

from typing import Final

LINES: Final = "seats, categories, tickets, line_cents, amount_cents, currency"
LINE_VALUES: Final = (
    "%(seats)s::text[], %(categories)s::text[], %(tickets)s::text[], %(line_cents)s::bigint[],"
    " %(amount_cents)s, %(currency)s"
)
