"""Promo codes: added, locked, and their uses counted under that lock."""

from __future__ import annotations

from typing import Final

COLUMNS: Final = (
    "code, percent_off, amount_off_cents, currency, max_uses, per_user, valid_from, valid_to,"
    " movie, cinema, created_at"
)

ADD_PROMO_CODE: Final = f"""
INSERT INTO promo_codes ({COLUMNS})
VALUES (
    %(code)s, %(percent_off)s, %(amount_off_cents)s, %(currency)s, %(max_uses)s, %(per_user)s,
    %(valid_from)s, %(valid_to)s, %(movie)s, %(cinema)s, %(created_at)s
)
ON CONFLICT (code) DO NOTHING
RETURNING code
"""

# The code's lock: every hold that would use it queues here (after its seats and products,
# before the quotas), so the uses counted next include every hold committed before it.
LOCK_PROMO_CODE: Final = f"SELECT {COLUMNS} FROM promo_codes WHERE code = %(code)s FOR UPDATE"

# The uses, in a statement of their own after the lock (see PostgresTransaction._lock_quotas
# for why under READ COMMITTED). The rule is PromoCode's, written once more in
# memory.store._uses_promo; tests/contract/test_repo_port_goods.py pins that both agree: a use
# is a reservation carrying the code, pending and unlapsed at now, or paid and not refunded in
# full.
PROMO_CODE_USES: Final = """
SELECT count(*), count(*) FILTER (WHERE r.user_id = %(user_id)s)
FROM reservations AS r
LEFT JOIN sales AS s ON s.id = r.sale_id
WHERE r.promo_code = %(code)s AND r.id <> %(excluding)s
    AND (
        (r.status = 'pending' AND r.expires_at > %(now)s)
        OR (r.status = 'confirmed' AND cardinality(s.refunded_seats) < cardinality(s.seats))
    )
"""
