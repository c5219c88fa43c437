"""Sessions: one screening of a movie in a room at a time, at a price per seat."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from .errors import TooFewSeats, ValidationFailed
from .money import Money
from .seats import MAX_ROWS, MAX_SEATS_PER_ROW, SeatLabel, seat_labels

MIN_SEATS = 16
MAX_NAME = 200


@attrs.frozen
class Session:
    """A screening. Its seats are ``rows`` × ``seats_per_row``, labelled ``A1`` onwards."""

    id: UUID
    movie: str
    room: str
    starts_at: datetime
    price: Money
    rows: int
    seats_per_row: int

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        movie: str,
        room: str,
        starts_at: datetime,
        price: Money,
        rows: int,
        seats_per_row: int,
        now: datetime,
    ) -> Session:
        """A new session, after checking every rule; all broken rules are named at once."""
        fields: dict[str, str] = {}
        for name, text in (("movie", movie), ("room", room)):
            if not 1 <= len(text.strip()) <= MAX_NAME:
                fields[name] = f"must be 1 to {MAX_NAME} characters"
        if starts_at.tzinfo is None:
            fields["starts_at"] = "must carry a timezone"
        elif starts_at < now:
            fields["starts_at"] = "must not be in the past"
        if price.cents <= 0:
            fields["price"] = "must be greater than zero"
        if not 1 <= rows <= MAX_ROWS:
            fields["rows"] = f"must be 1 to {MAX_ROWS}"
        if not 1 <= seats_per_row <= MAX_SEATS_PER_ROW:
            fields["seats_per_row"] = f"must be 1 to {MAX_SEATS_PER_ROW}"
        if fields:
            raise ValidationFailed(fields)
        if rows * seats_per_row < MIN_SEATS:
            raise TooFewSeats(rows * seats_per_row, MIN_SEATS)
        return cls(id, movie.strip(), room.strip(), starts_at, price, rows, seats_per_row)

    @property
    def seat_count(self) -> int:
        return self.rows * self.seats_per_row

    def labels(self) -> list[SeatLabel]:
        return list(seat_labels(self.rows, self.seats_per_row))

    def has_seat(self, label: SeatLabel) -> bool:
        row_index = ord(label.row) - ord("A")
        return 0 <= row_index < self.rows and 1 <= label.number <= self.seats_per_row


@attrs.frozen
class SessionView:
    """A session with its live count of available seats."""

    session: Session
    available: int
