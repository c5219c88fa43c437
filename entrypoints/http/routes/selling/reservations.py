"""Routes of reservations: hold seats, read, cancel, pay (each only by its owner)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import Category, Money, ReservationNotFound, ValidationFailed
from cinema_core.goods.extras import Extras
from cinema_core.goods.products import MAX_QUANTITY
from cinema_core.selling.reservations import (
    MAX_SEATS_PER_RESERVATION,
    MIN_SEATS_PER_RESERVATION,
    ReservationStatus,
    SaleStatus,
)
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.idempotency import fingerprint
from entrypoints.http.framework.operations import Call, Operation, Param, Reply
from entrypoints.http.framework.shapes import Rules, days_from_now, field
from entrypoints.http.routes.payments.payments import Started

# A seat label as a client may write it: case does not matter (the box office reads "a1" as A1).
SEAT_LABEL = r"^[A-Za-z][1-9][0-9]{0,2}$"


def _tickets_field() -> Any:
    return field(
        default=None,
        each=Rules(minimum=0, maximum=MAX_SEATS_PER_RESERVATION),
        description=(
            "Seats by ticket type code, given to the seats in label order; the rest are the "
            "session's first type."
        ),
        example={"half": 1},
    )


def products_field() -> Any:
    return field(
        default=None,
        each=Rules(minimum=0, maximum=MAX_QUANTITY),
        description=(
            "Products to add (GET /products), by code: units of each, taken from its stock "
            'with the hold (e.g. {"combo-pipoca": 2}).'
        ),
        example={},
    )


def promo_code_field() -> Any:
    return field(
        default=None,
        max_length=40,
        example="",
        description=(
            "A promo code (case aside; empty: none), e.g. PIPOCA10: its discount is a line of "
            "the reservation."
        ),
    )


@attrs.frozen
class CreateReservation:
    """Body of ``POST /reservations``: 1–10 distinct seat labels of one session, or, instead
    of ``seats``, best available: ``count`` seats (with ``category`` and ``together``)."""

    session_id: UUID = field(
        example="3fa85f64-5717-4562-b3fc-2c963f66afa6",
        description="A session's id, from GET /sessions.",
    )
    seats: list[str] | None = field(
        default=None,
        min_items=MIN_SEATS_PER_RESERVATION,
        max_items=MAX_SEATS_PER_RESERVATION,
        unique=True,
        each=Rules(pattern=SEAT_LABEL),
        example=["A1", "A2"],
        description="The seats to hold (or count instead, for best available).",
    )
    tickets: dict[str, int] | None = _tickets_field()  # noqa: RUF009 (a shapes.field, made twice)
    # Examples left out (null): the example holds seats by label, and these go with count only.
    count: int | None = field(
        default=None,
        minimum=MIN_SEATS_PER_RESERVATION,
        maximum=MAX_SEATS_PER_RESERVATION,
        example=None,
        description="Best available: how many seats to hold (instead of seats).",
    )
    category: Category | None = field(
        default=None,
        example=None,
        description=(
            "Best available: only seats of this category (default: standard or premium; "
            "couple seats and wheelchair spaces only when asked for)."
        ),
    )
    together: bool | None = field(
        default=None,
        example=None,
        description="Best available: adjacent seats of one row (default true).",
    )
    products: dict[str, int] | None = products_field()  # noqa: RUF009 (a shapes.field)
    promo_code: str | None = promo_code_field()


@attrs.frozen
class ChangeReservation:
    """Body of ``PATCH /reservations/{id}``: the seats the hold is to cover from now on."""

    seats: list[str] = field(
        min_items=MIN_SEATS_PER_RESERVATION,
        max_items=MAX_SEATS_PER_RESERVATION,
        unique=True,
        each=Rules(pattern=SEAT_LABEL),
        example=["A2", "A3"],
    )
    tickets: dict[str, int] | None = _tickets_field()  # noqa: RUF009 (a shapes.field, made twice)


@attrs.frozen
class Line(Answer):
    """One seat of a reservation or sale: its category, ticket type and price."""

    seat: str = out(example="A1")
    category: Category = out()
    ticket: str = out(example="half")
    price: Money = out(example="12.50")


@attrs.frozen
class ProductLine(Answer):
    """Units of one product on a reservation or sale."""

    code: str = out(example="combo-pipoca")
    name: str = out(example="Combo pipoca + refri")
    quantity: int = out(example=2)
    unit_price: Money = out(example="32.00")
    amount: Money = out(example="64.00")


@attrs.frozen
class Discount(Answer):
    """A promo code's discount on a reservation or sale, and the money it takes off."""

    code: str = out(example="PIPOCA10")
    percent_off: int | None = out(example=10)
    amount_off: Money | None = out(example=None)
    amount: Money = out(
        description="Taken off the subtotal (percentages rounded half up to the cent).",
        example="10.15",
    )


@attrs.frozen
class Reservation(Answer):
    """A hold on seats of one session, pending until paid, cancelled or lapsed."""

    id: UUID = out()
    session_id: UUID = out()
    user_id: str = out(example="alice")
    seats: list[str] = out(example=["A1", "A2"])
    status: ReservationStatus = out()
    amount: Money = out(example="37.50")
    currency: str = out("amount.currency", example="BRL")
    created_at: datetime = out(example=days_from_now(0, hour=18))
    expires_at: datetime = out(example=days_from_now(0, hour=18))
    sale_id: UUID | None = out()
    lines: list[Line] = out()
    products: list[ProductLine] = out(example=[])
    subtotal: Money = out(description="Seats and products before the discount.", example="37.50")
    discount: Discount | None = out("discount_line", example=None)


@attrs.frozen
class Sale(Answer):
    """The seats a paid reservation sold, and what of them was refunded."""

    id: UUID = out()
    reservation_id: UUID = out()
    session_id: UUID = out()
    user_id: str = out(example="alice")
    seats: list[str] = out(example=["A1", "A2"])
    amount: Money = out(example="37.50")
    currency: str = out("amount.currency", example="BRL")
    paid_at: datetime = out(example=days_from_now(0, hour=18))
    lines: list[Line] = out()
    status: SaleStatus = out()
    refunded_seats: list[str] = out("refunded", example=[])
    refunded_amount: Money = out(example="0.00")
    products: list[ProductLine] = out(example=[])
    subtotal: Money = out(description="Seats and products before the discount.", example="37.50")
    discount: Discount | None = out("discount_line", example=None)
    channel: str = out(
        example="online", description="online, or counter for a sale made by staff at a till."
    )
    # A counter sale's till; left out of an online sale.
    shift_id: UUID | None = out(
        lambda sale: None if sale.counter is None else sale.counter.shift_id,
        omit_none=True,
        description="Counter sales: the shift it was sold in.",
    )
    payment_method: str | None = out(
        lambda sale: None if sale.counter is None else sale.counter.method.value,
        omit_none=True,
        example="cash",
        description="Counter sales: cash, card or pix.",
    )
    tendered: Money | None = out(
        lambda sale: None if sale.counter is None else sale.counter.tendered,
        omit_none=True,
        example="50.00",
        description="Counter sales in cash: the money handed over.",
    )
    change: Money | None = out(
        omit_none=True, example="12.50", description="Counter sales in cash: the change given."
    )


def _tickets(raw: dict[str, int] | None) -> dict[str, int]:
    return {code: count for code, count in (raw or {}).items() if count}


def _ticket_parts(tickets: dict[str, int]) -> list[str]:
    return [f"{code}={count}" for code, count in sorted(tickets.items())]


def _seat_parts(seats: list[str]) -> list[str]:
    return sorted(seat.strip().upper() for seat in seats)


def _reserve_identity(call: Call) -> str:
    """What identifies a hold: its session, its seats in any order (or what best available is
    asked for), its tickets; a body mixing seats with best available's fields is refused."""
    body: CreateReservation = call.body
    tickets = _ticket_parts(_tickets(body.tickets)) + _extra_parts(body)
    if body.seats is None:
        if body.count is None:
            raise ValidationFailed({"seats": "is required (or count, for best available)"})
        # Distinct from any hand-picked body's form: a seat label never starts with "best".
        best = f"best:{body.count}:{body.category or ''}:{_together(body)}"
        return fingerprint(str(body.session_id), best, *tickets)
    extra = {
        name: "only with count (best available), not with seats"
        for name in ("count", "category", "together")
        if getattr(body, name) is not None
    }
    if extra:
        raise ValidationFailed(extra)
    return fingerprint(str(body.session_id), *_seat_parts(body.seats), *tickets)


def _extra_parts(body: CreateReservation) -> list[str]:
    return extra_parts(_extras(body))


def extra_parts(extras: Extras) -> list[str]:
    """What identifies a claim's extras in an idempotency fingerprint."""
    parts = [f"product:{code}={count}" for code, count in extras.products.items()]
    return parts + ([f"promo:{extras.promo_code}"] if extras.promo_code else [])


def _extras(body: CreateReservation) -> Extras:
    return Extras.asked(body.products, body.promo_code)


def _together(body: CreateReservation) -> bool:
    return True if body.together is None else body.together


def reserve(call: Call) -> Response:
    body: CreateReservation = call.body
    tickets = _tickets(body.tickets)
    box, user_id = call.services.box, call.user.user_id
    admission = call.request.headers.get("x-admission")
    if body.seats is not None and not admission and not call.user.is_staff:
        # The waiting room is read by the seat lock's own round trip; a 403 still comes
        # before anything is held.
        made = box.reserve_unadmitted(user_id, body.session_id, body.seats, tickets, _extras(body))
        return Reservation.response(made, 201)
    # Best available checks first: a buyer the room turns away costs no pick.
    box.check_admission(body.session_id, user_id, admission, staff=call.user.is_staff)
    if body.seats is None:
        made = box.reserve_best(
            user_id,
            body.session_id,
            body.count or 0,
            category=body.category,
            together=_together(body),
            tickets=tickets,
            extras=_extras(body),
        )
    else:
        made = box.reserve(user_id, body.session_id, body.seats, tickets, _extras(body))
    return Reservation.response(made, 201)


def _change_identity(call: Call) -> str:
    body: ChangeReservation = call.body
    reservation_id = call.path_uuid("reservation_id", ReservationNotFound)
    tickets = _ticket_parts(_tickets(body.tickets))
    return fingerprint(str(reservation_id), *_seat_parts(body.seats), *tickets)


def change(call: Call) -> Response:
    reservation_id = call.path_uuid("reservation_id", ReservationNotFound)
    body: ChangeReservation = call.body
    box = call.services.box
    changed = box.change(reservation_id, call.user.user_id, body.seats, _tickets(body.tickets))
    return Reservation.response(changed)


def get_reservation(call: Call) -> Response:
    reservation_id = call.path_uuid("reservation_id", ReservationNotFound)
    user = call.user
    found = call.services.box.reservation(reservation_id, user.user_id, admin=user.is_admin)
    return Reservation.response(found)


def cancel(call: Call) -> Response:
    reservation_id = call.path_uuid("reservation_id", ReservationNotFound)
    cancelled = call.services.box.cancel(reservation_id, call.user.user_id)
    return Reservation.response(cancelled)


def _pay_identity(call: Call) -> str:
    return str(call.path_uuid("reservation_id", ReservationNotFound))


def pay(call: Call) -> Response:
    reservation_id = call.path_uuid("reservation_id", ReservationNotFound)
    box = call.services.box
    if box.pays_later():
        # Through a provider: the money is asked for, and the sale is made once it arrives.
        payment = box.start_payment(reservation_id, call.user.user_id)
        return Started.response(payment, 202)
    sale, new = box.pay(reservation_id, call.user.user_id)
    return Sale.response(sale, 201 if new else 200)


_PENDING_ONLY = "409 reservation_confirmed if paid; 410 reservation_expired if lapsed."

OPERATIONS = (
    Operation(
        "POST",
        "/reservations",
        reserve,
        "Hold seats for a while (all or none)",
        {
            201: Reply("The pending reservation.", Reservation),
            403: Reply(
                "admission_required (the session's waiting room is on: join its queue), "
                "admission_invalid (the X-Admission token is forged, another user's or another "
                "session's) or admission_expired (lapsed, or its place given up)",
                "Error",
            ),
            404: Reply("session_not_found", "Error"),
            409: Reply(
                "seats_unavailable (details.seats: held, sold or blocked), "
                "single_seat_gap (details.seats: the seats the hold would leave alone), "
                "not_enough_seats (best available; details.available), "
                "ticket_quota_exhausted (details.ticket, details.remaining), "
                "product_sold_out (details.product, details.left), "
                "promo_code_invalid (details.reason), "
                "sales_closed (details.sales_close_at), session_cancelled or "
                "idempotency_in_progress",
                "Error",
            ),
        },
        tag="reservations",
        access="user",
        body=CreateReservation,
        headers=(
            Param(
                "X-Admission",
                "The admission token from GET /queue/{ticket}, while the session's waiting "
                "room is on.",
                {"type": "string", "maxLength": 1024},
            ),
        ),
        idempotent=_reserve_identity,
        description=(
            "Holds every seat or none. Seat order does not matter. unknown_seat (422) names "
            "labels the session does not have; couple_seat_split (422) names the missing half "
            "of a couple seat; unknown_ticket_type (422) a ticket type the session lacks. "
            "Give either seats or count: with count the box office picks the best seats for "
            "sale (scoring in the README) and holds them; count, category and together go "
            "with count only. products (by code) are added to the hold, all or none, and "
            "unknown_product (422, details.products) names codes not sold; promo_code takes "
            "its discount off the total (a discount line). In a session with "
            "forbid_single_gaps a hold that would leave a seat alone in its row is 409 "
            "single_seat_gap. With Idempotency-Key, a retry with "
            "the same body gets the first answer again; another body with that key is 422 "
            "idempotency_key_reused. While the session's waiting room is on, a customer "
            "sends X-Admission: the token GET /queue/{ticket} gave on admission (staff and "
            "admins are not queued)."
        ),
    ),
    Operation(
        "GET",
        "/reservations/{reservation_id}",
        get_reservation,
        "Read a reservation (its owner, or an admin)",
        {200: Reply("The reservation; a lapsed pending one reads expired.", Reservation)},
        tag="reservations",
        access="user",
    ),
    Operation(
        "PATCH",
        "/reservations/{reservation_id}",
        change,
        "Change the seats of a pending hold (all or nothing)",
        {
            200: Reply("The reservation, holding exactly the seats asked for.", Reservation),
            409: Reply(
                "seats_unavailable (details.seats), single_seat_gap (details.seats), "
                "ticket_quota_exhausted, reservation_confirmed, reservation_cancelled, "
                "sales_closed, session_cancelled or idempotency_in_progress",
                "Error",
            ),
            410: Reply("reservation_expired: the hold lapsed", "Error"),
        },
        tag="reservations",
        access="user",
        body=ChangeReservation,
        idempotent=_change_identity,
        description=(
            "The hold now covers exactly these seats, with these tickets: seats dropped are "
            "free at once, seats added are held until the same expires_at (editing a hold "
            "never keeps it alive). Every rule of POST /reservations applies; if any refuses, "
            "the hold is unchanged."
        ),
    ),
    Operation(
        "DELETE",
        "/reservations/{reservation_id}",
        cancel,
        "Cancel a pending reservation, freeing its seats at once",
        {
            200: Reply("The cancelled reservation (again on a cancelled one).", Reservation),
            409: Reply("reservation_confirmed", "Error"),
            410: Reply("reservation_expired", "Error"),
        },
        tag="reservations",
        access="user",
        description=_PENDING_ONLY,
    ),
    Operation(
        "POST",
        "/reservations/{reservation_id}/payment",
        pay,
        "Pay a pending reservation: its seats are sold (through a provider: its Pix charge)",
        {
            201: Reply("The new sale (provider instant).", Sale),
            200: Reply("The reservation was already paid: the same sale.", Sale),
            202: Reply(
                "Through a provider (sandbox, mercadopago): the payment started, or the one "
                "already pending; the sale is made when the bank approves.",
                Started,
            ),
            503: Reply(
                "payment_provider_unavailable: the provider could not be asked; the hold "
                "is unchanged, nothing was charged",
                "Error",
                headers=("Retry-After",),
            ),
            409: Reply(
                "reservation_cancelled, sales_closed (a hold is never paid once sales "
                "closed), session_cancelled or idempotency_in_progress",
                "Error",
            ),
            410: Reply("reservation_expired: the hold lapsed, nothing was sold", "Error"),
        },
        tag="reservations",
        access="user",
        idempotent=_pay_identity,
    ),
)
