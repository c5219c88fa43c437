"""The columns a reservation and a sale share: their lines, as parallel arrays
(rows.claim_values)."""

from __future__ import annotations

from typing import Final

# products: [{code, name, quantity, unit_cents}] by code; promo_code with percent_off or
# amount_off_cents: the discount (migration 0009). amount_cents is what the claim costs.
LINES: Final = (
    "seats, categories, tickets, line_cents, amount_cents, currency,"
    " products, promo_code, percent_off, amount_off_cents"
)
LINE_VALUES: Final = (
    "%(seats)s::text[], %(categories)s::text[], %(tickets)s::text[], %(line_cents)s::bigint[],"
    " %(amount_cents)s, %(currency)s,"
    " %(products)s::jsonb, %(promo_code)s, %(percent_off)s, %(amount_off_cents)s"
)
