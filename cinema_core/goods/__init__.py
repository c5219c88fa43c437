"""Goods sold beside the seats: products (combos, snacks) with their stock, and promo codes;
both carried by a claim (an online hold or a counter sale) through ``Holding``."""
