"""Refunds: seats of a sale given back before the screening, for sale again at once.

The rules: a buyer may refund their own sale until ``cutoff`` before the session starts, an admin
any sale until the session ends; a refund names seats of the sale (all those not yet refunded
when it names none), takes all of them or none, never a seat already refunded or used at the
door, and never half a couple seat whose other half stays sold (that half could then never be
sold alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from cinema_core.after_sale.admissions import Ticket, refuse_refund
from cinema_core.errors import AlreadyRefunded, CoupleSeatSplit, RefundWindowClosed, UnknownSeat
from cinema_core.goods.products import ProductLine
from cinema_core.kernel.money import Money
from cinema_core.kernel.times import iso
from cinema_core.rooms.seats import SeatLabel
from cinema_core.selling.reservations import Sale, claim_labels, total
from cinema_core.selling.ticket_types import Line
from cinema_core.sessions.session import Session

DEFAULT_REFUND_CUTOFF = timedelta(minutes=60)


def refund_closes(session: Session, *, admin: bool, cutoff: timedelta) -> datetime:
    """The instant from which a refund of a sale of ``session`` is refused: ``cutoff`` before
    the start for the buyer, the end of the session for an admin."""
    return session.ends_at if admin else session.starts_at - cutoff


@attrs.frozen
class Refund:
    """Seats of one sale given back, with what they had cost."""

    id: UUID
    sale_id: UUID
    session_id: UUID
    # The sale's buyer, whoever asked for the refund (``by``).
    user_id: str
    lines: tuple[Line, ...]
    refunded_at: datetime
    by: str
    # What it gives back (``Sale.refund_value``); the seats' prices when not given.
    value: Money | None = None
    # The sale's products, given back with its last seat (their stock is for sale again).
    products: tuple[ProductLine, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        id: UUID,
        sale: Sale,
        tickets: Sequence[Ticket],
        seats: Sequence[str] | None,
        session: Session,
        by: str,
        admin: bool,
        now: datetime,
        cutoff: timedelta,
    ) -> Refund:
        """The refund of ``seats`` of ``sale`` (all not yet refunded if ``None``) asked for at
        ``now``, after every rule; ``tickets`` are the sale's, as locked."""
        if seats is None:
            wanted = [t.seat for t in tickets if t.refund_id is None] or [t.seat for t in tickets]
        else:
            wanted = list(claim_labels(list(seats)))
            unknown = [label for label in wanted if label not in sale.seats]
            if unknown:
                raise UnknownSeat(unknown, "Some seats are not in this sale.")
        closes = refund_closes(session, admin=admin, cutoff=cutoff)
        if now >= closes:
            raise RefundWindowClosed(iso(closes))
        chosen = sorted((t for t in tickets if t.seat in set(wanted)), key=lambda t: t.seat)
        if len(chosen) < len(wanted):
            # A seat of the sale without its ticket: the store lost one; refuse rather than
            # give money back for a seat nobody can account for.
            raise AlreadyRefunded(set(wanted) - {t.seat for t in chosen})
        refuse_refund(chosen)
        _refuse_half_couples(session, tickets, {t.seat for t in chosen})
        lines = tuple(line for line in sale.lines if line.seat in set(wanted))
        return cls.of_lines(id, sale, lines, now, by)

    @classmethod
    def of_lines(
        cls, id: UUID, sale: Sale, lines: tuple[Line, ...], now: datetime, by: str
    ) -> Refund:
        """The refund of ``lines`` of ``sale``, with the money and products it gives back."""
        seats = [line.seat for line in lines]
        products = sale.products if sale.settles(seats) else ()
        value = sale.refund_value(seats)
        return cls(id, sale.id, sale.session_id, sale.user_id, lines, now, by, value, products)

    @classmethod
    def in_full(
        cls, *, id: UUID, sale: Sale, tickets: Sequence[Ticket], by: str, now: datetime
    ) -> Refund | None:
        """The refund of every seat of ``sale`` not refunded yet, checked in or not, whatever
        the window: what a cancelled session gives back (the screening is not happening, so a
        ticket used at the door is owed too). ``None`` when nothing is left to refund."""
        left = {t.seat for t in tickets if t.refund_id is None}
        lines = tuple(line for line in sale.lines if line.seat in left)
        if not lines:
            return None
        return cls.of_lines(id, sale, lines, now, by)

    @property
    def seats(self) -> tuple[SeatLabel, ...]:
        return tuple(line.seat for line in self.lines)

    @property
    def amount(self) -> Money:
        return total(self.lines) if self.value is None else self.value


def _refuse_half_couples(
    session: Session, tickets: Sequence[Ticket], wanted: set[SeatLabel]
) -> None:
    still_sold = {t.seat for t in tickets if t.refund_id is None} - wanted
    missing = [
        pair
        for label in wanted
        if (seat := session.seat(label)) is not None
        and (pair := seat.pair) is not None
        and pair in still_sold
    ]
    if missing:
        raise CoupleSeatSplit(missing, "A couple seat is refunded only whole: add its other half.")
