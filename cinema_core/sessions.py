"""Sessions: one screening of a movie in a room, with a price per seat category and the ticket
types it sells."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from .errors import ValidationFailed
from .money import Money
from .rooms import MAX_NAME, Category, Room, RoomSeat
from .seats import SeatLabel
from .tickets import DEFAULT_TICKET_TYPES, TicketType, check_ticket_types
from .times import LATEST

DEFAULT_DURATION = 120
MAX_DURATION = 600
# The last instant a session may start at: its longest run still ends before times.LATEST.
LAST_START = LATEST - timedelta(minutes=MAX_DURATION)


@attrs.frozen
class Session:
    """A screening of ``movie`` in ``room`` over ``[starts_at, ends_at)``. Sessions never change
    once created, so any process may keep them."""

    id: UUID
    movie: str
    room: Room
    starts_at: datetime
    duration_minutes: int
    prices: Mapping[Category, Money]
    ticket_types: tuple[TicketType, ...] = DEFAULT_TICKET_TYPES
    forbid_single_gaps: bool = False

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        movie: str,
        room: Room,
        starts_at: datetime,
        prices: Mapping[Category, Money] | Money,
        now: datetime,
        duration_minutes: int = DEFAULT_DURATION,
        ticket_types: Sequence[TicketType] = DEFAULT_TICKET_TYPES,
        forbid_single_gaps: bool = False,
    ) -> Session:
        """A new session, after checking every rule; all broken rules are named at once.

        ``prices`` names a price for each category the room has, or is one price for all.
        """
        fields = cls.problems(
            movie=movie,
            starts_at=starts_at,
            now=now,
            duration_minutes=duration_minutes,
            ticket_types=ticket_types,
            price=prices if isinstance(prices, Money) else None,
        )
        if isinstance(prices, Money):
            field = "price"
            prices = dict.fromkeys(room.categories, prices)
        else:
            field = "prices"
            for category in room.categories:
                if category not in prices:
                    fields[f"prices.{category}"] = "is required: the room has seats of this kind"
            for category, price in prices.items():
                if price.cents <= 0:
                    fields[f"prices.{category}"] = "must be greater than zero"
        if fields:
            raise ValidationFailed(fields)
        types = check_ticket_types(ticket_types)
        free = free_tickets(prices, types, field, room.categories)
        if free:
            raise ValidationFailed(free)
        currencies = {price.currency for price in prices.values()}
        if len(currencies) > 1:
            raise ValidationFailed({field: "must all be in one currency"})
        return cls(
            id,
            movie.strip(),
            room,
            starts_at,
            duration_minutes,
            # Only the room's categories: a price for a category it lacks would be dead data.
            {category: prices[category] for category in room.categories},
            types,
            forbid_single_gaps,
        )

    @staticmethod
    def problems(
        *,
        movie: str,
        starts_at: datetime,
        now: datetime,
        duration_minutes: int,
        ticket_types: Sequence[TicketType],
        price: Money | None,
    ) -> dict[str, str]:
        """What is wrong with a session's own fields, whatever its room (field → reason)."""
        fields: dict[str, str] = {}
        if not 1 <= len(movie.strip()) <= MAX_NAME:
            fields["movie"] = f"must be 1 to {MAX_NAME} characters"
        if starts_at.tzinfo is None:
            fields["starts_at"] = "must carry a timezone"
        elif starts_at < now:
            fields["starts_at"] = "must not be in the past"
        elif starts_at >= LAST_START:
            # Held to the longest duration, so that the rule does not depend on another field
            # (and compared, not added to, which would overflow near year 9999).
            fields["starts_at"] = f"must be before {LAST_START:%Y-%m-%dT%H:%M:%SZ}"
        if not 1 <= duration_minutes <= MAX_DURATION:
            fields["duration_minutes"] = f"must be 1 to {MAX_DURATION}"
        if price is not None and price.cents <= 0:
            fields["price"] = "must be greater than zero"
        try:
            check_ticket_types(ticket_types)
        except ValidationFailed as refused:
            fields.update(refused.fields)
        return fields

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def price(self) -> Money:
        """The lowest of the prices: what a session "costs from"."""
        return min(self.prices.values(), key=lambda money: money.cents)

    @property
    def seat_count(self) -> int:
        return self.room.seat_count

    def labels(self) -> list[SeatLabel]:
        """Every seat for sale, in label order."""
        return self.room.labels()

    def seat(self, label: SeatLabel) -> RoomSeat | None:
        return self.room.seat(label)

    def has_seat(self, label: SeatLabel) -> bool:
        return self.room.seat(label) is not None

    def ticket_type(self, code: str) -> TicketType | None:
        return next((kind for kind in self.ticket_types if kind.code == code), None)


def free_tickets(
    prices: Mapping[Category, Money],
    types: Sequence[TicketType],
    field: str,
    categories: Iterable[Category],
) -> dict[str, str]:
    """The prices some ticket type would sell a seat for nothing at (0.01 at 1 % is 0.00 once
    rounded): a sale must take money for every seat, so such a session is refused."""
    fields: dict[str, str] = {}
    for category in categories:
        price = prices[category]
        free = [kind for kind in types if kind.price(price).cents <= 0]
        if free:
            name = field if field == "price" else f"{field}.{category}"
            kind = free[0]
            fields[name] = (
                f"is too low: a {kind.code} ticket ({kind.percent} %) of {price} would cost 0.00"
            )
    return fields


@attrs.frozen
class SessionView:
    """A session with its live count of available seats."""

    session: Session
    available: int


@attrs.frozen
class SessionFilter:
    """What ``GET /sessions`` narrows to: a cinema (exact), a movie (case-insensitive part of
    its title, as SQL's ``lower`` compares), and bounds on ``starts_at``, both included."""

    cinema: str | None = None
    movie: str | None = None
    starts_from: datetime | None = None
    starts_to: datetime | None = None

    def admits(self, session: Session) -> bool:
        return (
            (self.cinema is None or session.room.cinema == self.cinema)
            and (self.movie is None or self.movie.lower() in session.movie.lower())
            and (self.starts_from is None or session.starts_at >= self.starts_from)
            and (self.starts_to is None or session.starts_at <= self.starts_to)
        )
