"""Every error the box office raises on purpose, each with its API code and HTTP status.

Adapters translate driver exceptions into these; nothing from psycopg, redis or pika crosses a port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar


class CinemaError(Exception):
    """Base of the domain's errors: ``code`` and ``status`` are what the API answers with."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request cannot be served."

    def __init__(self, message: str | None = None, details: Mapping[str, Any] | None = None):
        self.message = message or self.default_message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(self.message)


class NotFound(CinemaError):
    code, status, default_message = "not_found", 404, "Nothing is here."


class SessionNotFound(NotFound):
    code, default_message = "session_not_found", "No such session."


class ReservationNotFound(NotFound):
    code, default_message = "reservation_not_found", "No such reservation."


class ValidationFailed(CinemaError):
    """Input that breaks a rule; ``details.fields`` maps each bad field to what is wrong."""

    code, status, default_message = "validation_error", 422, "The request has invalid fields."

    def __init__(self, fields: Mapping[str, str], message: str | None = None):
        super().__init__(message, {"fields": dict(fields)})
        self.fields = dict(fields)


class RoomNotFound(NotFound):
    code, default_message = "room_not_found", "No such room."


class TooFewSeats(ValidationFailed):
    code = "too_few_seats"

    def __init__(self, seat_count: int, minimum: int, field: str = "rows"):
        what = "the layout has" if field == "layout" else "rows × seats_per_row is"
        super().__init__(
            {field: f"{what} {seat_count} seats for sale; at least {minimum} are needed"},
            f"A room needs at least {minimum} seats for sale.",
        )


class UnknownTicketType(ValidationFailed):
    code = "unknown_ticket_type"

    def __init__(self, codes: Iterable[str]):
        self.codes = sorted(set(codes))
        super().__init__(
            {"tickets": f"no such ticket type in this session: {', '.join(self.codes)}"},
            "Some ticket types are not sold for this session.",
        )
        self.details["tickets"] = self.codes


class RoomExists(CinemaError):
    code, status = "room_exists", 409
    default_message = "This cinema already has a room of that name."


class RoomBusy(CinemaError):
    code, status = "room_busy", 409
    default_message = "The room has another session at that time."

    def __init__(self, session_id: object):
        super().__init__(None, {"session_id": str(session_id)})


class TicketQuotaExhausted(CinemaError):
    code, status = "ticket_quota_exhausted", 409
    default_message = "No more tickets of this type are left for this session."

    def __init__(self, ticket: str, remaining: int, quota_group: str | None = None):
        self.ticket, self.remaining = ticket, remaining
        self.quota_group = quota_group or ticket
        super().__init__(
            None, {"ticket": ticket, "remaining": remaining, "quota_group": self.quota_group}
        )


class _SeatsError(CinemaError):
    def __init__(self, seats: Iterable[object], message: str | None = None):
        self.seats = sorted({str(seat) for seat in seats}, key=_label_order)
        super().__init__(message, {"seats": self.seats})


def _label_order(text: str) -> tuple[str, int]:
    return (text[:1], int(text[1:]) if text[1:].isdigit() else 0)


class UnknownSeat(_SeatsError):
    code, status, default_message = "unknown_seat", 422, "Some seats do not exist in this session."


class SeatsUnavailable(_SeatsError):
    code, status = "seats_unavailable", 409
    default_message = "Some seats are held, sold or not for sale."


class SingleSeatGap(_SeatsError):
    code, status = "single_seat_gap", 409
    default_message = "This hold would leave a seat for sale alone between taken ones."


class NotEnoughSeats(CinemaError):
    code, status = "not_enough_seats", 409
    default_message = "Not enough suitable seats are left for this request."

    def __init__(self, available: int):
        self.available = available
        super().__init__(None, {"available": available})


class CoupleSeatSplit(_SeatsError):
    code, status = "couple_seat_split", 422
    default_message = "A couple seat is sold only whole: add its other half."


class ProductExists(CinemaError):
    code, status, default_message = "product_exists", 409, "A product with this code exists."


class UnknownProduct(ValidationFailed):
    code, default_message = "unknown_product", "Some products are not sold here."

    def __init__(self, codes: Iterable[str]):
        self.codes = sorted(set(codes))
        super().__init__(
            {"products": f"no such product: {', '.join(self.codes)}"}, self.default_message
        )
        self.details["products"] = self.codes


class ProductSoldOut(CinemaError):
    code, status, default_message = "product_sold_out", 409, "This product is sold out."

    def __init__(self, product: str, left: int):
        self.product, self.left = product, left
        super().__init__(None, {"product": product, "left": left})


class PromoCodeExists(CinemaError):
    code, status, default_message = "promo_code_exists", 409, "A promo code with this code exists."


class PromoCodeInvalid(CinemaError):
    """A promo code that cannot be used on this claim; ``reason`` says why (one of
    ``counter.promo_codes.REASONS``)."""

    code, status = "promo_code_invalid", 409
    default_message = "This promo code cannot be used here."

    def __init__(self, promo_code: str, reason: str):
        self.promo_code, self.reason = promo_code, reason
        super().__init__(None, {"promo_code": promo_code, "reason": reason})


class SaleNotFound(NotFound):
    code, default_message = "sale_not_found", "No such sale."


class TicketNotFound(NotFound):
    code, default_message = "ticket_not_found", "No such ticket."


class RefundWindowClosed(CinemaError):
    code, status = "refund_window_closed", 409
    default_message = "This sale can no longer be refunded."

    def __init__(self, closed_at: str):
        super().__init__(None, {"closed_at": closed_at})


class AlreadyRefunded(_SeatsError):
    code, status, default_message = "already_refunded", 409, "Some seats are already refunded."


class TicketUsed(_SeatsError):
    code, status = "ticket_used", 409
    default_message = "Some seats were checked in at the door and cannot be refunded."


class AlreadyCheckedIn(CinemaError):
    code, status, default_message = "already_checked_in", 409, "This ticket was already used."

    def __init__(self, checked_in_at: str):
        super().__init__(None, {"checked_in_at": checked_in_at})


class TicketRefunded(CinemaError):
    code, status, default_message = "ticket_refunded", 409, "This ticket was refunded."


class WrongSession(CinemaError):
    code, status = "wrong_session", 409
    default_message = "This ticket is for another session."

    def __init__(self, session_id: object):
        super().__init__(None, {"session_id": str(session_id)})


class SalesClosed(CinemaError):
    code, status = "sales_closed", 409
    default_message = "Sales for this session are closed."

    def __init__(self, closed_at: str):
        super().__init__(None, {"sales_close_at": closed_at})


class SessionCancelled(CinemaError):
    code, status, default_message = "session_cancelled", 409, "This session was cancelled."


class ReservationExpired(CinemaError):
    code, status, default_message = "reservation_expired", 410, "The reservation has lapsed."


class ReservationCancelled(CinemaError):
    code, status, default_message = "reservation_cancelled", 409, "The reservation was cancelled."


class ReservationConfirmed(CinemaError):
    code, status, default_message = "reservation_confirmed", 409, "The reservation is already paid."


class ShiftNotFound(NotFound):
    code, default_message = "shift_not_found", "No such shift."


class ShiftOpen(CinemaError):
    code, status = "shift_open", 409
    default_message = "This operator already has an open shift; close it first."

    def __init__(self, shift_id: object | None = None):
        super().__init__(None, {} if shift_id is None else {"shift_id": str(shift_id)})


class NoOpenShift(CinemaError):
    code, status = "no_open_shift", 409
    default_message = "Open a shift before selling at the counter."


class ShiftClosed(CinemaError):
    code, status = "shift_closed", 409
    default_message = "The shift is closed; its statement is final."

    def __init__(self, shift_id: object):
        super().__init__(None, {"shift_id": str(shift_id)})


class IdempotencyKeyReused(CinemaError):
    code, status = "idempotency_key_reused", 422
    default_message = "This Idempotency-Key was used with a different request."


class IdempotencyInProgress(CinemaError):
    code, status = "idempotency_in_progress", 409
    default_message = "A request with this Idempotency-Key is still being processed; retry."


class Forbidden(CinemaError):
    code, status, default_message = "forbidden", 403, "You may not do that."


class RateLimited(CinemaError):
    code, status, default_message = "rate_limited", 429, "Too many requests; slow down."

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        super().__init__(None, {"retry_after_seconds": retry_after})


class BackendUnavailable(Exception):
    """An optional backend (seat lock, broker, cache) cannot be reached.

    Not a client error: the box office falls back (the database stays the judge) and says so.
    """


class StoreUnavailable(CinemaError):
    """The source of truth cannot serve; nothing was changed."""

    code, status, default_message = "unavailable", 503, "The box office cannot serve right now."


class WaitingRoomMayBeOn(Exception):
    """The seat lock took nothing: the session's waiting room is on, or the lock cannot tell.

    Raised only to a caller that asked the lock to check the room with the seats
    (``SeatLock.acquire(..., unless_waiting=True)``), which then checks the admission itself;
    never an answer to a client.
    """


class AdmissionRequired(CinemaError):
    code, status = "admission_required", 403
    default_message = "This session is behind a waiting room: join its queue to be admitted."


class AdmissionInvalid(CinemaError):
    code, status = "admission_invalid", 403
    default_message = "This admission token is not valid for you and this session."


class AdmissionExpired(CinemaError):
    code, status = "admission_expired", 403
    default_message = "This admission has lapsed or was given up: join the queue again."


class QueueTicketNotFound(NotFound):
    code, default_message = "queue_ticket_not_found", "No such place in a queue."


class WaitingRoomOff(CinemaError):
    code, status = "waiting_room_off", 409
    default_message = "This session has no waiting room on: reserve seats directly."


class WaitingRoomUnavailable(StoreUnavailable):
    """The queue's shared store cannot be reached: admissions stop rather than go unchecked."""

    code, status = "waiting_room_unavailable", 503
    default_message = "The waiting room cannot admit anyone right now; try again shortly."
