"""Best available as a use case: the best seats for sale tried one candidate after another.

``best_available`` says which seats are best; this module holds them against buyers asking at
once. A request chooses on the store's current view, around the seats this process's other
buyers are trying (``Claims``), then tries its candidate under SKIP LOCKED (``try_lock_seats``),
which never waits and so can never close a cycle of waits; a candidate someone else got first
sends it on to its next best, never to a refusal while suitable seats remain. When it must wait
for someone else's seats, it does so in a transaction of its own, holding nothing yet. In a
session that forbids single gaps a candidate's whole rows are locked, as for any hold (see
``holds``).
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from cinema_core.errors import NotEnoughSeats, SeatsUnavailable
from cinema_core.goods.extras import NO_EXTRAS, Extras
from cinema_core.ports import Transaction
from cinema_core.rooms.seats import Seat, SeatLabel
from cinema_core.selling.best_available import Choice, Wish, available_at, choices, suitable
from cinema_core.selling.gaps import row_labels, stranded
from cinema_core.selling.holding import Holding, HoldStep
from cinema_core.selling.reservations import Reservation, hold_seats, priced_lines
from cinema_core.selling.ticket_types import assign_tickets
from cinema_core.sessions.session import Session

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


@attrs.define
class BestAvailable:
    """Holds the best seats for sale, however many buyers ask at once."""

    holding: Holding
    # The seats this process's best-available buyers are trying right now (see Claims).
    claims: Claims = attrs.field(factory=Claims)

    def reserve_best(
        self,
        user_id: str,
        session_id: UUID,
        count: int,
        *,
        category: str | None = None,
        together: bool = True,
        tickets: Mapping[str, int] | None = None,
        extras: Extras = NO_EXTRAS,
        then: HoldStep | None = None,
    ) -> Reservation:
        """Hold the best ``count`` seats for sale (``best_available`` says which are best),
        with ``extras`` as ``Holds.reserve`` takes them; ``then`` runs in the hold's unit of
        work once it is made (see ``HoldStep``).

        ``NotEnoughSeats`` only when no suitable seats are free: the choice is made on the
        store's current view, then tried under SKIP LOCKED, so buyers asking at once take
        different seats, and a candidate someone else got first sends the request on to its
        next best, never to a refusal while suitable seats remain.
        """
        session = self.holding.session(session_id)
        wish = Wish.checked(count, category, together)
        tickets = dict(tickets or {})
        # The ticket counts are checked before any seat is tried (422 rather than 409).
        assign_tickets(
            [SeatLabel("A", n) for n in range(1, count + 1)], tickets, session.ticket_types
        )
        reservation_id = self.holding.new_id()
        read_at = time.monotonic()
        available: set[SeatLabel] | None = None
        fresh = False  # whether ``available`` was read, by this request, after the last try
        refusing = False
        avoid: set[SeatLabel] = set()
        spread = 1

        def read() -> set[SeatLabel]:
            return available_at(self.holding.repo.seats(session.id), self.holding.clock.now())

        for tries in range(MAX_TRIES):
            if available is None:
                # A view shared with this process's other buyers, but a read of its own once
                # the request is about to refuse (``fresh``).
                read_at, available = self.claims.view(
                    session.id, self.holding.clock.now(), read, shared=not refusing
                )
                fresh = refusing
            if spread > 1:
                # This request met buyers of other processes: ask the seat lock which of its
                # candidates are being held right now, anywhere, and choose among the others.
                found = choices(session, available, wish, avoid=avoid, limit=spread)
                held = self.holding.locked(
                    session.id, sorted({x for choice in found for x in choice})
                )
                available.difference_update(held)
            choose = functools.partial(_pick, session, available, wish, avoid, spread)
            pick, waits = self.claims.choose(session.id, read_at, choose)
            wait = waits or tries >= SKIPPING_TRIES
            if pick is None:
                if not fresh:
                    available = None
                    refusing = True
                    continue
                raise NotEnoughSeats(suitable(session.room, available, wish))
            outcome: Reservation | _Missed = _Missed()
            try:
                outcome = self.attempt(
                    session, user_id, reservation_id, pick, tickets, wait, extras, then
                )
            finally:
                self.claims.release(session.id, pick, held=isinstance(outcome, Reservation))
            if isinstance(outcome, Reservation):
                self.holding.metrics.held(len(outcome.seats))
                return outcome
            fresh = False
            if wait:
                avoid.clear()
            # The seat lock mirrors holds: what it refuses is held, as far as this request goes
            # (a fresh view is read before any refusal, and past SKIPPING_TRIES the store alone
            # decides, so a lock left over never turns a buyer away).
            available.difference_update(outcome.held)
            avoid.update(outcome.busy)
            now = self.holding.clock.now()
            for seat in outcome.seats:
                if seat.is_held_at(now) or seat.sale_id is not None:
                    # Someone committed a hold since the view was read: it is stale, read it
                    # again rather than try more candidates from it.
                    available = None
                    break
                available.add(seat.label)
            spread = min(2 * spread, MAX_SPREAD)
        available = available_at(self.holding.repo.seats(session.id), self.holding.clock.now())
        raise NotEnoughSeats(suitable(session.room, available, wish))

    def attempt(
        self,
        session: Session,
        user_id: str,
        reservation_id: UUID,
        pick: Choice,
        tickets: Mapping[str, int],
        wait: bool,
        extras: Extras = NO_EXTRAS,
        then: HoldStep | None = None,
    ) -> Reservation | _Missed:
        """Try to hold one candidate: the reservation, or why not (a refusal the buyer must
        hear, such as a quota, raises)."""
        now = self.holding.clock.now()
        reservation = Reservation(
            reservation_id,
            session.id,
            user_id,
            priced_lines(session, pick, tickets),
            now,
            now + self.holding.hold,
        )
        try:
            self.holding.lock(session.id, pick, reservation_id)
            locked = True
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
            seats = self.holding.on_sale(tx, session, wanted, skip_locked=not wait)
            at = self.holding.clock.now()
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
            return self.holding.commit_hold(tx, session, reservation, mine, at, extras, then)

        return self.holding.behind_lock(
            session.id,
            pick,
            reservation_id,
            work,
            locked=locked,
            missed=lambda outcome: isinstance(outcome, _Missed),
        )
