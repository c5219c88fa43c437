"""Goods sold beside the seats: products (combos, snacks) with their stock, and promo codes."""

from . import products, promo_codes

OPERATIONS = products.OPERATIONS + promo_codes.OPERATIONS
