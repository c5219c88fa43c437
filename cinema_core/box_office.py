"""The use cases: what the box office does, each one a transaction against the store.

Services load, let the model decide, save and emit; the rules live in the model.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import attrs

from . import events
from .admissions import issue_tickets, new_code
from .after_sale import AfterSale
from .clock import Clock, SystemClock
from .errors import (
    BackendUnavailable,
    ReservationNotFound,
    RoomNotFound,
    SessionNotFound,
    ValidationFailed,
)
from .holds import ChoosingSeats, Claims
from .money import Money
from .outages import Outages
from .pagination import Cursor, Page, check_limit
from .ports import ReservationRepo, SeatLock, Transaction
from .refunds import DEFAULT_REFUND_CUTOFF
from .reservations import Reservation, ReservationStatus, Sale, hold_seats
from .rooms import Category, Room
from .seat_map import SeatMap
from .seats import Seat, SeatLabel
from .session_life import SessionLife
from .sessions import DEFAULT_DURATION, DEFAULT_SALES_CLOSE, Session, SessionFilter, SessionView
from .tickets import DEFAULT_TICKET_TYPES, TicketType, check_quotas, with_quota
from .users import check_user_id

DEFAULT_HOLD = timedelta(seconds=30)
SESSION_CACHE_SIZE = 10_000
# Seat maps kept for reuse (each up to 2,600 seats, ~0.5 MB): the sessions being watched.
SEAT_MAP_CACHE_SIZE = 16
# Lapsed reservations expired in one transaction: one commit instead of a hundred.
EXPIRY_BATCH = 100


@attrs.define
class BoxOffice(ChoosingSeats, AfterSale, SessionLife):
    """The box office as a library: every use case of the API, with no HTTP in between.

    >>> from cinema_core import in_memory_box_office
    >>> box = in_memory_box_office()
    """

    repo: ReservationRepo
    seat_lock: SeatLock
    clock: Clock = attrs.field(factory=SystemClock)
    hold: timedelta = DEFAULT_HOLD
    outages: Outages = attrs.field(factory=Outages)
    new_id: Callable[[], UUID] = uuid4
    # How long before a session starts its buyers may still refund (admins: until it ends).
    refund_cutoff: timedelta = DEFAULT_REFUND_CUTOFF
    new_code: Callable[[], str] = new_code
    # How long after its start a session is still sold (never after it ends).
    sales_close: timedelta = DEFAULT_SALES_CLOSE
    # A session's room, prices and ticket types never change, so every process may keep them:
    # it saves the store a round trip on each reservation. What may change (movie, times,
    # cancellation) is read again under lock wherever a rule depends on it (``_on_sale``).
    _sessions: dict[UUID, Session] = attrs.field(factory=dict, init=False, repr=False)
    # The last seat map of each watched session, with the seats it was made from and the
    # instants it holds for (see ``seat_map``).
    _seat_maps: dict[UUID, tuple[list[Seat], SeatMap, datetime, datetime | None]] = attrs.field(
        factory=dict, init=False, repr=False
    )
    # TEST-ONLY guard switches, for race tests' control runs (never turn them off anywhere
    # else): ``retry_best=False`` makes best available try one candidate and refuse if it is
    # gone; ``lock_gap_rows=False`` judges the single-seat rule on rows read before locking.
    retry_best: bool = True
    lock_gap_rows: bool = True
    # The seats this process's best-available buyers are trying right now (see Claims).
    _claims: Claims = attrs.field(factory=Claims, init=False, repr=False)

    # -- sessions -------------------------------------------------------------------------

    def create_room(self, *, cinema: str, name: str, layout: Sequence[str]) -> Room:
        """A new room of a cinema; ``(cinema, name)`` is unique (``RoomExists``)."""
        room = Room.create(id=self.new_id(), cinema=cinema, name=name, layout=layout)
        self.repo.atomic(lambda tx: tx.add_room(room))
        return room

    def room(self, room_id: UUID) -> Room:
        room = self.repo.get_room(room_id)
        if room is None or room.private:
            raise RoomNotFound()
        return room

    def rooms(self, cinema: str | None = None) -> list[Room]:
        """The chain's rooms (of one cinema if named), by cinema and name."""
        return self.repo.list_rooms(cinema)

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
        room: str | None = None,
        rows: int | None = None,
        seats_per_row: int | None = None,
    ) -> SessionView:
        """A new session in the room ``room_id``, at ``prices`` per category (or one ``price``).

        The first shape stays valid: ``room`` (a name), ``rows`` and ``seats_per_row`` instead of
        ``room_id`` make a private rectangular room of standard seats for this session only.
        Two sessions of one room never overlap (``RoomBusy``).
        """
        now = self.clock.now()
        cost: Mapping[Category, Money] | Money | None = price if prices is None else prices
        if cost is None:
            raise ValidationFailed({"prices": "is required (or one price for every seat)"})
        if room_id is not None:
            found = self.repo.get_room(room_id)
            if found is None or found.private:
                raise RoomNotFound()
            venue = found
        else:
            try:
                venue = Room.rectangle(
                    id=self.new_id(),
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
            id=self.new_id(),
            movie=movie,
            room=venue,
            starts_at=starts_at,
            prices=cost,
            now=now,
            duration_minutes=duration_minutes,
            ticket_types=ticket_types,
            forbid_single_gaps=forbid_single_gaps,
        )

        def work(tx: Transaction) -> None:
            tx.add_session(session)
            tx.emit(events.session_created(self.new_id(), session, now))

        self.repo.atomic(work)
        return self._view(session, session.seat_count)

    def session(self, session_id: UUID) -> SessionView:
        """The session as stored now (an admin may have changed or cancelled it)."""
        session = self.repo.get_session(session_id)
        if session is None:
            raise SessionNotFound()
        self._keep(session)
        return self._view(session)

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
        check_limit(limit)
        after = Cursor.decode(cursor) if cursor else None
        where = where or SessionFilter()
        if not past:
            where = attrs.evolve(where, on_sale_at=self.clock.now(), sales_close=self.sales_close)
        found = self.repo.list_sessions(after, limit + 1, where)
        page = found[:limit]
        counts = self.repo.available_counts([session.id for session in page], self.clock.now())
        more = Cursor(page[-1].starts_at, page[-1].id).encode() if len(found) > limit else None
        return Page([self._view(session, counts.get(session.id, 0)) for session in page], more)

    def seat_map(self, session_id: UUID) -> SeatMap:
        seats = self.repo.seats(session_id)
        room = self._session(session_id).room
        if not seats:
            return SeatMap.at(session_id, room, seats, self.clock.now())
        now = self.clock.now()
        cached = self._seat_maps.get(session_id)
        if cached is not None:
            seen, seat_map, since, until = cached
            # A store that hands out its stored seats (the in-memory one; it replaces a seat on
            # every write, never mutates it) gives back the very same objects while nothing
            # changed, and a map stays true until the next hold in it lapses. A store that
            # makes fresh seats per read fails the first identity check and never pays more.
            if (
                seats[0] is seen[0]
                and since <= now
                and (until is None or now < until)
                and seats == seen
            ):
                return seat_map
        seat_map = SeatMap.at(session_id, room, seats, now)
        until = min(
            (
                seat.hold_expires_at
                for seat in seats
                if seat.hold_expires_at is not None and seat.is_held_at(now)
            ),
            default=None,
        )
        if session_id not in self._seat_maps and len(self._seat_maps) >= SEAT_MAP_CACHE_SIZE:
            self._seat_maps.clear()  # atomic, unlike evicting one while other threads write
        self._seat_maps[session_id] = (seats, seat_map, now, until)
        return seat_map

    # -- reservations ---------------------------------------------------------------------

    def reserve(
        self,
        user_id: str,
        session_id: UUID,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
    ) -> Reservation:
        """Hold all the seats for ``hold``, or none (``SeatsUnavailable`` names the taken ones).

        ``tickets`` counts seats by ticket type (the rest are the session's first type); a type
        with a quota is never held or sold past it (``TicketQuotaExhausted``). In a session
        that forbids single gaps, a hold that would leave a seat alone in its row is refused
        (``SingleSeatGap``), judged on the rows as they stand at commit.
        """
        check_user_id(user_id)
        session = self._session(session_id)
        now = self.clock.now()
        reservation = Reservation.claim(
            id=self.new_id(),
            session=session,
            user_id=user_id,
            seats=seats,
            tickets=tickets or {},
            now=now,
            hold=self.hold,
        )
        labels = reservation.seats
        # The lock mirrors the hold and lapses with it, so later requests for these seats are
        # turned away before they reach the store. It only filters: the store decides.
        locked = self._lock(reservation)

        def work(tx: Transaction) -> Reservation:
            if session.forbid_single_gaps:
                held, at = self._take_judging_rows(tx, session, reservation)
            else:
                held = self._on_sale(tx, session, labels)
                at = self.clock.now()
                hold_seats(reservation.id, held, reservation.lines, reservation.expires_at, at)
            self._check_quotas(tx, session, reservation.tickets(), at)
            tx.save_seats(session.id, held)
            tx.add_reservation(reservation)
            tx.emit(events.reservation_created(self.new_id(), reservation, now))
            return reservation

        try:
            return self.repo.atomic(work)
        except BaseException:
            if locked:
                self._unlock(reservation)
            raise

    @staticmethod
    def _check_quotas(
        tx: Transaction, session: Session, wanted: Counter[str], now: datetime
    ) -> None:
        # After the seats: the quota lock is the last one a transaction takes, so it can never
        # be held by someone waiting for a seat (no deadlock), and types without a quota never
        # take it (no queue for full-price buyers).
        limited = with_quota(session.ticket_types, set(wanted))
        if limited:
            used = tx.quota_usage(session.id, limited, now)
            check_quotas(session.ticket_types, session.seat_count, wanted, used)

    def reservation(
        self, reservation_id: UUID, user_id: str, *, admin: bool = False
    ) -> Reservation:
        """The reservation as it is now (a lapsed pending one reads ``expired``)."""
        reservation = self.repo.get_reservation(reservation_id)
        if reservation is None or not (admin or reservation.user_id == user_id):
            raise ReservationNotFound()
        return reservation.as_of(self.clock.now())

    def cancel(self, reservation_id: UUID, user_id: str) -> Reservation:
        """Free the seats at once. Cancelling again answers the same; paid or lapsed refuses."""

        def work(tx: Transaction) -> tuple[Reservation, bool]:
            now = self.clock.now()
            reservation, seats = self._owned_with_seats(tx, reservation_id, user_id)
            if not reservation.cancel(seats, now):
                return reservation, False
            tx.save_seats(reservation.session_id, seats)
            tx.save_reservation(reservation)
            tx.emit(
                events.reservation_ended(
                    self.new_id(), events.RESERVATION_CANCELLED, reservation, now
                )
            )
            tx.emit(events.seat_released(self.new_id(), reservation, "cancelled", now))
            return reservation, True

        reservation, changed = self.repo.atomic(work)
        if changed:
            self._unlock(reservation)
        return reservation

    def pay(self, reservation_id: UUID, user_id: str) -> tuple[Sale, bool]:
        """Turn the hold into a sale. Returns the sale and whether it is new: paying again
        returns the first sale, never a second one. A hold is never paid once the session's
        sales closed (``SalesClosed``) or it was cancelled (``SessionCancelled``)."""

        def work(tx: Transaction) -> tuple[Sale, bool]:
            # The session's lock before the reservation's, in the one lock order (see
            # session_life), though the session is known only from the reservation.
            found = tx.lock_session_reservation_and_seats(reservation_id, self._session)
            if found is None or found[1].user_id != user_id:
                raise ReservationNotFound()
            session, reservation, seats = found
            now = self.clock.now()
            if (
                reservation.status is ReservationStatus.CONFIRMED
                and reservation.sale_id is not None
            ):
                sale = tx.get_sale(reservation.sale_id)
                if sale is not None:
                    return sale, False
            if reservation.status_at(now) is ReservationStatus.PENDING:
                session.check_on_sale(now, self.sales_close)
            sale = Sale(
                id=self.new_id(),
                reservation_id=reservation.id,
                session_id=reservation.session_id,
                user_id=reservation.user_id,
                lines=reservation.lines,
                paid_at=now,
            )
            reservation.confirm(sale.id, seats, now)
            tx.save_seats(reservation.session_id, seats)
            tx.save_reservation(reservation)
            tx.add_sale(sale)
            # The tickets are made with the sale: a paid seat always has its ticket.
            tx.add_tickets(issue_tickets(sale, self.new_id, self.new_code))
            tx.emit(events.payment_confirmed(self.new_id(), sale, now))
            return sale, True

        return self.repo.atomic(work)

    def sale(self, sale_id: UUID) -> Sale | None:
        return self.repo.get_sale(sale_id)

    def purchases(self, user_id: str, limit: int = 50, cursor: str | None = None) -> Page[Sale]:
        """The user's sales, newest first."""
        check_user_id(user_id)
        check_limit(limit)
        before = Cursor.decode(cursor) if cursor else None
        found = self.repo.purchases(user_id, before, limit + 1)
        page = found[:limit]
        more = Cursor(page[-1].paid_at, page[-1].id).encode() if len(found) > limit else None
        return Page(page, more)

    def expire_due(self, limit: int = 1000) -> int:
        """Record every lapsed hold as expired and publish its events; returns how many.

        Safe with any number of sweepers, in batches of up to ``EXPIRY_BATCH`` a transaction.
        """
        expired = 0
        while expired < limit:
            batch = min(EXPIRY_BATCH, limit - expired)
            done = self.repo.atomic(functools.partial(self._expire_batch, limit=batch))
            expired += done
            if done < batch:
                break
        return expired

    def _expire_batch(self, tx: Transaction, limit: int) -> int:
        # Why this cannot deadlock: lapsed reservations are taken with SKIP LOCKED (a sweeper
        # never waits on one), then their seats session by session in id order, each session's
        # in label order. Buyers wait only on seats of one session, in label order, and on a
        # reservation before its seats; so no wait can close a cycle with a sweeper.
        now = self.clock.now()
        due = tx.lock_lapsed(now, limit)
        by_session: dict[UUID, list[Reservation]] = {}
        for reservation in due:
            by_session.setdefault(reservation.session_id, []).append(reservation)
        for session_id in sorted(by_session):
            reservations = by_session[session_id]
            wanted = sorted({label for reservation in reservations for label in reservation.seats})
            seats = tx.lock_seats(session_id, wanted)
            by_label = {seat.label: seat for seat in seats}
            for reservation in reservations:
                own = [by_label[label] for label in reservation.seats if label in by_label]
                released = reservation.expire(own, now)
                tx.save_reservation(reservation)
                tx.emit(
                    events.reservation_ended(
                        self.new_id(), events.RESERVATION_EXPIRED, reservation, now
                    )
                )
                tx.emit(events.seat_released(self.new_id(), reservation, "expired", now, released))
            tx.save_seats(session_id, seats)
        return len(due)

    # -- helpers --------------------------------------------------------------------------

    def _on_sale(
        self,
        tx: Transaction,
        session: Session,
        labels: Sequence[SeatLabel],
        *,
        skip_locked: bool = False,
    ) -> list[Seat]:
        """The seats, locked after the session's row (the first locks of every hold; see
        session_life for why no purchase survives a cancellation), once the session as it
        stands is checked to be still on sale."""
        current, seats = tx.lock_session_and_seats(session, labels, skip_locked=skip_locked)
        current.check_on_sale(self.clock.now(), self.sales_close)
        return seats

    def _view(self, session: Session, available: int | None = None) -> SessionView:
        if available is None:
            counts = self.repo.available_counts([session.id], self.clock.now())
            available = counts.get(session.id, 0)
        return SessionView.at(session, available, self.clock.now(), self.sales_close)

    def _keep(self, session: Session) -> None:
        if len(self._sessions) >= SESSION_CACHE_SIZE:
            self._sessions.clear()
        self._sessions[session.id] = session

    def _session(self, session_id: UUID) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            session = self.repo.get_session(session_id)
            if session is None:
                raise SessionNotFound()
            self._keep(session)
        return session

    @staticmethod
    def _owned(tx: Transaction, reservation_id: UUID, user_id: str) -> Reservation:
        reservation = tx.lock_reservation(reservation_id)
        if reservation is None or reservation.user_id != user_id:
            raise ReservationNotFound()
        return reservation

    @staticmethod
    def _owned_with_seats(
        tx: Transaction, reservation_id: UUID, user_id: str
    ) -> tuple[Reservation, list[Seat]]:
        found = tx.lock_reservation_and_seats(reservation_id)
        if found is None or found[0].user_id != user_id:
            raise ReservationNotFound()
        return found

    def _lock(self, reservation: Reservation) -> bool:
        try:
            self.seat_lock.acquire(
                reservation.session_id,
                reservation.seats,
                str(reservation.id),
                self.hold.total_seconds(),
            )
        except BackendUnavailable as error:
            self.outages.failed("redis", error)
            return False
        self.outages.recovered("redis")
        return True

    def _unlock(self, reservation: Reservation) -> None:
        try:
            self.seat_lock.release(reservation.session_id, reservation.seats, str(reservation.id))
        except BackendUnavailable as error:
            # The lock lapses with the hold anyway; the store already freed the seats.
            self.outages.failed("redis", error)
