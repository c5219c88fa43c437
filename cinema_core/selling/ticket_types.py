"""Ticket types: what a buyer pays for a seat, as a share of its price, and their quotas.

Brazilian law gives students, the elderly and others the *meia-entrada* (half price) and lets a
cinema cap it at 40 % of a session's seats; that cap is a quota here, and a quota is a limit
held like a seat: never passed, whatever the interleaving.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

import attrs

from cinema_core.errors import TicketQuotaExhausted, UnknownTicketType, ValidationFailed
from cinema_core.kernel.money import Money
from cinema_core.rooms.layout import Category, RoomSeat
from cinema_core.rooms.seats import SeatLabel

CODE = re.compile(r"[a-z_]{1,20}")
MAX_TYPES = 10
MAX_TYPE_NAME = 60


@attrs.frozen
class TicketType:
    """A kind of ticket: ``percent`` of the seat's price; at most ``quota_percent`` of the
    session's seats held or sold under it at any instant, if it has a quota."""

    code: str
    name: str
    percent: int
    quota_percent: int | None = None

    def price(self, seat_price: Money) -> Money:
        return seat_price.percent(self.percent)

    def quota(self, seat_count: int) -> int | None:
        """How many seats of a session of ``seat_count`` seats this type may cover at once."""
        if self.quota_percent is None:
            return None
        return seat_count * self.quota_percent // 100


FULL = TicketType("full", "Inteira", 100)
HALF = TicketType("half", "Meia-entrada", 50, quota_percent=40)
DEFAULT_TICKET_TYPES = (FULL, HALF)


def check_ticket_types(types: Sequence[TicketType]) -> tuple[TicketType, ...]:
    """A session's ticket types, after checking every rule (``ValidationFailed`` otherwise)."""
    problems: dict[str, str] = {}
    if not 1 <= len(types) <= MAX_TYPES:
        problems["ticket_types"] = f"must list 1 to {MAX_TYPES} ticket types"
    for index, kind in enumerate(types):
        where = f"ticket_types.{index}"
        if not CODE.fullmatch(kind.code):
            problems[f"{where}.code"] = "must be 1 to 20 of a-z and _"
        if not 1 <= len(kind.name.strip()) <= MAX_TYPE_NAME:
            problems[f"{where}.name"] = f"must be 1 to {MAX_TYPE_NAME} characters"
        if not 1 <= kind.percent <= 100:
            problems[f"{where}.percent"] = "must be 1 to 100"
        if kind.quota_percent is not None and not 1 <= kind.quota_percent <= 100:
            problems[f"{where}.quota_percent"] = "must be 1 to 100"
    codes = [kind.code for kind in types]
    if len(set(codes)) != len(codes):
        problems["ticket_types"] = "must not repeat a code"
    if problems:
        raise ValidationFailed(problems)
    return tuple(attrs.evolve(kind, name=kind.name.strip()) for kind in types)


@attrs.frozen
class Line:
    """One seat of a reservation or a sale: what it is, the ticket it was sold as, its price."""

    seat: SeatLabel
    category: Category
    ticket: str
    price: Money


def assign_tickets(
    labels: Sequence[SeatLabel], counts: Mapping[str, int], types: Sequence[TicketType]
) -> list[str]:
    """The ticket type of each seat (labels in order): ``counts`` of each named type, given to
    the seats in label order, and the session's first type for the rest."""
    unknown = [code for code in counts if all(kind.code != code for kind in types)]
    if unknown:
        raise UnknownTicketType(unknown)
    if any(count < 0 for count in counts.values()):
        raise ValidationFailed({"tickets": "counts must not be negative"})
    if sum(counts.values()) > len(labels):
        raise ValidationFailed(
            {"tickets": f"count {sum(counts.values())} tickets for {len(labels)} seats"}
        )
    # In the session's order of types, so that the same request always assigns alike.
    assigned = [code for kind in types for code in [kind.code] * counts.get(kind.code, 0)]
    return assigned + [types[0].code] * (len(labels) - len(assigned))


def price_lines(
    seats: Sequence[RoomSeat],
    tickets: Sequence[str],
    prices: Mapping[Category, Money],
    types: Sequence[TicketType],
) -> tuple[Line, ...]:
    """Each seat with its ticket and its price: the category's price × the type's percent."""
    by_code = {kind.code: kind for kind in types}
    return tuple(
        Line(seat.label, seat.category, ticket, by_code[ticket].price(prices[seat.category]))
        for seat, ticket in zip(seats, tickets, strict=True)
    )


def check_quotas(
    types: Sequence[TicketType],
    seat_count: int,
    wanted: Counter[str],
    used: Mapping[str, int],
) -> None:
    """Refuse a hold that would take a type past its quota, counting the seats already held
    (unlapsed) or sold under it, ``used``, as the store counted them under its lock."""
    for kind in types:
        limit = kind.quota(seat_count)
        if limit is None or not wanted.get(kind.code):
            continue
        taken = used.get(kind.code, 0)
        if taken + wanted[kind.code] > limit:
            raise TicketQuotaExhausted(kind.code, max(0, limit - taken))


def with_quota(types: Sequence[TicketType], codes: set[str]) -> list[str]:
    """Those of ``codes`` whose type has a quota (only those need the store's quota lock)."""
    return sorted(kind.code for kind in types if kind.code in codes and kind.quota_percent)
