"""Products: added, read, their stock taken (judged by the conditional update) and given back."""

from __future__ import annotations

from typing import Final

COLUMNS: Final = "code, name, price_cents, currency, stock_left, created_at"

# Skipped, not raised, when the code is taken: the transaction stays usable.
ADD_PRODUCT: Final = f"""
INSERT INTO products ({COLUMNS})
VALUES (%(code)s, %(name)s, %(price_cents)s, %(currency)s, %(stock_left)s, %(created_at)s)
ON CONFLICT (code) DO NOTHING
RETURNING code
"""

PRODUCTS: Final = (
    f"SELECT {COLUMNS} FROM products WHERE code = ANY(%(codes)s::text[]) ORDER BY code"
)

ALL_PRODUCTS: Final = f'SELECT {COLUMNS} FROM products ORDER BY code COLLATE "C"'

# The judge of "never below zero": the row is locked by the update and the condition is
# evaluated again on the row as the previous holder committed it, so two buyers of the last
# unit cannot both pass. A product without stock (stock_left null) matches nothing and is
# never locked, so its buyers never queue.
TAKE_STOCK: Final = """
UPDATE products SET stock_left = stock_left - %(units)s
WHERE code = %(code)s AND stock_left IS NOT NULL AND stock_left >= %(units)s
RETURNING stock_left
"""

# What is left of a product whose TAKE_STOCK took nothing (null: no stock kept).
STOCK_LEFT: Final = "SELECT stock_left FROM products WHERE code = %(code)s"

GIVE_BACK_STOCK: Final = """
UPDATE products SET stock_left = stock_left + %(units)s
WHERE code = %(code)s AND stock_left IS NOT NULL
"""

RESTOCK: Final = f"""
UPDATE products SET stock_left = stock_left + %(units)s
WHERE code = %(code)s AND stock_left IS NOT NULL
RETURNING {COLUMNS}
"""

# A name or price left NULL is kept. The row lock it takes is the one TAKE_STOCK takes: a hold
# racing the change is priced before or after it, wholly (its price is read before its stock is
# taken, so a hold may carry the old price a moment after the change commits).
EDIT_PRODUCT: Final = f"""
UPDATE products SET name = coalesce(%(name)s::text, name),
    price_cents = coalesce(%(price_cents)s::bigint, price_cents),
    currency = coalesce(%(currency)s::text, currency)
WHERE code = %(code)s
RETURNING {COLUMNS}
"""
