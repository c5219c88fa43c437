"""Sessions: one screening of a movie in a room, with a price per seat category and the ticket
types it sells, and its life: on sale until sales close, changed by an admin, or cancelled."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from cinema_core.errors import SalesClosed, SessionCancelled, ValidationFailed
from cinema_core.kernel.money import Money
from cinema_core.kernel.times import LATEST, iso
from cinema_core.rooms.layout import MAX_NAME, Category, Room, RoomSeat
from cinema_core.rooms.seats import SeatLabel
from cinema_core.selling.ticket_types import (
    DEFAULT_TICKET_TYPES,
    QuotaUse,
    TicketType,
    check_ticket_types,
    quota_uses,
)

DEFAULT_DURATION = 120
MAX_DURATION = 600
# The last instant a session may start at: its longest run still ends before times.LATEST.
LAST_START = LATEST - timedelta(minutes=MAX_DURATION)
# How long after the start a session is still sold (latecomers buy at the door's last minute).
DEFAULT_SALES_CLOSE = timedelta(minutes=15)
# The age ratings of Brazil's ClassInd: L (livre, for all) or the least age in years.
RATINGS = ("L", "10", "12", "14", "16", "18")
DEFAULT_RATING = "L"


class SessionStatus(enum.StrEnum):
    ON_SALE = "on_sale"
    SALES_CLOSED = "sales_closed"
    CANCELLED = "cancelled"


@attrs.frozen
class Session:
    """A screening of ``movie`` in ``room`` over ``[starts_at, ends_at)``.

    An admin may change its movie and times (``changed``) or cancel it (``cancelled``); its
    room, prices and ticket types never change, so any process may keep a session for those,
    but whether it is still sold is judged on the store's current row (``check_on_sale``).
    """

    id: UUID
    movie: str
    room: Room
    starts_at: datetime
    duration_minutes: int
    prices: Mapping[Category, Money]
    ticket_types: tuple[TicketType, ...] = DEFAULT_TICKET_TYPES
    forbid_single_gaps: bool = False
    cancelled_at: datetime | None = None
    rating: str = DEFAULT_RATING

    @property
    def least_age(self) -> str | None:
        """The age the door must check (``None`` for a session free for all)."""
        return None if self.rating == DEFAULT_RATING else self.rating

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
        rating: str = DEFAULT_RATING,
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
            rating=rating,
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
            rating=rating,
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
        rating: str = DEFAULT_RATING,
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
        if rating not in RATINGS:
            fields["rating"] = f"must be one of {', '.join(RATINGS)}"
        try:
            check_ticket_types(ticket_types)
        except ValidationFailed as refused:
            fields.update(refused.fields)
        return fields

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    # -- its life -------------------------------------------------------------------------

    def sales_close_at(self, close_after: timedelta) -> datetime:
        """When sales close: ``close_after`` past the start, and never after the end (a session
        that has ended is never sold, however short it was)."""
        return min(self.starts_at + close_after, self.ends_at)

    def status_at(self, now: datetime, close_after: timedelta) -> SessionStatus:
        if self.cancelled_at is not None:
            return SessionStatus.CANCELLED
        if now >= self.sales_close_at(close_after):
            return SessionStatus.SALES_CLOSED
        return SessionStatus.ON_SALE

    def check_on_sale(self, now: datetime, close_after: timedelta) -> None:
        """Refuse a hold, a change of a hold or a payment unless the session is on sale."""
        status = self.status_at(now, close_after)
        if status is SessionStatus.CANCELLED:
            raise SessionCancelled()
        if status is SessionStatus.SALES_CLOSED:
            raise SalesClosed(iso(self.sales_close_at(close_after)))

    def changed(
        self,
        *,
        now: datetime,
        movie: str | None = None,
        starts_at: datetime | None = None,
        duration_minutes: int | None = None,
        rating: str | None = None,
    ) -> tuple[Session, list[str]]:
        """This session with the given fields changed, checked as ``create`` checks them, and
        the names of the fields that really changed. A cancelled session is never changed."""
        if self.cancelled_at is not None:
            raise SessionCancelled()
        if movie is None and starts_at is None and duration_minutes is None and rating is None:
            raise ValidationFailed(
                {"body": "must name at least one of movie, starts_at, duration_minutes, rating"}
            )
        given = {
            name
            for name, value in (
                ("movie", movie),
                ("starts_at", starts_at),
                ("duration_minutes", duration_minutes),
                ("rating", rating),
            )
            if value is not None
        }
        # The rules of a new session, judged on the fields given only: a session that has
        # started may still have its movie renamed.
        problems = Session.problems(
            movie=self.movie if movie is None else movie,
            starts_at=self.starts_at if starts_at is None else starts_at,
            now=now,
            duration_minutes=self.duration_minutes
            if duration_minutes is None
            else duration_minutes,
            ticket_types=self.ticket_types,
            price=None,
            rating=self.rating if rating is None else rating,
        )
        fields = {name: reason for name, reason in problems.items() if name in given}
        if fields:
            raise ValidationFailed(fields)
        new = attrs.evolve(
            self,
            movie=self.movie if movie is None else movie.strip(),
            starts_at=self.starts_at if starts_at is None else starts_at,
            duration_minutes=(
                self.duration_minutes if duration_minutes is None else duration_minutes
            ),
            rating=self.rating if rating is None else rating,
        )
        names = ("movie", "starts_at", "duration_minutes", "rating")
        return new, [name for name in names if getattr(new, name) != getattr(self, name)]

    def cancelled(self, now: datetime) -> Session:
        """This session cancelled at ``now`` (cancelling again keeps the first instant)."""
        return self if self.cancelled_at is not None else attrs.evolve(self, cancelled_at=now)

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
    """A session with its live count of available seats and where it stands in its life."""

    session: Session
    available: int
    status: SessionStatus
    sales_close_at: datetime
    # Each quota group with its limit, use and what is left, now.
    quotas: Mapping[str, QuotaUse] = attrs.field(factory=dict)

    @classmethod
    def at(
        cls,
        session: Session,
        available: int,
        now: datetime,
        close_after: timedelta,
        used: Mapping[str, int] | None = None,
    ) -> SessionView:
        """The view, its quotas counted from ``used`` (seats held or sold per ticket code;
        ``None``: none yet)."""
        return cls(
            session,
            available,
            session.status_at(now, close_after),
            session.sales_close_at(close_after),
            quota_uses(session.ticket_types, session.seat_count, used or {}),
        )


@attrs.frozen
class SessionFilter:
    """What ``GET /sessions`` narrows to: a cinema (exact), a movie (case-insensitive part of
    its title, as SQL's ``lower`` compares), and bounds on ``starts_at``, both included."""

    cinema: str | None = None
    movie: str | None = None
    starts_from: datetime | None = None
    starts_to: datetime | None = None
    # Only sessions on sale at this instant (not cancelled, sales not closed), when given.
    on_sale_at: datetime | None = None
    sales_close: timedelta = DEFAULT_SALES_CLOSE

    def admits(self, session: Session) -> bool:
        return (
            (
                self.on_sale_at is None
                or session.status_at(self.on_sale_at, self.sales_close) is SessionStatus.ON_SALE
            )
            and (self.cinema is None or session.room.cinema == self.cinema)
            and (self.movie is None or self.movie.lower() in session.movie.lower())
            and (self.starts_from is None or session.starts_at >= self.starts_from)
            and (self.starts_to is None or session.starts_at <= self.starts_to)
        )
