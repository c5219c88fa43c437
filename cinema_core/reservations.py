"""Reservations (a user's temporary claim on seats) and sales (what a paid claim becomes)."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import attrs

from .errors import (
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    SeatsUnavailable,
    ValidationFailed,
)
from .money import Money
from .seats import Seat, SeatLabel, SeatStatus

MIN_SEATS_PER_RESERVATION = 1
MAX_SEATS_PER_RESERVATION = 10


class ReservationStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


def claim_labels(raw: list[str]) -> tuple[SeatLabel, ...]:
    """The seats a request asks for, checked and in canonical order (order does not matter)."""
    if not MIN_SEATS_PER_RESERVATION <= len(raw) <= MAX_SEATS_PER_RESERVATION:
        raise ValidationFailed(
            {"seats": f"must list {MIN_SEATS_PER_RESERVATION} to {MAX_SEATS_PER_RESERVATION} seats"}
        )
    try:
        labels = [SeatLabel.parse(text) for text in raw]
    except ValueError as error:
        raise ValidationFailed({"seats": str(error)}) from None
    if len(set(labels)) != len(labels):
        raise ValidationFailed({"seats": "must not repeat a seat"})
    return tuple(sorted(labels))


@attrs.define
class Reservation:
    """A pending claim on 1–10 seats of one session, until ``expires_at``.

    The stored ``status`` may still say ``pending`` after the hold lapsed (no job has run yet);
    ``status_at(now)`` is what it really is, and every rule below goes by it.
    """

    id: UUID
    session_id: UUID
    user_id: str
    seats: tuple[SeatLabel, ...]
    amount: Money
    created_at: datetime
    expires_at: datetime
    status: ReservationStatus = ReservationStatus.PENDING
    sale_id: UUID | None = None

    def status_at(self, now: datetime) -> ReservationStatus:
        if self.status is ReservationStatus.PENDING and now >= self.expires_at:
            return ReservationStatus.EXPIRED
        return self.status

    def as_of(self, now: datetime) -> Reservation:
        """A copy whose stored status is the real one at ``now`` (what readers are shown)."""
        return attrs.evolve(self, status=self.status_at(now))

    def confirm(self, sale_id: UUID, seats: list[Seat], now: datetime) -> None:
        """Turn the hold into a sale; only a pending, unlapsed reservation that still holds
        every one of its seats may be paid."""
        self._require_pending(now)
        lost = [seat.label for seat in seats if not seat.is_held_by(self.id, now)]
        if lost or len(seats) != len(self.seats):
            # Another process saw the hold as lapsed (its clock ran ahead) and took a seat:
            # the reservation cannot be honoured, which for the buyer is a lapse.
            raise ReservationExpired(details={"seats": [str(label) for label in lost]})
        for seat in seats:
            seat.sell(sale_id)
        self.status = ReservationStatus.CONFIRMED
        self.sale_id = sale_id

    def cancel(self, seats: list[Seat], now: datetime) -> bool:
        """Free the seats at once; says whether anything changed (cancelling twice is fine)."""
        if self.status is ReservationStatus.CANCELLED:
            return False
        self._require_pending(now)
        for seat in seats:
            seat.release(self.id)
        self.status = ReservationStatus.CANCELLED
        return True

    def expire(self, seats: list[Seat], now: datetime) -> list[SeatLabel]:
        """Record the lapse and drop whatever holds are still this reservation's."""
        if self.status is not ReservationStatus.PENDING or now < self.expires_at:
            raise ValueError("only a lapsed pending reservation can be expired")
        self.status = ReservationStatus.EXPIRED
        return [seat.label for seat in seats if seat.release(self.id)]

    def _require_pending(self, now: datetime) -> None:
        status = self.status_at(now)
        if status is ReservationStatus.CONFIRMED:
            raise ReservationConfirmed()
        if status is ReservationStatus.CANCELLED:
            raise ReservationCancelled()
        if status is ReservationStatus.EXPIRED:
            raise ReservationExpired()


def hold_seats(
    reservation_id: UUID,
    seats: list[Seat],
    wanted: tuple[SeatLabel, ...],
    until: datetime,
    now: datetime,
) -> None:
    """Hold every wanted seat for the reservation, or none: any seat held or sold refuses all."""
    found = {seat.label for seat in seats}
    taken = [seat.label for seat in seats if seat.status_at(now) is not SeatStatus.AVAILABLE]
    taken += [label for label in wanted if label not in found]
    if taken:
        raise SeatsUnavailable(taken)
    for seat in seats:
        seat.hold(reservation_id, until)


@attrs.frozen
class Sale:
    """The permanent record of a paid reservation."""

    id: UUID
    reservation_id: UUID
    session_id: UUID
    user_id: str
    seats: tuple[SeatLabel, ...]
    amount: Money
    paid_at: datetime
