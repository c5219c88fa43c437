"""Explicit conversions between database rows and the domain's model objects."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cinema_core.counter.shifts import Shift, ShiftStatement
from cinema_core.counter.till import CounterPayment, PaymentMethod
from cinema_core.events.envelopes import Event
from cinema_core.goods.products import Product, ProductLine
from cinema_core.goods.promo_codes import Discount, PromoCode
from cinema_core.kernel.money import DEFAULT_CURRENCY, Money
from cinema_core.payments.charges import Pix
from cinema_core.payments.payment import Payment, PaymentStatus
from cinema_core.rooms.layout import Category, Room
from cinema_core.rooms.seats import Seat, SeatLabel
from cinema_core.selling.reservations import Reservation, ReservationStatus, Sale
from cinema_core.selling.ticket_types import Line, TicketType
from cinema_core.sessions.session import Session

# A row by column name: SQLAlchemy's RowMapping or a psycopg dict_row.
Row = Mapping[Any, Any]

_CATEGORIES = {category.value: category for category in Category}


def room_from_row(row: Row, prefix: str = "") -> Room:
    """A room from its columns, named ``prefix + column`` (``room_`` where joined to a session)."""
    return Room(
        id=row[prefix + "id"],
        cinema=row[prefix + "cinema"],
        name=row[prefix + "name"],
        layout=tuple(row[prefix + "layout"]),
        private=row[prefix + "private"],
    )


def room_values(room: Room) -> dict[str, Any]:
    return {
        "id": room.id,
        "cinema": room.cinema,
        "name": room.name,
        "layout": list(room.layout),
        "private": room.private,
    }


def session_from_row(row: Row) -> Session:
    """A session from its columns joined with its room's (``statements.SESSION_COLUMNS``)."""
    currency = row["currency"]
    cents: Mapping[str, int] = row["prices"]
    return Session(
        id=row["id"],
        movie=row["movie"],
        room=room_from_row(row, "room_"),
        starts_at=row["starts_at"],
        duration_minutes=row["duration_minutes"],
        # In the categories' own order: jsonb keeps no order, and this one costs nothing.
        prices={
            category: Money(cents[category.value], currency)
            for category in Category
            if category.value in cents
        },
        ticket_types=tuple(
            TicketType(
                kind["code"],
                kind["name"],
                kind["percent"],
                kind.get("quota_percent"),
                # A group named by the type's own code is the type alone, as declared.
                None if kind.get("quota_group") == kind["code"] else kind.get("quota_group"),
                kind.get("document"),
            )
            for kind in row["ticket_types"]
        ),
        forbid_single_gaps=row["forbid_single_gaps"],
        cancelled_at=row["cancelled_at"],
        rating=row["rating"],
    )


def session_values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "movie": session.movie,
        # The movie filter compares as SessionFilter.admits does: Python's lower(), not SQL's.
        "movie_lower": session.movie.lower(),
        "room_id": session.room.id,
        "cinema": session.room.cinema,
        "starts_at": session.starts_at,
        "duration_minutes": session.duration_minutes,
        "ends_at": session.ends_at,
        "prices": {category.value: price.cents for category, price in session.prices.items()},
        "price_cents": session.price.cents,
        "currency": session.price.currency,
        "ticket_types": [_ticket_type_json(kind) for kind in session.ticket_types],
        "forbid_single_gaps": session.forbid_single_gaps,
        "seat_count": session.seat_count,
        "cancelled_at": session.cancelled_at,
        "rating": session.rating,
    }


def _ticket_type_json(kind: TicketType) -> dict[str, Any]:
    found: dict[str, Any] = {"code": kind.code, "name": kind.name, "percent": kind.percent}
    if kind.quota_percent is not None:
        found["quota_percent"] = kind.quota_percent
        # Stored named, so that a group is one JSON key however the type was declared.
        found["quota_group"] = kind.group
    if kind.document is not None:
        found["document"] = kind.document
    return found


def seat_from_row(row: Row, prefix: str = "") -> Seat:
    """The seat in ``row``, whose columns carry ``prefix`` where a statement returns a seat
    beside another row (``seat_row``, ``seat_held_by``, … beside a reservation's)."""
    return Seat(
        SeatLabel(row[f"{prefix}row"], row[f"{prefix}number"]),
        held_by=row[f"{prefix}held_by"],
        hold_expires_at=row[f"{prefix}hold_expires_at"],
        sale_id=row[f"{prefix}sale_id"],
        ticket=row[f"{prefix}ticket"],
    )


def labels_to_text(labels: Iterable[SeatLabel]) -> list[str]:
    return [str(label) for label in labels]


def labels_from_text(texts: Iterable[str]) -> tuple[SeatLabel, ...]:
    return tuple(SeatLabel.parse(text) for text in texts)


def lines_from_row(row: Row) -> tuple[Line, ...]:
    """The lines of a reservation or sale row, from its parallel arrays."""
    currency = row["currency"]
    return tuple(
        [
            Line(SeatLabel.parse(seat), _CATEGORIES[category], ticket, Money(cents, currency))
            for seat, category, ticket, cents in zip(
                row["seats"], row["categories"], row["tickets"], row["line_cents"], strict=True
            )
        ]
    )


def claim_values(claim: Reservation | Sale) -> dict[str, Any]:
    """A reservation's or sale's lines as the parallel array parameters the statements take,
    with its products, its discount and what it costs."""
    lines, discount = claim.lines, claim.discount
    return {
        "seats": array([str(line.seat) for line in lines]),
        "categories": array([line.category.value for line in lines]),
        "tickets": array([line.ticket for line in lines]),
        "line_cents": array([line.price.cents for line in lines]),
        "amount_cents": claim.amount.cents,
        "currency": lines[0].price.currency,
        "products": json.dumps(
            [
                {
                    "code": p.code,
                    "name": p.name,
                    "quantity": p.quantity,
                    "unit_cents": p.unit_price.cents,
                }
                for p in claim.products
            ]
        ),
        "promo_code": None if discount is None else discount.code,
        "percent_off": None if discount is None else discount.percent_off,
        "amount_off_cents": (
            None if discount is None or discount.amount_off is None else discount.amount_off.cents
        ),
    }


def products_from_row(row: Row) -> tuple[ProductLine, ...]:
    currency = row["currency"]
    return tuple(
        ProductLine(p["code"], p["name"], p["quantity"], Money(p["unit_cents"], currency))
        for p in row["products"]
    )


def discount_from_row(row: Row) -> Discount | None:
    if row["promo_code"] is None:
        return None
    off = row["amount_off_cents"]
    return Discount(
        row["promo_code"], row["percent_off"], None if off is None else Money(off, row["currency"])
    )


def product_values(product: Product) -> dict[str, Any]:
    return {
        "code": product.code,
        "name": product.name,
        "price_cents": product.price.cents,
        "currency": product.price.currency,
        "stock_left": product.left,
        "created_at": product.created_at,
    }


def promo_code_values(promo: PromoCode) -> dict[str, Any]:
    off = promo.discount.amount_off
    return {
        "code": promo.code,
        "percent_off": promo.discount.percent_off,
        "amount_off_cents": None if off is None else off.cents,
        "currency": DEFAULT_CURRENCY if off is None else off.currency,
        "max_uses": promo.max_uses,
        "per_user": promo.per_user,
        "valid_from": promo.valid_from,
        "valid_to": promo.valid_to,
        "movie": promo.movie,
        "cinema": promo.cinema,
        "created_at": promo.created_at,
    }


def product_from_row(row: Row) -> Product:
    return Product(
        row["code"],
        row["name"],
        Money(row["price_cents"], row["currency"]),
        row["stock_left"],
        row["created_at"],
    )


def promo_code_from_row(row: Row) -> PromoCode:
    off = row["amount_off_cents"]
    discount = Discount(
        row["code"], row["percent_off"], None if off is None else Money(off, row["currency"])
    )
    return PromoCode(
        code=row["code"],
        discount=discount,
        created_at=row["created_at"],
        max_uses=row["max_uses"],
        per_user=row["per_user"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        movie=row["movie"],
        cinema=row["cinema"],
    )


def reservation_from_row(row: Row) -> Reservation:
    return Reservation(
        id=row["id"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        lines=lines_from_row(row),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        status=ReservationStatus(row["status"]),
        sale_id=row["sale_id"],
        products=products_from_row(row),
        discount=discount_from_row(row),
    )


def reservation_values(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": reservation.id,
        "session_id": reservation.session_id,
        "user_id": reservation.user_id,
        **claim_values(reservation),
        "status": reservation.status.value,
        "created_at": reservation.created_at,
        "expires_at": reservation.expires_at,
        "sale_id": reservation.sale_id,
    }


def sale_from_row(row: Row) -> Sale:
    counter = None
    if row["shift_id"] is not None:
        tendered = row["tendered_cents"]
        counter = CounterPayment(
            row["shift_id"],
            PaymentMethod(row["payment_method"]),
            None if tendered is None else Money(tendered, row["currency"]),
        )
    return Sale(
        id=row["id"],
        reservation_id=row["reservation_id"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        lines=lines_from_row(row),
        paid_at=row["paid_at"],
        refunded=tuple(sorted(labels_from_text(row["refunded_seats"]))),
        products=products_from_row(row),
        discount=discount_from_row(row),
        counter=counter,
    )


def sale_values(sale: Sale) -> dict[str, Any]:
    till = sale.counter
    return {
        "id": sale.id,
        "reservation_id": sale.reservation_id,
        "session_id": sale.session_id,
        "user_id": sale.user_id,
        **claim_values(sale),
        "paid_at": sale.paid_at,
        "channel": sale.channel,
        "shift_id": None if till is None else till.shift_id,
        "payment_method": None if till is None else till.method.value,
        "tendered_cents": None if till is None or till.tendered is None else till.tendered.cents,
    }


def shift_values(shift: Shift) -> dict[str, Any]:
    return {
        "id": shift.id,
        "operator": shift.operator,
        "float_cents": shift.float_.cents,
        "currency": shift.float_.currency,
        "opened_at": shift.opened_at,
        "closed_at": shift.closed_at,
        "statement": None if shift.statement is None else statement_json(shift.statement),
    }


def statement_json(statement: ShiftStatement) -> str:
    """The final statement as stored (``shifts.statement``): its figures in cents."""
    counted, difference = statement.counted_cash, statement.difference
    return json.dumps(
        {
            "sales": statement.sales,
            "gross": statement.gross.cents,
            "refunds": statement.refunds,
            "refunded": statement.refunded.cents,
            "by_method": {m.value: v.cents for m, v in statement.by_method.items()},
            "expected_cash": statement.expected_cash.cents,
            "counted_cash": None if counted is None else counted.cents,
            "difference": None if difference is None else difference.cents,
        }
    )


def shift_from_row(row: Row) -> Shift:
    currency = row["currency"]
    kept = row["statement"]
    statement = None
    if kept is not None:

        def money(cents: int | None) -> Money | None:
            return None if cents is None else Money(cents, currency)

        statement = ShiftStatement(
            sales=kept["sales"],
            gross=Money(kept["gross"], currency),
            refunds=kept["refunds"],
            refunded=Money(kept["refunded"], currency),
            by_method={
                PaymentMethod(m): Money(cents, currency) for m, cents in kept["by_method"].items()
            },
            expected_cash=Money(kept["expected_cash"], currency),
            counted_cash=money(kept["counted_cash"]),
            difference=money(kept["difference"]),
        )
    return Shift(
        id=row["id"],
        operator=row["operator"],
        float_=Money(row["float_cents"], currency),
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        statement=statement,
    )


def payment_from_row(row: Row) -> Payment:
    currency = row["currency"]
    refunded = row["refunded_cents"]
    pix = (
        None
        if row["pix_qr_code"] is None
        else Pix(row["pix_qr_code"], row["pix_qr_code_base64"], row["pix_ticket_url"])
    )
    return Payment(
        id=row["id"],
        reservation_id=row["reservation_id"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        provider=row["provider"],
        status=PaymentStatus(row["status"]),
        amount=Money(row["amount_cents"], currency),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        attempt_key=row["attempt_key"],
        heard_at=row["heard_at"],
        charge_id=row["charge_id"],
        pix=pix,
        late=row["late"],
        sale_id=row["sale_id"],
        refunded=None if refunded is None else Money(refunded, currency),
        settled_at=row["settled_at"],
    )


def payment_values(payment: Payment) -> dict[str, Any]:
    """Every column of the payment's row (``refunded`` is in the amount's currency)."""
    pix = payment.pix
    return {
        "id": payment.id,
        "reservation_id": payment.reservation_id,
        "session_id": payment.session_id,
        "user_id": payment.user_id,
        "provider": payment.provider,
        "status": payment.status.value,
        "amount_cents": payment.amount.cents,
        "currency": payment.amount.currency,
        "created_at": payment.created_at,
        "expires_at": payment.expires_at,
        "attempt_key": payment.attempt_key,
        "heard_at": payment.heard_at,
        "charge_id": payment.charge_id,
        "pix_qr_code": None if pix is None else pix.qr_code,
        "pix_qr_code_base64": None if pix is None else pix.qr_code_base64,
        "pix_ticket_url": None if pix is None else pix.ticket_url,
        "late": payment.late,
        "sale_id": payment.sale_id,
        "refunded_cents": None if payment.refunded is None else payment.refunded.cents,
        "settled_at": payment.settled_at,
    }


def event_from_row(row: Row) -> Event:
    # Only the outbox has a traceparent (the audit trail's rows have none).
    return Event(
        row["id"], row["type"], row["occurred_at"], row["data"], traceparent=row.get("traceparent")
    )


def events_json(events: Sequence[Event]) -> str:
    """The events as the JSON array ``statements.ADD_EVENTS`` turns into outbox rows."""
    return json.dumps(
        [
            {
                "id": str(event.id),
                "type": event.type,
                "occurred_at": event.occurred_at.isoformat(),
                "session_id": event.session_id,
                "data": dict(event.data),
                "traceparent": event.traceparent,
            }
            for event in events
        ]
    )


def array(values: Iterable[object]) -> str:
    """A PostgreSQL array literal (``{A,B}``) of strings, numbers, UUIDs, instants or ``None``.

    Sent as one text parameter and cast by the statement: psycopg's adaptation of Python lists
    inspects every element and costs more than the rest of a hot statement's execution.
    Strings are quoted and escaped; the other types' text never needs it.
    """
    return (
        "{"
        + ",".join(
            [
                "NULL"
                if value is None
                else _quoted(value)
                if isinstance(value, str)
                else value.isoformat()
                if isinstance(value, datetime)
                else str(value)
                for value in values
            ]
        )
        + "}"
    )


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def event_values(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "session_id": event.session_id,
        "data": dict(event.data),
    }
