"""A sale as the counter prints it: its tickets with their session, and the receipt's lines."""

from __future__ import annotations

import attrs

from cinema_core.after_sale.admissions import Ticket
from cinema_core.selling.reservations import Sale
from cinema_core.sessions.session import Session


@attrs.frozen
class Printout:
    """What a printed sale shows: the ``sale`` (its receipt), its ``tickets`` in seat order,
    and the ``session`` they admit to."""

    sale: Sale
    tickets: tuple[Ticket, ...]
    session: Session

    def type_name(self, code: str) -> str:
        """The session's name of a ticket type (the code itself for a type it no longer has)."""
        return next((t.name for t in self.session.ticket_types if t.code == code), code)
