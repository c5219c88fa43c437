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
MAX_DOCUMENT = 120


@attrs.frozen
class TicketType:
    """A kind of ticket: ``percent`` of the seat's price; at most ``quota_percent`` of the
    session's seats held or sold under it at any instant, if it has a quota, counted over
    every type of its ``quota_group`` together; ``document`` is the proof of the right to it
    that the door asks for."""

    code: str
    name: str
    percent: int
    quota_percent: int | None = None
    # Types sharing one quota (the law's 40 % is for students, people with disabilities and
    # low-income youth together); a type with a quota and no group is its own group.
    quota_group: str | None = None
    document: str | None = None

    @property
    def group(self) -> str | None:
        """The quota this type counts against, named (``None``: it has no quota)."""
        if self.quota_percent is None:
            return None
        return self.quota_group or self.code

    def price(self, seat_price: Money) -> Money:
        return seat_price.percent(self.percent)

    def quota(self, seat_count: int) -> int | None:
        """How many seats of a session of ``seat_count`` seats this type may cover at once."""
        if self.quota_percent is None:
            return None
        return seat_count * self.quota_percent // 100


FULL = TicketType("full", "Inteira", 100)
HALF = TicketType(
    "half",
    "Meia-entrada",
    50,
    quota_percent=40,
    quota_group="meia",
    document="Carteira de Identificação Estudantil (CIE)",
)
# The over-60 half price is outside the 40 % (Estatuto do Idoso, not Lei 12.933/2013).
SENIOR = TicketType("senior", "60+", 50, document="Documento de identidade com foto")
DEFAULT_TICKET_TYPES = (FULL, HALF, SENIOR)


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
        if kind.quota_group is not None and not CODE.fullmatch(kind.quota_group):
            problems[f"{where}.quota_group"] = "must be 1 to 20 of a-z and _"
        elif kind.quota_group is not None and kind.quota_percent is None:
            problems[f"{where}.quota_group"] = "needs a quota_percent"
        if kind.document is not None and not 1 <= len(kind.document.strip()) <= MAX_DOCUMENT:
            problems[f"{where}.document"] = f"must be 1 to {MAX_DOCUMENT} characters"
    # One quota per group: its types must agree on it, or the limit would depend on which
    # type a buyer asked for.
    percents: dict[str, int | None] = {}
    for index, kind in enumerate(types):
        group = kind.group
        if group is None:
            continue
        if group in percents and percents[group] != kind.quota_percent:
            problems[f"ticket_types.{index}.quota_percent"] = (
                f"must be the same as the other types of quota group {group}"
            )
        percents.setdefault(group, kind.quota_percent)
    codes = [kind.code for kind in types]
    if len(set(codes)) != len(codes):
        problems["ticket_types"] = "must not repeat a code"
    if problems:
        raise ValidationFailed(problems)
    return tuple(
        attrs.evolve(
            kind,
            name=kind.name.strip(),
            document=None if kind.document is None else kind.document.strip(),
        )
        for kind in types
    )


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


@attrs.frozen
class QuotaUse:
    """Where a quota group stands: its ``limit``, the seats ``used`` under it, what is left."""

    limit: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def quota_uses(
    types: Sequence[TicketType], seat_count: int, used: Mapping[str, int]
) -> dict[str, QuotaUse]:
    """Each quota group of ``types`` with its use, given the seats held (unlapsed) or sold
    per ticket code, ``used``; groups in the order their first type is listed."""
    uses: dict[str, QuotaUse] = {}
    for kind in types:
        group, limit = kind.group, kind.quota(seat_count)
        if group is None or limit is None:
            continue
        before = uses.get(group, QuotaUse(limit, 0))
        uses[group] = QuotaUse(limit, before.used + used.get(kind.code, 0))
    return uses


def check_quotas(
    types: Sequence[TicketType],
    seat_count: int,
    wanted: Counter[str],
    used: Mapping[str, int],
) -> None:
    """Refuse a hold that would take a quota group past its limit, counting the seats already
    held (unlapsed) or sold under every type of the group, ``used``, as the store counted them
    under its lock."""
    uses = quota_uses(types, seat_count, used)
    for kind in types:
        group = kind.group
        if group is None or not wanted.get(kind.code):
            continue
        more = sum(wanted.get(other.code, 0) for other in types if other.group == group)
        if uses[group].used + more > uses[group].limit:
            raise TicketQuotaExhausted(kind.code, uses[group].left, group)


def with_quota(types: Sequence[TicketType], codes: set[str]) -> list[str]:
    """Every type sharing a quota group with one of ``codes`` (only those need the store's
    quota lock, and the group's count is over all of them)."""
    groups = {kind.group for kind in types if kind.code in codes} - {None}
    return sorted(kind.code for kind in types if kind.group in groups)
