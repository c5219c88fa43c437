"""Seats: their labels (``A1`` … ``Z100``) and their state inside a session."""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Iterable, Iterator
from datetime import datetime
from uuid import UUID

import attrs

MAX_ROWS = 26
MAX_SEATS_PER_ROW = 100
_LABEL = re.compile(r"([A-Z])([1-9][0-9]{0,2})")


@attrs.frozen
class SeatLabel:
    """A seat's name inside its session: row letter and number. Orders row by row."""

    row: str
    number: int

    # Written out rather than attrs' order=True, whose comparisons build their tuples through
    # a generator: sorting a reservation's labels was a visible share of a sale's CPU.
    def __lt__(self, other: SeatLabel) -> bool:
        if other.__class__ is not SeatLabel:
            return NotImplemented
        return (self.row, self.number) < (other.row, other.number)

    def __le__(self, other: SeatLabel) -> bool:
        if other.__class__ is not SeatLabel:
            return NotImplemented
        return (self.row, self.number) <= (other.row, other.number)

    def __gt__(self, other: SeatLabel) -> bool:
        if other.__class__ is not SeatLabel:
            return NotImplemented
        return (self.row, self.number) > (other.row, other.number)

    def __ge__(self, other: SeatLabel) -> bool:
        if other.__class__ is not SeatLabel:
            return NotImplemented
        return (self.row, self.number) >= (other.row, other.number)

    @classmethod
    def parse(cls, text: str) -> SeatLabel:
        """``"A1"`` → ``SeatLabel("A", 1)``; raises ``ValueError`` for anything not of that form."""
        match = _LABEL.fullmatch(text.strip().upper()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"not a seat label: {text!r}")
        return cls(match[1], int(match[2]))

    def __str__(self) -> str:
        return f"{self.row}{self.number}"


def seat_labels(rows: int, seats_per_row: int) -> Iterator[SeatLabel]:
    """Every label of a room of this size, in order (the order locks are taken in)."""
    for row in string.ascii_uppercase[:rows]:
        for number in range(1, seats_per_row + 1):
            yield SeatLabel(row, number)


class SeatStatus(enum.StrEnum):
    AVAILABLE = "available"
    HELD = "held"
    SOLD = "sold"
    # Never for sale (a broken seat): a room's fact, not a seat state any transaction changes.
    BLOCKED = "blocked"


@attrs.define
class Seat:
    """One seat of one session, with what holds or owns it.

    A hold lapses by itself at ``hold_expires_at``: the seat reads as available from that
    instant, whether or not anything has cleaned the hold up yet.
    """

    label: SeatLabel
    held_by: UUID | None = None
    hold_expires_at: datetime | None = None
    sale_id: UUID | None = None
    # The ticket type it is held or sold as: what a ticket type's quota counts.
    ticket: str | None = None

    def status_at(self, now: datetime) -> SeatStatus:
        if self.sale_id is not None:
            return SeatStatus.SOLD
        if self.is_held_at(now):
            return SeatStatus.HELD
        return SeatStatus.AVAILABLE

    def is_held_at(self, now: datetime) -> bool:
        return (
            self.sale_id is None
            and self.held_by is not None
            and self.hold_expires_at is not None
            and now < self.hold_expires_at
        )

    def is_held_by(self, reservation_id: UUID, now: datetime) -> bool:
        return self.held_by == reservation_id and self.is_held_at(now)

    def hold(self, reservation_id: UUID, until: datetime, ticket: str) -> None:
        self.held_by = reservation_id
        self.hold_expires_at = until
        self.ticket = ticket

    def release(self, reservation_id: UUID) -> bool:
        """Drop the hold if it is this reservation's; says whether it was."""
        if self.held_by != reservation_id or self.sale_id is not None:
            return False
        self.held_by = None
        self.hold_expires_at = None
        self.ticket = None
        return True

    def counts_for(self, ticket: str, now: datetime) -> bool:
        """Whether this seat uses up one of ``ticket``'s quota at ``now``: sold as it, or held
        as it by a hold that has not lapsed (a lapsed hold counts for nothing, as for seats)."""
        return self.ticket == ticket and (self.sale_id is not None or self.is_held_at(now))

    def sell(self, sale_id: UUID) -> None:
        self.sale_id = sale_id
        self.hold_expires_at = None

    def give_back(self, sale_id: UUID) -> bool:
        """Put a seat ``sale_id`` sold back on sale (a refund); says whether it was that sale's
        (a seat refunded before and sold again since belongs to another sale, and stays)."""
        if self.sale_id != sale_id:
            return False
        self.held_by = None
        self.hold_expires_at = None
        self.sale_id = None
        self.ticket = None
        return True


def count_available(seats: Iterable[Seat], now: datetime) -> int:
    """How many of these seats are neither sold nor held at ``now`` (``Seat.status_at``
    inlined: a method call per seat is most of the cost on a 2,600-seat session)."""
    return sum(
        1
        for seat in seats
        if seat.sale_id is None
        and not (
            seat.held_by is not None
            and seat.hold_expires_at is not None
            and now < seat.hold_expires_at
        )
    )
