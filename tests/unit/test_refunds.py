"""Refunds: who may give seats back until when, all or nothing, and the seats for sale at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import attrs
import pytest

from cinema_core import (
    AlreadyRefunded,
    BoxOffice,
    Category,
    CoupleSeatSplit,
    ManualClock,
    Money,
    RefundWindowClosed,
    Sale,
    SaleNotFound,
    SaleStatus,
    SeatLabel,
    SessionView,
    TicketUsed,
    UnknownSeat,
    ValidationFailed,
)
from cinema_core.errors import TicketQuotaExhausted
from tests.unit.conftest import new_session


def buy(
    box: BoxOffice,
    session: SessionView,
    seats: Sequence[str],
    user: str = "u1",
    tickets: dict[str, int] | None = None,
) -> Sale:
    reservation = box.reserve(user, session.session.id, seats, tickets)
    return box.pay(reservation.id, user)[0]


def status_of(box: BoxOffice, session: SessionView, label: str) -> str:
    return str(box.seat_map(session.session.id).status(SeatLabel.parse(label)))


def test_a_refunded_seat_is_for_sale_again_at_once(box: BoxOffice, session: SessionView) -> None:
    """Refunding A1 makes it available, and another buyer can buy it."""
    sale = buy(box, session, ["A1", "A2"])
    refund = box.refund(sale.id, "u1", ["A1"])
    assert refund.seats == (SeatLabel("A", 1),)
    assert refund.amount == Money(2500)
    assert refund.user_id == "u1"
    assert status_of(box, session, "A1") == "available"
    assert status_of(box, session, "A2") == "sold"
    assert box.session(session.session.id).available == 15
    again = buy(box, session, ["A1"], user="u2")
    assert again.seats == (SeatLabel("A", 1),)
    assert status_of(box, session, "A1") == "sold"


def test_the_sale_says_what_was_refunded(box: BoxOffice, session: SessionView) -> None:
    """paid → partially_refunded → refunded, with the refunded seats and amount."""
    sale = buy(box, session, ["A1", "A2", "A3"])
    assert (sale.status, sale.refunded, str(sale.refunded_amount)) == (SaleStatus.PAID, (), "0.00")
    box.refund(sale.id, "u1", ["A2"])
    read = box.owned_sale(sale.id, "u1")
    assert read.status is SaleStatus.PARTIALLY_REFUNDED
    assert read.refunded == (SeatLabel("A", 2),)
    assert read.refunded_amount == Money(2500)
    assert read.amount == Money(7500)  # what was paid stays what was paid
    box.refund(sale.id, "u1")
    read = box.owned_sale(sale.id, "u1")
    assert read.status is SaleStatus.REFUNDED
    assert [str(label) for label in read.refunded] == ["A1", "A2", "A3"]
    assert read.refunded_amount == Money(7500)


def test_no_seats_named_refunds_every_seat_not_yet_refunded(
    box: BoxOffice, session: SessionView
) -> None:
    """Without seats, a refund covers the rest of the sale; with none left it is refused."""
    sale = buy(box, session, ["B1", "B2", "B3"])
    box.refund(sale.id, "u1", ["B1"])
    rest = box.refund(sale.id, "u1")
    assert [str(label) for label in rest.seats] == ["B2", "B3"]
    assert rest.amount == Money(5000)
    with pytest.raises(AlreadyRefunded) as refused:
        box.refund(sale.id, "u1")
    assert refused.value.seats == ["B1", "B2", "B3"]


def test_a_refund_is_all_or_nothing(box: BoxOffice, session: SessionView) -> None:
    """One seat already refunded refuses the whole refund, naming it; nothing changes."""
    sale = buy(box, session, ["A1", "A2"])
    box.refund(sale.id, "u1", ["A1"])
    with pytest.raises(AlreadyRefunded) as refused:
        box.refund(sale.id, "u1", ["A1", "A2"])
    assert refused.value.code == "already_refunded"
    assert refused.value.details == {"seats": ["A1"]}
    assert status_of(box, session, "A2") == "sold"
    assert box.owned_sale(sale.id, "u1").refunded == (SeatLabel("A", 1),)


def test_a_seat_not_in_the_sale_is_unknown(box: BoxOffice, session: SessionView) -> None:
    """A seat of the session but not of the sale: 422 unknown_seat naming it."""
    sale = buy(box, session, ["A1"])
    with pytest.raises(UnknownSeat) as refused:
        box.refund(sale.id, "u1", ["A1", "C3"])
    assert refused.value.seats == ["C3"]
    with pytest.raises(ValidationFailed):
        box.refund(sale.id, "u1", ["not a seat"])
    assert status_of(box, session, "A1") == "sold"


def test_a_checked_in_seat_cannot_be_refunded(box: BoxOffice, session: SessionView) -> None:
    """Once its ticket was scanned at the door, a seat is ticket_used and nothing is refunded."""
    sale = buy(box, session, ["A1", "A2"])
    a1 = box.tickets(sale.id, "u1")[0]
    box.check_in(a1.code)
    with pytest.raises(TicketUsed) as refused:
        box.refund(sale.id, "u1")
    assert refused.value.seats == ["A1"]
    assert box.owned_sale(sale.id, "u1").refunded == ()
    assert box.refund(sale.id, "u1", ["A2"]).seats == (SeatLabel("A", 2),)


def test_only_the_buyer_or_an_admin_may_refund(box: BoxOffice, session: SessionView) -> None:
    """Another user's sale does not exist for them."""
    sale = buy(box, session, ["A1", "A2"])
    with pytest.raises(SaleNotFound):
        box.refund(sale.id, "u2", ["A1"])
    refund = box.refund(sale.id, "root", ["A1"], admin=True)
    assert refund.user_id == "u1"
    assert refund.by == "root"


def test_the_buyer_may_refund_until_the_cutoff_an_admin_until_the_end(
    box: BoxOffice, clock: ManualClock
) -> None:
    """Buyers: strictly before starts_at − cutoff; admins: strictly before ends_at."""
    session = new_session(box, days=1)
    starts = session.session.starts_at
    sale = buy(box, session, ["A1", "A2", "A3"])
    clock.set(starts - box.refund_cutoff - timedelta(seconds=1))
    box.refund(sale.id, "u1", ["A1"])
    clock.set(starts - box.refund_cutoff)
    with pytest.raises(RefundWindowClosed) as refused:
        box.refund(sale.id, "u1", ["A2"])
    assert refused.value.code == "refund_window_closed"
    clock.set(session.session.ends_at - timedelta(seconds=1))
    box.refund(sale.id, "root", ["A2"], admin=True)
    clock.set(session.session.ends_at)
    with pytest.raises(RefundWindowClosed):
        box.refund(sale.id, "root", ["A3"], admin=True)


def test_the_cutoff_is_the_box_offices_setting(box: BoxOffice, clock: ManualClock) -> None:
    """With a cutoff of 10 minutes, a buyer may refund 11 minutes before the start."""
    session = new_session(box, days=1)
    sale = buy(box, session, ["A1"])
    box = attrs.evolve(box, refund_cutoff=timedelta(minutes=10))
    clock.set(session.session.starts_at - timedelta(minutes=11))
    assert box.refund(sale.id, "u1").seats == (SeatLabel("A", 1),)


def test_half_a_couple_seat_is_refunded_only_with_its_other_half(box: BoxOffice) -> None:
    """D1 of the couple seat D1+D2 alone is couple_seat_split; the two together are fine."""
    room = box.create_room(cinema="Centro", name="Sala 1", layout=["ssss"] * 3 + ["ccss"])
    view = box.create_session(
        movie="Filme X",
        room_id=room.id,
        starts_at=box.clock.now() + timedelta(days=1),
        prices={Category.STANDARD: Money(2500), Category.COUPLE: Money(3000)},
    )
    sale = buy(box, view, ["D1", "D2", "D3"])
    with pytest.raises(CoupleSeatSplit) as refused:
        box.refund(sale.id, "u1", ["D1"])
    assert refused.value.seats == ["D2"]
    assert box.refund(sale.id, "u1", ["D3"]).amount == Money(2500)
    assert box.refund(sale.id, "u1", ["D2", "D1"]).amount == Money(6000)


def test_a_refunded_half_price_seat_frees_its_quota(box: BoxOffice) -> None:
    """The half-price quota counts sold seats minus refunded ones."""
    session = new_session(box)  # 16 seats: 40 % is 6 at half price
    labels = [f"A{n}" for n in range(1, 5)] + ["B1", "B2"]
    sale = buy(box, session, labels, tickets={"half": 6})
    with pytest.raises(TicketQuotaExhausted):
        box.reserve("u2", session.session.id, ["C1"], {"half": 1})
    refund = box.refund(sale.id, "u1", ["B2"])
    assert refund.amount == Money(1250)
    assert buy(box, session, ["C1"], "u2", {"half": 1}).amount == Money(1250)


def test_a_refund_emits_sale_refunded_and_seat_released(
    box: BoxOffice, session: SessionView
) -> None:
    """sale.refunded with the refund's figures; seat.released, reason refunded, with sale_id."""
    sale = buy(box, session, ["A1", "A2"])
    refund = box.refund(sale.id, "u1", ["A2"])
    found = [
        event for _, event in box.repo.events(type=None, session_id=None, before=None, limit=2)
    ]
    released, refunded = found
    assert refunded.type == "sale.refunded"
    assert refunded.data == {
        "refund_id": str(refund.id),
        "sale_id": str(sale.id),
        "session_id": str(session.session.id),
        "user_id": "u1",
        "seats": ["A2"],
        "amount": "25.00",
        "currency": "BRL",
    }
    assert released.type == "seat.released"
    assert released.data == {
        "session_id": str(session.session.id),
        "seats": ["A2"],
        "reservation_id": str(sale.reservation_id),
        "reason": "refunded",
        "sale_id": str(sale.id),
    }


def test_a_seat_refunded_twice_over_two_sales_stays_with_the_second(
    box: BoxOffice, session: SessionView
) -> None:
    """A1 sold, refunded, sold again: refunding the first sale again frees nothing of the second."""
    first = buy(box, session, ["A1", "A2"])
    box.refund(first.id, "u1", ["A1"])
    second = buy(box, session, ["A1"], user="u2")
    box.refund(first.id, "u1", ["A2"])
    assert status_of(box, session, "A1") == "sold"
    assert [t.status for t in box.tickets(second.id, "u2")] == ["valid"]
