"""Admissions: the ticket each sold seat gets, and the one check-in at the door it allows.

(``tickets.py`` holds ticket *types*, what a seat is sold as; this module holds the tickets a
sale issues, one per seat, each with the code the door scans.)

A code is 32 characters of URL-safe base64 from ``secrets``: 192 random bits, stored with the
ticket and looked up at the door. It says nothing about the ticket (no id, seat or signature to
forge), so the only way to a valid code is to have been shown it; and since the door must ask the
store anyway (a ticket checks in once, and a refunded one not at all), a signed code would save
no round trip while adding a key to keep and rotate.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import attrs

from cinema_core.errors import (
    AlreadyCheckedIn,
    AlreadyRefunded,
    TicketRefunded,
    TicketUsed,
    WrongSession,
)
from cinema_core.kernel.money import Money
from cinema_core.kernel.times import iso
from cinema_core.rooms.layout import Category
from cinema_core.rooms.seats import SeatLabel
from cinema_core.selling.reservations import Sale

CODE_BYTES = 24
MAX_CODE = 200


def new_code() -> str:
    """A fresh, unguessable ticket code."""
    return secrets.token_urlsafe(CODE_BYTES)


class TicketStatus(enum.StrEnum):
    VALID = "valid"
    USED = "used"
    REFUNDED = "refunded"


@attrs.define
class Ticket:
    """One seat of a sale as the door sees it: its code, and whether it was used or refunded.

    A ticket is used at most once and never both used and refunded: ``check_in`` refuses a
    refunded ticket and ``refuse_refund`` a used one, each decided on the ticket as locked.
    """

    id: UUID
    code: str
    sale_id: UUID
    session_id: UUID
    seat: SeatLabel
    category: Category
    # The ticket type the seat was sold as, and what it cost: the sale's line, kept here so
    # that reports count tickets without unpacking sales.
    ticket: str
    price: Money
    paid_at: datetime
    checked_in_at: datetime | None = None
    refund_id: UUID | None = None

    @property
    def status(self) -> TicketStatus:
        if self.refund_id is not None:
            return TicketStatus.REFUNDED
        if self.checked_in_at is not None:
            return TicketStatus.USED
        return TicketStatus.VALID

    def check_in(self, now: datetime, door_session: UUID | None = None) -> None:
        """Let the holder in, once; a door that names its session admits only that one's."""
        if door_session is not None and door_session != self.session_id:
            raise WrongSession(self.session_id)
        if self.refund_id is not None:
            raise TicketRefunded()
        if self.checked_in_at is not None:
            raise AlreadyCheckedIn(iso(self.checked_in_at))
        self.checked_in_at = now

    def refund(self, refund_id: UUID, *, used_too: bool = False) -> None:
        """Mark the ticket given back (``refunds.Refund.of`` checks every ticket first);
        ``used_too``: even if it was used (its session was cancelled, ``Refund.in_full``)."""
        if used_too and self.refund_id is None:
            self.refund_id = refund_id
            return
        refuse_refund([self])
        self.refund_id = refund_id


def refuse_refund(tickets: list[Ticket]) -> None:
    """Refuse to refund these tickets if any was refunded already or used at the door, naming
    every such seat; all or nothing."""
    refunded = [t.seat for t in tickets if t.refund_id is not None]
    if refunded:
        raise AlreadyRefunded(refunded)
    used = [t.seat for t in tickets if t.checked_in_at is not None]
    if used:
        raise TicketUsed(used)


def issue_tickets(sale: Sale, new_id: Callable[[], UUID], code: Callable[[], str]) -> list[Ticket]:
    """One valid ticket per seat of a new sale, in label order."""
    return [
        Ticket(
            id=new_id(),
            code=code(),
            sale_id=sale.id,
            session_id=sale.session_id,
            seat=line.seat,
            category=line.category,
            ticket=line.ticket,
            price=line.price,
            paid_at=sale.paid_at,
        )
        for line in sale.lines
    ]


@attrs.frozen
class DoorChecks:
    """What the door must see before letting a ticket's holder in: the ``document`` proving the
    right to its ticket type (a student card for a meia-entrada), and the least ``age`` the
    session's rating asks for (``None``: nothing to check)."""

    document: str | None = None
    age: str | None = None


@attrs.frozen
class Admission:
    """A ticket just checked in, with what the door must check of its holder."""

    ticket: Ticket
    checks: DoorChecks
