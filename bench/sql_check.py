"""The invariant read straight from PostgreSQL, past every layer of the service.

For each session a scenario sold in, the database must agree with what the API said: as many
seats sold as the seat map showed, each in exactly one sale, every sale's amount the sum of its
lines and each line at its category's price × its ticket type's percent (rounded half up), and
the seats' own ``sale_id`` pointing at the sale that lists them.
"""

from __future__ import annotations

from decimal import Decimal

from .invariant import Check
from .servers import database_dsn

# Per session: seats marked sold, rows of the sale_seats judge, seats listed by sales, seats
# listed twice, sales with a wrong amount (a line off its price, or the total off its lines),
# sold seats whose sale does not list them, live holds, and the sum of amounts.
_PER_SESSION = """
WITH mine AS (SELECT unnest(%(ids)s::uuid[]) AS id),
sold AS (
    SELECT s.session_id, count(*) AS n FROM seats s JOIN mine ON mine.id = s.session_id
    WHERE s.sale_id IS NOT NULL GROUP BY s.session_id),
judged AS (
    SELECT ss.session_id, count(*) AS n FROM sale_seats ss JOIN mine ON mine.id = ss.session_id
    GROUP BY ss.session_id),
listed AS (
    SELECT sa.session_id, sa.id AS sale_id, label FROM sales sa
    JOIN mine ON mine.id = sa.session_id, unnest(sa.seats) AS label),
twice AS (
    SELECT session_id, count(*) AS n FROM (
        SELECT session_id, label FROM listed GROUP BY session_id, label HAVING count(*) > 1) t
    GROUP BY session_id),
wrong AS (
    SELECT sa.session_id, count(*) AS n FROM sales sa JOIN mine ON mine.id = sa.session_id
    JOIN sessions se ON se.id = sa.session_id
    WHERE sa.amount_cents <> (SELECT sum(c) FROM unnest(sa.line_cents) AS c)
        OR EXISTS (
            SELECT 1
            FROM unnest(sa.categories, sa.tickets, sa.line_cents) AS l(category, ticket, cents)
            LEFT JOIN jsonb_to_recordset(se.ticket_types) AS t(code text, percent int)
                ON t.code = l.ticket
            WHERE l.cents IS DISTINCT FROM
                ((se.prices->>l.category)::bigint * t.percent * 2 + 100) / 200)
    GROUP BY sa.session_id),
stray AS (
    SELECT s.session_id, count(*) AS n FROM seats s JOIN mine ON mine.id = s.session_id
    WHERE s.sale_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM listed l WHERE l.sale_id = s.sale_id
        AND l.label = s."row" || s.number::text)
    GROUP BY s.session_id),
held AS (
    SELECT s.session_id, count(*) AS n FROM seats s JOIN mine ON mine.id = s.session_id
    WHERE s.sale_id IS NULL AND s.held_by IS NOT NULL AND s.hold_expires_at > now()
    GROUP BY s.session_id),
money AS (
    SELECT sa.session_id, sum(sa.amount_cents) AS cents, count(*) AS n FROM sales sa
    JOIN mine ON mine.id = sa.session_id GROUP BY sa.session_id)
SELECT mine.id::text, coalesce(sold.n, 0), coalesce(judged.n, 0),
       (SELECT count(*) FROM listed WHERE listed.session_id = mine.id),
       coalesce(twice.n, 0), coalesce(wrong.n, 0), coalesce(stray.n, 0), coalesce(held.n, 0),
       coalesce(money.cents, 0)
FROM mine
LEFT JOIN sold ON sold.session_id = mine.id LEFT JOIN judged ON judged.session_id = mine.id
LEFT JOIN twice ON twice.session_id = mine.id LEFT JOIN wrong ON wrong.session_id = mine.id
LEFT JOIN stray ON stray.session_id = mine.id LEFT JOIN held ON held.session_id = mine.id
LEFT JOIN money ON money.session_id = mine.id
"""


def check(admin_url: str, database: str, api: dict[str, tuple[int, str]], into: Check) -> None:
    """Hold the database to what the API showed (``api``: session → (seats sold, amount))."""
    import psycopg

    if not api:
        return
    with psycopg.connect(database_dsn(admin_url, database), connect_timeout=5) as conn:
        rows = conn.execute(_PER_SESSION, {"ids": list(api)}).fetchall()
    problems_before = len(into.problems)
    seats_total = 0
    for session_id, sold, judged, listed, twice, wrong, stray, held, cents in rows:
        label = session_id[:8]
        api_sold, api_amount = api[session_id]
        seats_total += sold
        into.require(
            sold == judged == listed == api_sold,
            f"{label}: sold seats: seats table {sold}, sale_seats {judged}, "
            f"sales list {listed}, API {api_sold}",
        )
        into.require(twice == 0, f"{label}: {twice} seats listed by two sales")
        into.require(wrong == 0, f"{label}: {wrong} sales with a line or an amount off its prices")
        into.require(stray == 0, f"{label}: {stray} sold seats whose sale does not list them")
        into.require(held == 0, f"{label}: {held} seats still held")
        into.require(
            Decimal(cents) / 100 == Decimal(api_amount),
            f"{label}: sales total {Decimal(cents) / 100} in the database, {api_amount} by the API",
        )
    if len(into.problems) == problems_before:
        into.facts.append(
            f"SQL agrees on {len(rows)} sessions: {seats_total} seats sold once each "
            "(seats = sale_seats = sales), lines at their prices, totals match, no live hold"
        )
