"""Reservations (a user's temporary claim on seats) and sales (what a paid claim becomes)."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from cinema_core.counter.till import CounterPayment
from cinema_core.errors import (
    CoupleSeatSplit,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    SeatsUnavailable,
    UnknownSeat,
    ValidationFailed,
)
from cinema_core.goods.products import ProductLine
from cinema_core.goods.promo_codes import Discount, DiscountLine
from cinema_core.kernel.money import Money
from cinema_core.rooms.seats import Seat, SeatLabel, SeatStatus
from cinema_core.selling.ticket_types import Line, assign_tickets, price_lines
from cinema_core.sessions.session import Session

MIN_SEATS_PER_RESERVATION = 1
MAX_SEATS_PER_RESERVATION = 10


class ReservationStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


def claim_labels(raw: list[str]) -> tuple[SeatLabel, ...]:
    """The seats a request asks for, checked and in canonical order (order does not matter)."""
    if not MIN_SEATS_PER_RESERVATION <= len(raw) <= MAX_SEATS_PER_RESERVATION:
        raise ValidationFailed(
            {"seats": f"must list {MIN_SEATS_PER_RESERVATION} to {MAX_SEATS_PER_RESERVATION} seats"}
        )
    try:
        labels = [SeatLabel.parse(text) for text in raw]
    except ValueError as error:
        raise ValidationFailed({"seats": str(error)}) from None
    if len(set(labels)) != len(labels):
        raise ValidationFailed({"seats": "must not repeat a seat"})
    return tuple(sorted(labels))


def priced_lines(
    session: Session, labels: tuple[SeatLabel, ...], tickets: Mapping[str, int]
) -> tuple[Line, ...]:
    """The lines of a claim on ``labels`` (checked, in canonical order) of ``session``: every
    seat must exist, a couple seat must come whole, and ``tickets`` counts seats by type."""
    unknown = [label for label in labels if not session.has_seat(label)]
    if unknown:
        raise UnknownSeat(unknown)
    wanted = set(labels)
    halves = [session.seat(label) for label in labels]
    missing = [seat.pair for seat in halves if seat and seat.pair and seat.pair not in wanted]
    if missing:
        raise CoupleSeatSplit(missing)
    codes = assign_tickets(labels, tickets, session.ticket_types)
    return price_lines(
        [seat for seat in halves if seat is not None], codes, session.prices, session.ticket_types
    )


@attrs.define
class Reservation:
    """A pending claim on 1–10 seats of one session, until ``expires_at``.

    The stored ``status`` may still say ``pending`` after the hold lapsed (no job has run yet);
    ``status_at(now)`` is what it really is, and every rule below goes by it.
    """

    id: UUID
    session_id: UUID
    user_id: str
    lines: tuple[Line, ...]
    created_at: datetime
    expires_at: datetime
    status: ReservationStatus = ReservationStatus.PENDING
    sale_id: UUID | None = None
    # What the claim carries beside its seats (see ``counter``): set by the unit of work that
    # holds the seats, which takes the stock and the promo code's use with them.
    products: tuple[ProductLine, ...] = ()
    discount: Discount | None = None

    @classmethod
    def claim(
        cls,
        *,
        id: UUID,
        session: Session,
        user_id: str,
        seats: Sequence[str],
        tickets: Mapping[str, int],
        now: datetime,
        hold: timedelta,
    ) -> Reservation:
        """A new pending claim on ``seats`` of ``session`` (the rules of a claim checked)."""
        lines = priced_lines(session, claim_labels(list(seats)), tickets)
        return cls(id, session.id, user_id, lines, now, now + hold)

    @property
    def seats(self) -> tuple[SeatLabel, ...]:
        return tuple([line.seat for line in self.lines])

    @property
    def subtotal(self) -> Money:
        """The seats and products, before the discount."""
        return subtotal(self.lines, self.products)

    @property
    def discount_amount(self) -> Money:
        return discounted(self.subtotal, self.discount)

    @property
    def discount_line(self) -> DiscountLine | None:
        return DiscountLine.of(self.discount, self.subtotal)

    @property
    def amount(self) -> Money:
        """What the claim costs: its seats and products, less its discount."""
        return self.subtotal - self.discount_amount

    def tickets(self) -> Counter[str]:
        """How many seats of each ticket type the claim covers."""
        return Counter(line.ticket for line in self.lines)

    def status_at(self, now: datetime) -> ReservationStatus:
        if self.status is ReservationStatus.PENDING and now >= self.expires_at:
            return ReservationStatus.EXPIRED
        return self.status

    def as_of(self, now: datetime) -> Reservation:
        """A copy whose stored status is the real one at ``now`` (what readers are shown)."""
        return attrs.evolve(self, status=self.status_at(now))

    def confirm(self, sale_id: UUID, seats: list[Seat], now: datetime) -> None:
        """Turn the hold into a sale; only a pending, unlapsed reservation that still holds
        every one of its seats may be paid."""
        self._require_pending(now)
        lost = [seat.label for seat in seats if not seat.is_held_by(self.id, now)]
        if lost or len(seats) != len(self.seats):
            # Another process saw the hold as lapsed (its clock ran ahead) and took a seat:
            # the reservation cannot be honoured, which for the buyer is a lapse.
            raise ReservationExpired(details={"seats": [str(label) for label in lost]})
        for seat in seats:
            seat.sell(sale_id)
        self.status = ReservationStatus.CONFIRMED
        self.sale_id = sale_id

    def confirm_late(self, sale_id: UUID, seats: list[Seat], now: datetime) -> None:
        """Sell the same seats to money that arrived after the hold lapsed: only while every
        one of them is still free (``ReservationExpired`` naming those gone otherwise)."""
        if self.status not in (ReservationStatus.PENDING, ReservationStatus.EXPIRED):
            self._require_pending(now)
        taken = [seat.label for seat in seats if seat.status_at(now) is not SeatStatus.AVAILABLE]
        if taken or len(seats) != len(self.seats):
            raise ReservationExpired(details={"seats": [str(label) for label in taken]})
        for seat in seats:
            seat.sell(sale_id)
        self.status = ReservationStatus.CONFIRMED
        self.sale_id = sale_id

    def hold_until(self, until: datetime, seats: list[Seat], now: datetime) -> bool:
        """Keep a pending hold (and its seats) until ``until`` if that is later than its own
        end (a payment was started and the buyer's bank needs time); says whether it moved."""
        self._require_pending(now)
        if until <= self.expires_at:
            return False
        tickets = {line.seat: line.ticket for line in self.lines}
        for seat in seats:
            if seat.is_held_by(self.id, now):
                seat.hold(self.id, until, tickets[seat.label])
        self.expires_at = until
        return True

    def cancel(self, seats: list[Seat], now: datetime) -> bool:
        """Free the seats at once; says whether anything changed (cancelling twice is fine)."""
        if self.status is ReservationStatus.CANCELLED:
            return False
        self._require_pending(now)
        for seat in seats:
            seat.release(self.id)
        self.status = ReservationStatus.CANCELLED
        return True

    def expire(self, seats: list[Seat], now: datetime) -> list[SeatLabel]:
        """Record the lapse and drop whatever holds are still this reservation's."""
        if self.status is not ReservationStatus.PENDING or now < self.expires_at:
            raise ValueError("only a lapsed pending reservation can be expired")
        self.status = ReservationStatus.EXPIRED
        return [seat.label for seat in seats if seat.release(self.id)]

    def change(
        self, lines: tuple[Line, ...], seats: Sequence[Seat], now: datetime
    ) -> tuple[list[SeatLabel], list[SeatLabel]]:
        """Make the hold cover exactly the seats of ``lines``, all or nothing, until the same
        ``expires_at`` (editing a hold never keeps it alive). ``seats`` are the locked seats,
        old and new. Returns the seats added and the seats given back, in label order."""
        self._require_pending(now)
        found = {seat.label: seat for seat in seats}
        lost = [
            label
            for label in self.seats
            if label not in found or not found[label].is_held_by(self.id, now)
        ]
        if lost:
            # As for a payment: another process saw the hold as lapsed and took a seat.
            raise ReservationExpired(details={"seats": [str(label) for label in lost]})
        old = set(self.seats)
        wanted = {line.seat for line in lines}
        added = sorted(wanted - old)
        removed = sorted(old - wanted)
        taken = [
            label
            for label in added
            if label not in found or found[label].status_at(now) is not SeatStatus.AVAILABLE
        ]
        if taken:
            raise SeatsUnavailable(taken)
        for label in removed:
            found[label].release(self.id)
        for line in lines:
            found[line.seat].hold(self.id, self.expires_at, line.ticket)
        self.lines = lines
        return added, removed

    def check_pending(self, now: datetime) -> None:
        """Refuse (paid, cancelled, lapsed) unless the hold is pending at ``now``."""
        self._require_pending(now)

    def _require_pending(self, now: datetime) -> None:
        status = self.status_at(now)
        if status is ReservationStatus.CONFIRMED:
            raise ReservationConfirmed()
        if status is ReservationStatus.CANCELLED:
            raise ReservationCancelled()
        if status is ReservationStatus.EXPIRED:
            raise ReservationExpired()


def hold_seats(
    reservation_id: UUID,
    seats: list[Seat],
    lines: Sequence[Line],
    until: datetime,
    now: datetime,
) -> None:
    """Hold every wanted seat for the reservation, each as its line's ticket type, or none: any
    seat held or sold (or not for sale, so not in the store) refuses all."""
    found = {seat.label: seat for seat in seats}
    taken = [seat.label for seat in seats if seat.status_at(now) is not SeatStatus.AVAILABLE]
    taken += [line.seat for line in lines if line.seat not in found]
    if taken:
        raise SeatsUnavailable(taken)
    for line in lines:
        found[line.seat].hold(reservation_id, until, line.ticket)


def total(lines: Sequence[Line]) -> Money:
    """What the lines cost together."""
    amount = lines[0].price
    for line in lines[1:]:
        amount = amount + line.price
    return amount


def subtotal(lines: Sequence[Line], products: Sequence[ProductLine]) -> Money:
    """What seats and products cost together, before any discount."""
    amount = total(lines)
    for line in products:
        amount = amount + line.amount
    return amount


def discounted(amount: Money, discount: Discount | None) -> Money:
    """What ``discount`` takes off ``amount`` (zero without one)."""
    return Money(0, amount.currency) if discount is None else discount.of(amount)


class SaleStatus(enum.StrEnum):
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


@attrs.frozen
class Sale:
    """The permanent record of a paid reservation: its lines stay as sold, and ``refunded``
    names the seats given back since (``cinema_core.after_sale.refunds``)."""

    id: UUID
    reservation_id: UUID
    session_id: UUID
    user_id: str
    lines: tuple[Line, ...]
    paid_at: datetime
    refunded: tuple[SeatLabel, ...] = ()
    products: tuple[ProductLine, ...] = ()
    discount: Discount | None = None
    # How it was paid at the counter (its shift, method, cash tendered); ``None`` online.
    counter: CounterPayment | None = None

    @classmethod
    def of(
        cls,
        id: UUID,
        reservation: Reservation,
        paid_at: datetime,
        counter: CounterPayment | None = None,
    ) -> Sale:
        """The sale of ``reservation``: its seats, products and discount as held, paid online
        or at the counter (``counter``)."""
        return cls(
            id=id,
            reservation_id=reservation.id,
            session_id=reservation.session_id,
            user_id=reservation.user_id,
            lines=reservation.lines,
            paid_at=paid_at,
            products=reservation.products,
            discount=reservation.discount,
            counter=counter,
        )

    @property
    def seats(self) -> tuple[SeatLabel, ...]:
        return tuple([line.seat for line in self.lines])

    @property
    def subtotal(self) -> Money:
        return subtotal(self.lines, self.products)

    @property
    def discount_amount(self) -> Money:
        return discounted(self.subtotal, self.discount)

    @property
    def discount_line(self) -> DiscountLine | None:
        return DiscountLine.of(self.discount, self.subtotal)

    @property
    def channel(self) -> str:
        """``counter`` for a sale made by staff at a till, ``online`` otherwise."""
        return "online" if self.counter is None else "counter"

    @property
    def change(self) -> Money | None:
        """The cash handed back at the counter (``None`` unless paid in cash)."""
        return None if self.counter is None else self.counter.change(self.amount)

    @property
    def amount(self) -> Money:
        """What was paid (refunds do not change it; ``refunded_amount`` says what went back)."""
        return self.subtotal - self.discount_amount

    @property
    def refunded_amount(self) -> Money:
        return self.refunded_for(self.refunded)

    def refunded_for(self, seats: Iterable[SeatLabel]) -> Money:
        """What refunding ``seats`` (in all) gives back: their seats' prices, never more than
        was paid; all of it once every seat is given back (the products and the discount
        are settled with the last seat), so the refunds of a sale add up to what it cost."""
        given_back = set(seats)
        if self.lines and given_back >= set(self.seats):
            return self.amount
        seats_part = sum_of([line for line in self.lines if line.seat in given_back], self.amount)
        return min(seats_part, self.amount)

    def refund_value(self, seats: Iterable[SeatLabel]) -> Money:
        """What a refund of ``seats`` gives back now, after the sale's earlier refunds."""
        after = self.refunded_for({*self.refunded, *seats})
        return after - self.refunded_amount

    def settles(self, seats: Iterable[SeatLabel]) -> bool:
        """Whether a refund of ``seats`` gives back the sale's last seats (and so its
        products' stock and its promo code's use)."""
        return set(self.seats) <= {*self.refunded, *seats}

    @property
    def status(self) -> SaleStatus:
        if not self.refunded:
            return SaleStatus.PAID
        if len(set(self.refunded)) < len(self.lines):
            return SaleStatus.PARTIALLY_REFUNDED
        return SaleStatus.REFUNDED

    def with_refunded(self, seats: Iterable[SeatLabel]) -> Sale:
        """This sale with ``seats`` given back as well (in label order)."""
        return attrs.evolve(self, refunded=tuple(sorted({*self.refunded, *seats})))


def sum_of(lines: Sequence[Line], like: Money) -> Money:
    """What the lines cost together; zero in ``like``'s currency when there are none."""
    return total(lines) if lines else Money(0, like.currency)
