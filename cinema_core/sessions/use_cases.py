"""The use cases of the programme: an admin adding a session, anyone reading and listing them.

Each is one call to the store, through the ``Holding`` it is handed (the session cache and the
views with their live counts). Changing and cancelling a session is ``life.SessionLife``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from cinema_core.errors import RoomNotFound, SessionNotFound, ValidationFailed
from cinema_core.events import envelopes as events
from cinema_core.kernel.money import Money
from cinema_core.kernel.pagination import Cursor, Page, check_limit
from cinema_core.ports import Transaction
from cinema_core.rooms.layout import Category, Room
from cinema_core.selling.holding import Holding
from cinema_core.selling.ticket_types import DEFAULT_TICKET_TYPES, TicketType
from cinema_core.sessions.session import (
    DEFAULT_DURATION,
    DEFAULT_RATING,
    Session,
    SessionFilter,
    SessionView,
)


@attrs.define
class Sessions:
    """Adding sessions and reading them (what ``BoxOffice`` answers about the programme)."""

    holding: Holding

    def create_session(
        self,
        *,
        movie: str,
        starts_at: datetime,
        room_id: UUID | None = None,
        prices: Mapping[Category, Money] | None = None,
        price: Money | None = None,
        duration_minutes: int = DEFAULT_DURATION,
        ticket_types: Sequence[TicketType] = DEFAULT_TICKET_TYPES,
        forbid_single_gaps: bool = False,
        rating: str = DEFAULT_RATING,
        room: str | None = None,
        rows: int | None = None,
        seats_per_row: int | None = None,
    ) -> SessionView:
        """A new session in the room ``room_id``, at ``prices`` per category (or one ``price``).

        The first shape stays valid: ``room`` (a name), ``rows`` and ``seats_per_row`` instead of
        ``room_id`` make a private rectangular room of standard seats for this session only.
        Two sessions of one room never overlap (``RoomBusy``).
        """
        holding = self.holding
        now = holding.clock.now()
        cost: Mapping[Category, Money] | Money | None = price if prices is None else prices
        if cost is None:
            raise ValidationFailed({"prices": "is required (or one price for every seat)"})
        if room_id is not None:
            found = holding.repo.get_room(room_id)
            if found is None or found.private:
                raise RoomNotFound()
            venue = found
        else:
            try:
                venue = Room.rectangle(
                    id=holding.new_id(),
                    name=room or "",
                    rows=rows or 0,
                    seats_per_row=seats_per_row or 0,
                )
            except ValidationFailed as refused:
                # Every broken field at once, the room's and the session's alike; a room too
                # small is said only once the fields are right.
                fields = Session.problems(
                    movie=movie,
                    starts_at=starts_at,
                    now=now,
                    duration_minutes=duration_minutes,
                    ticket_types=ticket_types,
                    price=cost if isinstance(cost, Money) else None,
                )
                if fields:
                    raise ValidationFailed({**refused.fields, **fields}) from None
                raise
        session = Session.create(
            id=holding.new_id(),
            movie=movie,
            room=venue,
            starts_at=starts_at,
            prices=cost,
            now=now,
            duration_minutes=duration_minutes,
            ticket_types=ticket_types,
            forbid_single_gaps=forbid_single_gaps,
            rating=rating,
        )

        def work(tx: Transaction) -> None:
            tx.add_session(session)
            tx.emit(events.session_created(holding.new_id(), session, now))

        holding.repo.atomic(work)
        return holding.view(session, session.seat_count, {})

    def session(self, session_id: UUID) -> SessionView:
        """The session as stored now (an admin may have changed or cancelled it)."""
        session = self.holding.repo.get_session(session_id)
        if session is None:
            raise SessionNotFound()
        self.holding.keep(session)
        return self.holding.view(session)

    def sessions(
        self,
        limit: int = 50,
        cursor: str | None = None,
        where: SessionFilter | None = None,
        *,
        past: bool = False,
    ) -> Page[SessionView]:
        """Sessions by start time, narrowed by ``where``, a page at a time: only those still
        on sale unless ``past`` (then cancelled ones and those whose sales closed too)."""
        holding = self.holding
        check_limit(limit)
        after = Cursor.decode(cursor) if cursor else None
        where = where or SessionFilter()
        if not past:
            where = attrs.evolve(
                where, on_sale_at=holding.clock.now(), sales_close=holding.sales_close
            )
        found = holding.repo.list_sessions(after, limit + 1, where)
        page = found[:limit]
        now = holding.clock.now()
        counts = holding.repo.available_counts([session.id for session in page], now)
        limited = [s.id for s in page if any(kind.group for kind in s.ticket_types)]
        used = holding.repo.ticket_counts(limited, now) if limited else {}
        more = Cursor(page[-1].starts_at, page[-1].id).encode() if len(found) > limit else None
        return Page(
            [
                holding.view(session, counts.get(session.id, 0), used.get(session.id, {}))
                for session in page
            ],
            more,
        )
