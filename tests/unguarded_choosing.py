"""TEST-ONLY: the box office's guards of choosing seats switched off, for race tests' control runs.

Each variant is a subclass of the production use case with one guard taken out, composed into a
box office of the same configuration in place of the guarded one (``without_retry``,
``without_gap_rows``). The guarded runs use the production classes, so control and guarded runs
differ only in the guard. Never used outside those control runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

import attrs

from cinema_core import BoxOffice, NotEnoughSeats, Reservation, Session, SingleSeatGap
from cinema_core.counter.use_cases import Counter
from cinema_core.goods.extras import NO_EXTRAS, Extras
from cinema_core.ports import Transaction
from cinema_core.rooms.seats import Seat
from cinema_core.selling.best_available import Wish, available_at, choices, suitable
from cinema_core.selling.choosing import BestAvailable
from cinema_core.selling.gaps import stranded
from cinema_core.selling.holds import Holds
from cinema_core.selling.reservations import hold_seats
from cinema_core.waiting.use_cases import WaitingRooms


class NaiveBestAvailable(BestAvailable):
    """Best available without retry or claims: each buyer tries its first choice, on a view of
    its own, and is refused if someone else got it first."""

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
    ) -> Reservation:
        holding = self.holding
        session = holding.session(session_id)
        wish = Wish.checked(count, category, together)
        available = available_at(holding.repo.seats(session.id), holding.clock.now())
        found = choices(session, available, wish)
        if found:
            outcome = self.attempt(
                session, user_id, holding.new_id(), found[0], dict(tickets or {}), False, extras
            )
            if isinstance(outcome, Reservation):
                return outcome
        available = available_at(holding.repo.seats(session.id), holding.clock.now())
        raise NotEnoughSeats(suitable(session.room, available, wish))


class NaiveGapRows(Holds):
    """The single-seat rule judged on rows read before the seats are locked, and only the
    hold's own seats locked, so that two holds can strand a seat together."""

    def _take_judging_rows(
        self, tx: Transaction, session: Session, reservation: Reservation
    ) -> tuple[list[Seat], datetime]:
        holding = self.holding
        labels = reservation.seats
        free = available_at(holding.repo.seats(session.id), holding.clock.now())
        held = holding.on_sale(tx, session, labels)
        at = holding.clock.now()
        hold_seats(reservation.id, held, reservation.lines, reservation.expires_at, at)
        gap = stranded(session.room, free, labels)
        if gap:
            raise SingleSeatGap(gap)
        return held, at


@attrs.frozen
class _WithoutRetry(BoxOffice):
    best: BestAvailable = attrs.field(init=False, repr=False)

    @best.default
    def _naive_best(self) -> BestAvailable:
        return NaiveBestAvailable(self.holding)

    # Declared again after ``best`` (attrs orders a redeclared field last), so it is built on it.
    counter: Counter = attrs.field(init=False, repr=False)

    @counter.default
    def _counter(self) -> Counter:
        return Counter(self.holding, self.holds, self.best)


@attrs.frozen
class _WithoutGapRows(BoxOffice):
    holds: Holds = attrs.field(init=False, repr=False)

    @holds.default
    def _naive_holds(self) -> Holds:
        return NaiveGapRows(self.holding, self.new_code)

    counter: Counter = attrs.field(init=False, repr=False)

    @counter.default
    def _counter(self) -> Counter:
        return Counter(self.holding, self.holds, self.best)

    # After holds too: the waiting rooms hold for buyers with no admission.
    waiting: WaitingRooms = attrs.field(init=False, repr=False)

    @waiting.default
    def _waiting_rooms(self) -> WaitingRooms:
        return BoxOffice._waiting(self)


def _like(kind: type[BoxOffice], box: BoxOffice) -> BoxOffice:
    """A box office of ``kind`` configured as ``box`` (same store, seat lock, clock, hold …)."""
    fields = attrs.fields(BoxOffice)
    return kind(**{field.name: getattr(box, field.name) for field in fields if field.init})


def without_retry(box: BoxOffice) -> BoxOffice:
    """A box office like ``box`` with ``NaiveBestAvailable`` for best available."""
    return _like(_WithoutRetry, box)


def without_gap_rows(box: BoxOffice) -> BoxOffice:
    """A box office like ``box`` with ``NaiveGapRows`` for holds of named seats."""
    return _like(_WithoutGapRows, box)
