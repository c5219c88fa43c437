"""The use cases of choosing seats: best available, the single-seat rule, changing a hold.

``BoxOffice`` takes them in as a base class, so that they read as its own methods while living
in a module of their own; each hold is one transaction against the store.

Lock order, the one every transaction keeps, so none can wait in a cycle: a reservation before
its seats (payment, cancellation, a change); a session's seats in label order, all in one
statement; a session's ticket quotas after its seats, last. A hold in a session that forbids
single gaps locks every seat of the rows it touches, not only its own, because the rule reads the
neighbours: those rows are a larger set of seats of the same session, locked in the same label
order in the same one statement, so the order stays global. Best available tries its candidates
with ``try_lock_seats`` (SKIP LOCKED), which never waits and so can never close a cycle; when it
must wait for someone else's seats, it does so in a transaction of its own, holding nothing yet.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from . import events
from .best_available import Choice, Wish, available_at, choices, suitable
from .clock import Clock
from .errors import (
    BackendUnavailable,
    NotEnoughSeats,
    ReservationNotFound,
    SeatsUnavailable,
    SingleSeatGap,
)
from .gaps import row_labels, stranded
from .outages import Outages
from .ports import ReservationRepo, SeatLock, Transaction
from .reservations import Reservation, claim_labels, hold_seats, priced_lines
from .seats import Seat, SeatLabel
from .sessions import Session
from .tickets import assign_tickets, check_quotas, with_quota

# A request that keeps meeting other buyers on its candidates tries at most this many of them
# without waiting; past that it waits its turn on each (it never refuses while seats are free).
SKIPPING_TRIES = 32
MAX_TRIES = 4 * SKIPPING_TRIES
# How many different candidates buyers who collided spread over, at most.
MAX_SPREAD = 64


@attrs.frozen
class _Missed:
    """A candidate that could not be held: seats the seat lock says someone else holds
    (``held``), seats another transaction had locked (``busy``), and the seats read under
    lock, as they stand now."""

    held: tuple[SeatLabel, ...] = ()
    busy: tuple[SeatLabel, ...] = ()
    seats: tuple[Seat, ...] = ()


def _pick(
    session: Session,
    available: set[SeatLabel],
    wish: Wish,
    avoid: set[SeatLabel],
    spread: int,
    claimed: set[SeatLabel],
) -> tuple[Choice | None, bool]:
    """A candidate, and whether to wait for its seats rather than skip them if taken."""
    busy = avoid | claimed if claimed else avoid
    found = choices(session, available, wish, avoid=busy, limit=spread)
    if not found and busy:
        # Every suitable seat known to be free is being taken by someone else at this instant:
        # wait for the best of them (that hold may yet fail) rather than refuse.
        found = choices(session, available, wish)
        return (found[0] if found else None), True
    # The first try takes the very best; buyers who collided spread over the next ones.
    return (found[random.randrange(len(found))] if found else None), False


class Claims:
    """The seats this process's best-available buyers are trying right now, and those they
    held lately, by session.

    A buyer chooses around the seats the others are trying and claims its pick in one step,
    so buyers of one process never pick the same seats; it also steers clear of the seats held
    here since it read its view, which that view cannot show. Buyers of other processes are
    met by the seat lock and SKIP LOCKED instead.
    """

    # Held seats are remembered this long: any view read since shows them.
    REMEMBER = 60.0
    # How long one read of a session's seats serves this process's buyers: what this process
    # held since is known here (above), what others held the seat lock and SKIP LOCKED show.
    # Under a sell-out this spares the store most reads; a refusal is never made on it.
    SHARE_VIEW = 0.1

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._trying: dict[UUID, set[SeatLabel]] = {}
        self._held: dict[UUID, dict[SeatLabel, float]] = {}
        self._views: dict[UUID, tuple[float, datetime, frozenset[SeatLabel]]] = {}

    def view(
        self,
        session_id: UUID,
        at: datetime,
        read: Callable[[], set[SeatLabel]],
        *,
        shared: bool = True,
    ) -> tuple[float, set[SeatLabel]]:
        """The seats available at ``at`` (the box office's clock), and when
        (``time.monotonic``) they were read: a read made for another buyer less than
        ``SHARE_VIEW`` ago, by both clocks, if ``shared``; else a new one."""
        now = time.monotonic()
        if shared:
            with self._mutex:
                found = self._views.get(session_id)
            if (
                found is not None
                and now - found[0] < self.SHARE_VIEW
                and timedelta(0) <= at - found[1] < timedelta(seconds=self.SHARE_VIEW)
            ):
                return found[0], set(found[2])
        available = read()
        with self._mutex:
            if len(self._views) > 64:
                self._views.clear()
            self._views[session_id] = (now, at, frozenset(available))
        return now, available

    def choose(
        self,
        session_id: UUID,
        since: float,
        pick: Callable[[set[SeatLabel]], tuple[Choice | None, bool]],
    ) -> tuple[Choice | None, bool]:
        """What ``pick(others)`` answers, given the seats others here are trying or have held
        since ``since`` (``time.monotonic``); its choice is claimed before anyone here can
        choose."""
        with self._mutex:
            trying = self._trying.setdefault(session_id, set())
            held = self._held.get(session_id, {})
            others = trying | {label for label, at in held.items() if at >= since}
            chosen, wait = pick(others)
            if chosen:
                trying.update(chosen)
            elif not trying:
                del self._trying[session_id]
            return chosen, wait

    def release(self, session_id: UUID, seats: Choice, *, held: bool) -> None:
        """The try of ``seats`` is over; ``held``: they are this process's hold now."""
        now = time.monotonic()
        old = now - self.REMEMBER
        with self._mutex:
            trying = self._trying.get(session_id)
            if trying is not None:
                trying.difference_update(seats)
                if not trying:
                    del self._trying[session_id]
            if held:
                recent = self._held.setdefault(session_id, {})
                recent.update(dict.fromkeys(seats, now))
                if len(recent) > 256 and min(recent.values()) < old:
                    self._held[session_id] = {k: at for k, at in recent.items() if at >= old}
            if len(self._held) > 64:
                # Sessions nobody here has held a seat of lately: forgotten.
                self._held = {
                    id: recent for id, recent in self._held.items() if max(recent.values()) >= old
                }


class _Unclaimed(Claims):
    def choose(
        self,
        session_id: UUID,
        since: float,
        pick: Callable[[set[SeatLabel]], tuple[Choice | None, bool]],
    ) -> tuple[Choice | None, bool]:
        return pick(set())

    def release(self, session_id: UUID, seats: Choice, *, held: bool) -> None:
        return None


_NO_CLAIMS = _Unclaimed()


class ChoosingSeats:
    """Best available, the single-seat rule on every hold, changing a hold."""

    repo: ReservationRepo
    seat_lock: SeatLock
    clock: Clock
    hold: timedelta
    outages: Outages
    new_id: Callable[[], UUID]
    # TEST-ONLY guard switches (BoxOffice's fields): never turn them off anywhere else.
    retry_best: bool
    lock_gap_rows: bool
    _claims: Claims

    def _session(self, session_id: UUID) -> Session:
        raise NotImplementedError  # BoxOffice's

    sales_close: timedelta

    def _on_sale(
        self,
        tx: Transaction,
        session: Session,
        labels: Sequence[SeatLabel],
        *,
        skip_locked: bool = False,
    ) -> list[Seat]:
        raise NotImplementedError  # BoxOffice's

    # -- best available -------------------------------------------------------------------

    def reserve_best(
        self,
        user_id: str,
        session_id: UUID,
        count: int,
        *,
        category: str | None = None,
        together: bool = True,
        tickets: Mapping[str, int] | None = None,
    ) -> Reservation:
        """Hold the best ``count`` seats for sale (``best_available`` says which are best).

        ``NotEnoughSeats`` only when no suitable seats are free: the choice is made on the
        store's current view, then tried under SKIP LOCKED, so buyers asking at once take
        different seats, and a candidate someone else got first sends the request on to its
        next best, never to a refusal while suitable seats remain.
        """
        session = self._session(session_id)
        wish = Wish.checked(count, category, together)
        tickets = dict(tickets or {})
        # The ticket counts are checked before any seat is tried (422 rather than 409).
        assign_tickets(
            [SeatLabel("A", n) for n in range(1, count + 1)], tickets, session.ticket_types
        )
        reservation_id = self.new_id()
        read_at = time.monotonic()
        available: set[SeatLabel] | None = None
        fresh = False  # whether ``available`` was read, by this request, after the last try
        refusing = False
        avoid: set[SeatLabel] = set()
        spread = 1

        def read() -> set[SeatLabel]:
            return available_at(self.repo.seats(session.id), self.clock.now())

        for tries in range(MAX_TRIES):
            if available is None:
                # A view shared with this process's other buyers, but a read of its own once
                # the request is about to refuse (``fresh``).
                read_at, available = self._claims.view(
                    session.id, self.clock.now(), read, shared=not refusing
                )
                fresh = refusing
            if spread > 1:
                # This request met buyers of other processes: ask the seat lock which of its
                # candidates are being held right now, anywhere, and choose among the others.
                found = choices(session, available, wish, avoid=avoid, limit=spread)
                held = self._held(session.id, sorted({x for choice in found for x in choice}))
                available.difference_update(held)
            choose = functools.partial(_pick, session, available, wish, avoid, spread)
            # (The control run's naive box office does not coordinate its buyers either.)
            claims = self._claims if self.retry_best else _NO_CLAIMS
            pick, waits = claims.choose(session.id, read_at, choose)
            wait = waits or tries >= SKIPPING_TRIES
            if pick is None:
                if not fresh:
                    available = None
                    refusing = True
                    continue
                raise NotEnoughSeats(suitable(session.room, available, wish))
            outcome: Reservation | _Missed = _Missed()
            try:
                outcome = self._try(session, user_id, reservation_id, pick, tickets, wait)
            finally:
                claims.release(session.id, pick, held=isinstance(outcome, Reservation))
            if isinstance(outcome, Reservation):
                return outcome
            fresh = False
            if wait:
                avoid.clear()
            # The seat lock mirrors holds: what it refuses is held, as far as this request goes
            # (a fresh view is read before any refusal, and past SKIPPING_TRIES the store alone
            # decides, so a lock left over never turns a buyer away).
            available.difference_update(outcome.held)
            avoid.update(outcome.busy)
            now = self.clock.now()
            for seat in outcome.seats:
                if seat.is_held_at(now) or seat.sale_id is not None:
                    # Someone committed a hold since the view was read: it is stale, read it
                    # again rather than try more candidates from it.
                    available = None
                    break
                available.add(seat.label)
            spread = min(2 * spread, MAX_SPREAD)
            if not self.retry_best:
                # The control run's naive box office: one choice, and a refusal if it is gone.
                if available is None:
                    available = available_at(self.repo.seats(session.id), self.clock.now())
                raise NotEnoughSeats(suitable(session.room, available, wish))
        available = available_at(self.repo.seats(session.id), self.clock.now())
        raise NotEnoughSeats(suitable(session.room, available, wish))

    def _try(
        self,
        session: Session,
        user_id: str,
        reservation_id: UUID,
        pick: Choice,
        tickets: Mapping[str, int],
        wait: bool,
    ) -> Reservation | _Missed:
        """Try to hold one candidate: the reservation, or why not (a refusal the buyer must
        hear, such as a quota, raises)."""
        now = self.clock.now()
        reservation = Reservation(
            reservation_id,
            session.id,
            user_id,
            priced_lines(session, pick, tickets),
            now,
            now + self.hold,
        )
        ttl = self.hold.total_seconds()
        try:
            locked = self._filter(session.id, pick, reservation_id, ttl)
        except SeatsUnavailable as refused:
            if not wait:
                # Held, or being held, by someone else (the lock mirrors holds): next one.
                return _Missed(held=tuple(SeatLabel.parse(label) for label in refused.seats))
            locked = False  # the store decides; the lock only filters

        def work(tx: Transaction) -> Reservation | _Missed:
            labels = reservation.seats
            gaps = session.forbid_single_gaps
            # With the single-seat rule, the candidate's whole rows (see the module's doc).
            wanted = row_labels(session.room, {label.row for label in labels}) if gaps else labels
            seats = self._on_sale(tx, session, wanted, skip_locked=not wait)
            at = self.clock.now()
            got = {seat.label for seat in seats}
            busy = [label for label in wanted if label not in got]
            if busy:
                # A row being changed by someone else cannot be judged yet: avoid all of it.
                return _Missed(busy=tuple(wanted if gaps else busy), seats=tuple(seats))
            free = available_at(seats, at)
            if any(label not in free for label in labels) or (
                gaps and stranded(session.room, free, labels)
            ):
                return _Missed(seats=tuple(seats))
            own = set(labels)
            mine = [seat for seat in seats if seat.label in own]
            hold_seats(reservation.id, mine, reservation.lines, reservation.expires_at, at)
            self._check_quotas(tx, session, reservation.tickets(), at)
            tx.save_seats(session.id, mine)
            tx.add_reservation(reservation)
            tx.emit(events.reservation_created(self.new_id(), reservation, now))
            return reservation

        try:
            outcome = self.repo.atomic(work)
        except BaseException:
            if locked:
                self._unfilter(session.id, pick, reservation_id)
            raise
        if locked and isinstance(outcome, _Missed):
            self._unfilter(session.id, pick, reservation_id)
        return outcome

    # -- the single-seat rule on hand-picked seats ----------------------------------------

    def _take_judging_rows(
        self, tx: Transaction, session: Session, reservation: Reservation
    ) -> tuple[list[Seat], datetime]:
        """Lock and hold the reservation's seats (``reserve``'s unit of work in a session that
        forbids single gaps), judging the rule on the rows as they stand at commit. Returns the
        seats to save and the instant they were judged at."""
        labels = reservation.seats
        if not self.lock_gap_rows:
            # The control run's naive rule: judged on rows read before the seats are locked,
            # and only the hold's own seats locked, so two holds can strand a seat together.
            free = available_at(self.repo.seats(session.id), self.clock.now())
            held = self._on_sale(tx, session, labels)
        else:
            rows = self._on_sale(tx, session, row_labels(session.room, {x.row for x in labels}))
            free = available_at(rows, self.clock.now())
            own = set(labels)
            held = [seat for seat in rows if seat.label in own]
        at = self.clock.now()
        hold_seats(reservation.id, held, reservation.lines, reservation.expires_at, at)
        gap = stranded(session.room, free, labels)
        if gap:
            raise SingleSeatGap(gap)
        return held, at

    # -- changing a hold ------------------------------------------------------------------

    def change(
        self,
        reservation_id: UUID,
        user_id: str,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
    ) -> Reservation:
        """Make a pending hold cover exactly ``seats`` (with ``tickets`` as for ``reserve``),
        all or nothing: the seats dropped are free at once, ``expires_at`` does not move, and
        every rule of a new hold (seats, couples, quotas, single gaps) applies to the result.
        """
        labels = claim_labels(list(seats))
        stored = self.repo.get_reservation(reservation_id)
        if stored is None or stored.user_id != user_id:
            raise ReservationNotFound()
        session = self._session(stored.session_id)
        lines = priced_lines(session, labels, dict(tickets or {}))
        # The seat lock filters the seats to add, as for a new hold, and lapses with the hold.
        adding = sorted(set(labels) - set(stored.seats))
        left = (stored.expires_at - self.clock.now()).total_seconds()
        locked = (
            bool(adding) and left > 0 and self._filter(session.id, adding, reservation_id, left)
        )

        def work(tx: Transaction) -> tuple[Reservation, list[SeatLabel]]:
            # The session's lock first (see session_life); the seats are locked after the
            # reservation, all at once.
            tx.lock_session(session).check_on_sale(self.clock.now(), self.sales_close)
            reservation = self._owned(tx, reservation_id, user_id)
            before = reservation.tickets()
            both = set(reservation.seats) | set(labels)
            touched = sorted(both)
            gaps = session.forbid_single_gaps
            wanted = row_labels(session.room, {label.row for label in touched}) if gaps else touched
            rows = tx.lock_seats(session.id, wanted)
            at = self.clock.now()
            free = available_at(rows, at)
            mine = [seat for seat in rows if seat.label in both]
            old_lines = reservation.lines
            added, removed = reservation.change(lines, mine, at)
            if gaps:
                gap = stranded(session.room, free, added, removed)
                if gap:
                    raise SingleSeatGap(gap)
            self._check_change_quotas(tx, session, before, reservation.tickets(), at)
            if reservation.lines == old_lines:
                return reservation, []
            tx.save_seats(session.id, mine)
            tx.save_reservation(reservation)
            tx.emit(events.reservation_changed(self.new_id(), reservation, added, removed, at))
            if removed:
                tx.emit(events.seat_released(self.new_id(), reservation, "changed", at, removed))
            return reservation, removed

        try:
            changed, removed = self.repo.atomic(work)
        except BaseException:
            if locked:
                self._unfilter(session.id, adding, reservation_id)
            raise
        if removed:
            self._unfilter(session.id, removed, reservation_id)
        return changed.as_of(self.clock.now())

    def _filter(
        self, session_id: UUID, labels: Sequence[SeatLabel], owner: UUID, ttl: float
    ) -> bool:
        """Take the seat lock (the fast filter in front of the store) for ``ttl`` seconds;
        whether it was taken (not when the lock service is down: the store still judges)."""
        try:
            self.seat_lock.acquire(session_id, labels, str(owner), ttl)
        except BackendUnavailable as error:
            self.outages.failed("redis", error)
            return False
        self.outages.recovered("redis")
        return True

    def _held(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        """The seats the seat lock has locked now (none known when it is down)."""
        try:
            return self.seat_lock.locked(session_id, labels)
        except BackendUnavailable as error:
            self.outages.failed("redis", error)
            return set()

    def _unfilter(self, session_id: UUID, labels: Sequence[SeatLabel], owner: UUID) -> None:
        try:
            self.seat_lock.release(session_id, labels, str(owner))
        except BackendUnavailable as error:
            # The lock lapses with the hold anyway; the store is what decides.
            self.outages.failed("redis", error)

    @staticmethod
    def _check_change_quotas(
        tx: Transaction,
        session: Session,
        before: Counter[str],
        after: Counter[str],
        now: datetime,
    ) -> None:
        # Only types the change takes more of need the quota lock (the last lock, as always);
        # the hold's own seats of a type are counted once: they are still held as before.
        more = {code for code, count in after.items() if count > before.get(code, 0)}
        limited = with_quota(session.ticket_types, more)
        if limited:
            used = tx.quota_usage(session.id, limited, now)
            others = {code: used.get(code, 0) - before.get(code, 0) for code in limited}
            check_quotas(
                session.ticket_types,
                session.seat_count,
                Counter({c: after[c] for c in limited}),
                others,
            )

    @staticmethod
    def _check_quotas(
        tx: Transaction, session: Session, wanted: Counter[str], now: datetime
    ) -> None:
        raise NotImplementedError  # BoxOffice's

    @staticmethod
    def _owned(tx: Transaction, reservation_id: UUID, user_id: str) -> Reservation:
        raise NotImplementedError  # BoxOffice's
