"""The schema as SQLAlchemy Core ``Table`` objects, for building queries.

The migrations in ``migrations/versions`` create and change the real tables; these objects
describe the current head and must follow them (``tests/contract/test_postgres_schema.py``
checks they agree).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

metadata = sa.MetaData()

# Rooms never change once created (migration 0004). A private room belongs to one session of the
# first API shape; (cinema, name) is unique among the others.
rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("cinema", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("layout", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("private", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("movie", sa.Text, nullable=False),
    # Python's movie.lower(), for the movie filter (see migration 0004).
    sa.Column("movie_lower", sa.Text, nullable=False),
    sa.Column("room_id", pg.UUID(as_uuid=True), sa.ForeignKey("rooms.id"), nullable=False),
    # The room's cinema, copied so that the cinema filter pages on one index.
    sa.Column("cinema", sa.Text, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    # {category: cents}; price_cents is the lowest of them (Session.price).
    sa.Column("prices", pg.JSONB, nullable=False),
    sa.Column("price_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    # [{code, name, percent, quota_percent?, quota_group?, document?}] in the session's order;
    # quota_group is set wherever quota_percent is (migration 0008).
    sa.Column("ticket_types", pg.JSONB, nullable=False),
    sa.Column("forbid_single_gaps", sa.Boolean, nullable=False),
    # The room's seats for sale: what availability and quotas are counted against.
    sa.Column("seat_count", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Null while the session is to be screened (migration 0006).
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    # The age rating: L or the least age (migration 0008).
    # sessions_rating_known admits only ClassInd's ratings (sessions.session.RATINGS).
    sa.Column("rating", sa.Text, nullable=False, server_default="L"),
)

# One row per seat for sale of every session. "row" is quoted everywhere: it is an SQL keyword.
seats = sa.Table(
    "seats",
    metadata,
    sa.Column("session_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("row", sa.CHAR(1), primary_key=True, quote=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("held_by", pg.UUID(as_uuid=True)),
    sa.Column("hold_expires_at", sa.DateTime(timezone=True)),
    sa.Column("sale_id", pg.UUID(as_uuid=True)),
    # The ticket type it is held or sold as: what a quota counts.
    sa.Column("ticket", sa.Text),
    # The transaction that last wrote the row (its xid8), stamped by a trigger (migration
    # 0014): what a seat map's delta read (sql.seats.CHANGED_SEATS) looks up.
    sa.Column("changed_by", sa.BigInteger),
)

# A reservation's and a sale's lines are parallel arrays, one element per seat in label order:
# seats[i] is of categories[i], sold as tickets[i] for line_cents[i]. amount_cents is their sum.
reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("session_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("seats", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("categories", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("tickets", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("line_cents", pg.ARRAY(sa.BigInteger), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sale_id", pg.UUID(as_uuid=True)),
    # The counter's goods on the claim (migration 0009): product lines as JSON, the discount.
    sa.Column("products", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("promo_code", sa.Text),
    sa.Column("percent_off", sa.Integer),
    sa.Column("amount_off_cents", sa.BigInteger),
)

sales = sa.Table(
    "sales",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("reservation_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("session_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("seats", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("categories", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("tickets", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("line_cents", pg.ARRAY(sa.BigInteger), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
    # The seats given back since (migration 0005), kept by the refund's statement.
    sa.Column("refunded_seats", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    # The counter's goods on the claim (migration 0009): product lines as JSON, the discount.
    sa.Column("products", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("promo_code", sa.Text),
    sa.Column("percent_off", sa.Integer),
    sa.Column("amount_off_cents", sa.BigInteger),
    # Where it was sold (migration 0010): online, or at the counter in a shift, by a method.
    sa.Column("channel", sa.Text, nullable=False, server_default="online"),
    sa.Column("shift_id", pg.UUID(as_uuid=True), sa.ForeignKey("shifts.id")),
    sa.Column("payment_method", sa.Text),
    sa.Column("tendered_cents", sa.BigInteger),
)

# Products sold beside seats (migration 0009; statements in sql/products.py). stock_left null:
# no stock kept; products_stock_not_negative keeps it at zero or more.
products = sa.Table(
    "products",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("price_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("stock_left", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Promo codes (migration 0009; statements in sql/promo_codes.py): exactly one of percent_off
# and amount_off_cents (promo_codes_one_discount).
promo_codes = sa.Table(
    "promo_codes",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("percent_off", sa.Integer),
    sa.Column("amount_off_cents", sa.BigInteger),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("max_uses", sa.Integer),
    sa.Column("per_user", sa.Integer),
    sa.Column("valid_from", sa.DateTime(timezone=True)),
    sa.Column("valid_to", sa.DateTime(timezone=True)),
    sa.Column("movie", sa.Text),
    sa.Column("cinema", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Operators' shifts at the counter (migration 0010; statements in sql/shifts.py).
shifts = sa.Table(
    "shifts",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("operator", sa.Text, nullable=False),
    sa.Column("float_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    # The final statement, set when it closes (ShiftStatement's figures, in cents).
    sa.Column("statement", pg.JSONB),
)

# Seats of a sale given back (migration 0005; statements in sql/refunds.py).
refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("sale_id", pg.UUID(as_uuid=True), sa.ForeignKey("sales.id"), nullable=False),
    sa.Column("session_id", pg.UUID(as_uuid=True), sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("seats", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("refunded_by", sa.Text, nullable=False),
)

# One ticket per sold seat, with its line, its door code and what became of it (migration 0005).
tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("sale_id", pg.UUID(as_uuid=True), sa.ForeignKey("sales.id"), nullable=False),
    sa.Column("session_id", pg.UUID(as_uuid=True), sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("row", sa.CHAR(1), nullable=False, quote=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("ticket", sa.Text, nullable=False),
    sa.Column("price_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("checked_in_at", sa.DateTime(timezone=True)),
    sa.Column("refund_id", pg.UUID(as_uuid=True), sa.ForeignKey("refunds.id")),
    # A refund of a cancelled session, which may refund a used ticket (migration 0006).
    sa.Column("session_cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
)

# The judge of "never sold twice": its primary key admits one sale per seat, whatever the
# code above it does. It holds the seats of live sales: a refund deletes its seats' rows
# (sql/refunds.py), so that they can be sold again.
sale_seats = sa.Table(
    "sale_seats",
    metadata,
    sa.Column("session_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("row", sa.CHAR(1), primary_key=True, quote=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("sale_id", pg.UUID(as_uuid=True), nullable=False),
)

# A payment through a provider, beside its reservation (migration 0007, which names the
# constraints that guard each money rule; statements in sql/payments.py).
payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "reservation_id", pg.UUID(as_uuid=True), sa.ForeignKey("reservations.id"), nullable=False
    ),
    sa.Column("session_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempt_key", sa.Text, nullable=False, unique=True),
    sa.Column("heard_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("charge_id", sa.Text),
    sa.Column("pix_qr_code", sa.Text),
    sa.Column("pix_qr_code_base64", sa.Text),
    sa.Column("pix_ticket_url", sa.Text),
    sa.Column("late", sa.Boolean, nullable=False),
    sa.Column("sale_id", pg.UUID(as_uuid=True), sa.ForeignKey("sales.id"), unique=True),
    # Null: nothing refunded.
    sa.Column("refunded_cents", sa.BigInteger),
    sa.Column("settled_at", sa.DateTime(timezone=True)),
)

# The provider notifications handled, each once (migration 0007).
payment_notices = sa.Table(
    "payment_notices",
    metadata,
    sa.Column("provider", sa.Text, primary_key=True),
    sa.Column("notice", sa.Text, primary_key=True),
    sa.Column("payment_id", pg.UUID(as_uuid=True), sa.ForeignKey("payments.id")),
    sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    # Copied out of ``data`` so the audit trail (the published rows) can be filtered by session
    # on an index.
    sa.Column("session_id", sa.Text),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    # The W3C traceparent of the request that recorded the event (migration 0012): the relay
    # publishes it as the message's header, so the consumers continue that request's trace.
    sa.Column("traceparent", sa.Text),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("body", sa.LargeBinary),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# The event ids each consumer has handled: what makes a redelivery harmless (migration 0002).
processed_events = sa.Table(
    "processed_events",
    metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)


def newest_events(
    *,
    type: str | None,
    session_id: str | None,
    before: int | None,
    limit: int,
    published_only: bool,
) -> sa.Select[tuple[object, ...]]:
    """Events of the outbox, newest first by ``seq``, filtered as the audit trail's readers
    ask; each filter is on an index (the published ones are all but the relay's few waiting)."""
    table = outbox
    query = sa.select(table).order_by(table.c.seq.desc()).limit(limit)
    if published_only:
        query = query.where(table.c.published_at.is_not(None))
    if type is not None:
        query = query.where(table.c.type == type)
    if session_id is not None:
        query = query.where(table.c.session_id == session_id)
    if before is not None:
        query = query.where(table.c.seq < before)
    return query


# Webhooks and their delivery log (migration 0011; statements in sql/webhooks.py).
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("events", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
    sa.Column("disabled_reason", sa.Text),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "webhook_id",
        pg.UUID(as_uuid=True),
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
)
