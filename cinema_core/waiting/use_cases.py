"""The waiting room's use cases: an admin sets it, buyers queue, reservations are admitted.

Staff and admins are never queued (the counter sells to whoever stands at it). An admission
token serves its own user for one session, for as many reservations as the user makes while it
lasts; it stops serving once it lapses or its user leaves the queue, whatever its expiry says.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from uuid import UUID

import attrs

from cinema_core.errors import (
    AdmissionExpired,
    AdmissionInvalid,
    AdmissionRequired,
    QueueTicketNotFound,
    WaitingRoomOff,
)
from cinema_core.goods.extras import NO_EXTRAS, Extras
from cinema_core.kernel.clock import Clock
from cinema_core.ports import WaitingLines
from cinema_core.selling.holding import Holding
from cinema_core.selling.holds import Holds
from cinema_core.selling.reservations import Reservation
from cinema_core.waiting.room import Place, PlaceStatus, RoomFigures, RoomSettings
from cinema_core.waiting.tokens import AdmissionClaims, AdmissionTokens

# A queue ticket: the session's id and 16 random bytes, in hex, so that reading one finds its
# session's queue (and, in Redis, its hash slot) with no index.
_TICKET_LENGTH = 64


@attrs.frozen
class Standing:
    """A place in the queue as its buyer sees it: with the estimate, or the admission."""

    place: Place
    estimated_wait_seconds: int
    admission: str | None


def _session_of(ticket: str) -> UUID:
    if len(ticket) != _TICKET_LENGTH:
        raise QueueTicketNotFound()
    try:
        int(ticket, 16)
        return UUID(hex=ticket[:32])
    except ValueError:
        raise QueueTicketNotFound() from None


@attrs.frozen
class WaitingRooms:
    """Setting waiting rooms, queueing for them, and checking admissions."""

    holding: Holding
    lines: WaitingLines
    tokens: AdmissionTokens
    lasts: timedelta
    holds: Holds

    @property
    def _clock(self) -> Clock:
        return self.holding.clock

    def set_room(self, session_id: UUID, settings: RoomSettings) -> RoomFigures:
        self.holding.session(session_id)
        self.lines.configure(session_id, settings, self._clock.now())
        return self.room_figures(session_id)

    def room_figures(self, session_id: UUID) -> RoomFigures:
        self.holding.session(session_id)
        return self.lines.figures(session_id, self._clock.now(), self.lasts)

    def open_rooms(self) -> list[RoomFigures]:
        """The figures of every waiting room that is on now (what the metrics report)."""
        now = self._clock.now()
        figures = [self.lines.figures(room, now, self.lasts) for room in self.lines.rooms()]
        return [room for room in figures if room.settings is not None and room.settings.enabled]

    def join(self, session_id: UUID, user_id: str) -> Standing:
        self.holding.session(session_id)
        ticket = session_id.hex + secrets.token_hex(16)
        place = self.lines.join(session_id, user_id, ticket, self._clock.now(), self.lasts)
        if place is None:
            raise WaitingRoomOff()
        return self._standing(place)

    def standing(self, ticket: str, user_id: str) -> Standing:
        place = self.lines.look(_session_of(ticket), ticket, self._clock.now(), self.lasts)
        if place is None or place.user_id != user_id:
            raise QueueTicketNotFound()
        return self._standing(place)

    def leave(self, ticket: str, user_id: str) -> Place:
        session_id = _session_of(ticket)
        place = self.lines.look(session_id, ticket, self._clock.now(), self.lasts)
        if place is None or place.user_id != user_id:
            raise QueueTicketNotFound()
        self.lines.leave(session_id, ticket)
        return place

    def reserve_unadmitted(
        self,
        user_id: str,
        session_id: UUID,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
        extras: Extras = NO_EXTRAS,
    ) -> Reservation:
        """A hold for a buyer who brought no admission. The seat lock reads the session's
        room in the round trip that takes the seats; only if the room may be on does the
        admission check run (``AdmissionRequired`` while it is on), before anything is held."""

        def admit() -> None:
            self.check_admission(session_id, user_id, None)

        return self.holds.reserve(user_id, session_id, seats, tickets, extras, admit=admit)

    def check_admission(
        self, session_id: UUID, user_id: str, token: str | None, *, staff: bool = False
    ) -> None:
        """Let a reservation through, or say why not: the room is on and the token is missing
        (``AdmissionRequired``), not this user's for this session (``AdmissionInvalid``), or
        lapsed or given up (``AdmissionExpired``)."""
        if staff:
            return
        settings = self.lines.settings(session_id)
        if settings is None or not settings.enabled:
            return
        if not token:
            raise AdmissionRequired()
        claims = self.tokens.read(token)
        if claims.session_id != session_id or claims.user_id != user_id:
            raise AdmissionInvalid()
        now = self._clock.now()
        if claims.expires_at <= now:
            raise AdmissionExpired()
        if self.lines.active_until(session_id, claims.ticket, user_id, now) is None:
            raise AdmissionExpired()

    def _standing(self, place: Place) -> Standing:
        settings = self.lines.settings(place.session_id)
        now = self._clock.now()
        wait = 0 if settings is None else place.estimated_wait(settings, now)
        admission = None
        if place.status is PlaceStatus.ADMITTED:
            assert place.expires_at is not None
            admission = self.tokens.sign(
                AdmissionClaims(place.session_id, place.user_id, place.ticket, place.expires_at)
            )
        return Standing(place, wait, admission)
