"""Prices per category, ticket types and their quota (meia-entrada's 40 %)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema_core import (
    BoxOffice,
    Category,
    CoupleSeatSplit,
    ManualClock,
    Money,
    SeatsUnavailable,
    SessionView,
    TicketQuotaExhausted,
    TicketType,
    UnknownTicketType,
    ValidationFailed,
)
from cinema_core.errors import UnknownSeat
from tests.unit.conftest import session_in


@pytest.fixture
def centro(box: BoxOffice) -> SessionView:
    return session_in(box, ["ssss_ssss", "ssss_ssss", "pppp_pppp", "cc_ssss_cc", "wxss_ssww"])


@pytest.mark.parametrize(
    ("cents", "percent", "expected"),
    [(2500, 50, 1250), (2501, 50, 1251), (2503, 50, 1252), (1, 50, 1), (999, 33, 330)],
)
def test_a_percentage_of_a_price_rounds_half_up_to_the_cent(
    cents: int, percent: int, expected: int
) -> None:
    """25.01 at half price is 12.51 (12.505 rounded half up)."""
    assert Money(cents).percent(percent) == Money(expected)


def test_each_seat_costs_its_category_price_times_its_ticket_percent(
    box: BoxOffice, centro: SessionView
) -> None:
    """Lines come in label order; tickets go to the seats in label order; amount is the sum."""
    made = box.reserve("u1", centro.session.id, ["C1", "A1", "D1", "D2"], {"half": 2})
    assert [
        (str(line.seat), str(line.category), line.ticket, str(line.price)) for line in made.lines
    ] == [
        ("A1", "standard", "half", "12.50"),
        ("C1", "premium", "half", "20.00"),
        ("D1", "couple", "full", "30.00"),
        ("D2", "couple", "full", "30.00"),
    ]
    assert str(made.amount) == "92.50"


def test_the_session_price_is_its_lowest(centro: SessionView) -> None:
    """price is what a session costs from; seat_count leaves blocked seats out."""
    assert str(centro.session.price) == "25.00"
    assert centro.session.seat_count == centro.available == 39


def test_every_category_of_the_room_needs_a_price(box: BoxOffice) -> None:
    """A missing category is named; a price for all is also fine."""
    room = box.create_room(cinema="C", name="R", layout=["pppp" * 2, "ssss" * 2])
    with pytest.raises(ValidationFailed) as caught:
        box.create_session(
            movie="M",
            room_id=room.id,
            starts_at=box.clock.now(),
            prices={Category.STANDARD: Money(100)},
        )
    assert set(caught.value.fields) == {"prices.premium"}
    one = box.create_session(
        movie="M", room_id=room.id, starts_at=box.clock.now(), price=Money(100)
    )
    assert set(one.session.prices) == {Category.STANDARD, Category.PREMIUM}


def test_half_a_couple_seat_is_refused_naming_the_other_half(
    box: BoxOffice, centro: SessionView
) -> None:
    """A couple seat is sold whole: D1 alone is 422 couple_seat_split naming D2."""
    with pytest.raises(CoupleSeatSplit) as caught:
        box.reserve("u1", centro.session.id, ["D1", "D8"])
    assert caught.value.seats == ["D2", "D7"]
    assert box.seat_map(centro.session.id).count("held") == 0


def test_a_blocked_seat_is_unavailable_and_an_absent_one_unknown(
    box: BoxOffice, centro: SessionView
) -> None:
    """E2 exists but is never for sale (409); E9 does not exist (422)."""
    with pytest.raises(SeatsUnavailable) as caught:
        box.reserve("u1", centro.session.id, ["E1", "E2"])
    assert caught.value.seats == ["E2"]
    with pytest.raises(UnknownSeat):
        box.reserve("u1", centro.session.id, ["E9"])
    assert box.seat_map(centro.session.id).count("blocked") == 1


def test_unknown_ticket_types_and_too_many_tickets_are_refused(
    box: BoxOffice, centro: SessionView
) -> None:
    """Tickets name the session's types and count at most its seats."""
    with pytest.raises(UnknownTicketType):
        box.reserve("u1", centro.session.id, ["A1"], {"student": 1})
    with pytest.raises(ValidationFailed) as caught:
        box.reserve("u1", centro.session.id, ["A1"], {"half": 2})
    assert caught.value.code == "validation_error"
    assert "tickets" in caught.value.fields


def test_a_quota_admits_its_share_of_seats_and_refuses_the_next(box: BoxOffice) -> None:
    """40 % of 16 seats is 6 half-price seats at once; the 7th is refused with what is left."""
    show = session_in(box, ["ssss"] * 4)
    box.reserve("u1", show.session.id, ["A1", "A2", "A3", "A4"], {"half": 4})
    box.reserve("u2", show.session.id, ["B1", "B2"], {"half": 2})
    with pytest.raises(TicketQuotaExhausted) as caught:
        box.reserve("u3", show.session.id, ["C1"], {"half": 1})
    assert caught.value.details == {"ticket": "half", "remaining": 0, "quota_group": "meia"}
    assert box.reserve("u3", show.session.id, ["C1"]).lines[0].ticket == "full"


def test_the_quota_counts_what_is_left_in_its_refusal(box: BoxOffice) -> None:
    """remaining says how many of the type can still be had."""
    show = session_in(box, ["ssss"] * 4)
    box.reserve("u1", show.session.id, ["A1", "A2", "A3", "A4"], {"half": 4})
    with pytest.raises(TicketQuotaExhausted) as caught:
        box.reserve("u2", show.session.id, ["B1", "B2", "B3"], {"half": 3})
    assert caught.value.remaining == 2


def test_a_lapsed_or_cancelled_hold_gives_its_quota_back(
    box: BoxOffice, clock: ManualClock
) -> None:
    """Lapsed holds count for nothing, as for seats, whether or not the sweeper has run; a
    sold seat keeps counting."""
    show = session_in(box, ["ssss"] * 4)
    first = box.reserve("u1", show.session.id, ["A1", "A2", "A3"], {"half": 3})
    paid = box.reserve("u2", show.session.id, ["B1", "B2", "B3"], {"half": 3})
    box.pay(paid.id, "u2")
    clock.advance(30)
    again = box.reserve("u3", show.session.id, ["C1", "C2", "C3"], {"half": 3})
    box.cancel(again.id, "u3")
    box.reserve("u4", show.session.id, ["D1", "D2", "D3"], {"half": 3})
    with pytest.raises(TicketQuotaExhausted):
        box.reserve("u5", show.session.id, ["A4"], {"half": 1})
    assert first.id != again.id


def test_a_session_may_sell_its_own_ticket_types(box: BoxOffice) -> None:
    """The first type is what seats without a named ticket are sold as."""
    show = session_in(
        box,
        ["ssss"] * 4,
        ticket_types=[TicketType("promo", "Promo", 80), TicketType("kid", "Kid", 50, 25)],
    )
    made = box.reserve("u1", show.session.id, ["A1", "A2"], {"kid": 1})
    assert [(line.ticket, str(line.price)) for line in made.lines] == [
        ("kid", "12.50"),
        ("promo", "20.00"),
    ]


@pytest.mark.parametrize(
    ("types", "field"),
    [
        ([], "ticket_types"),
        ([TicketType("full", "A", 100), TicketType("full", "B", 50)], "ticket_types"),
        ([TicketType("Full", "A", 100)], "ticket_types.0.code"),
        ([TicketType("full", "", 100)], "ticket_types.0.name"),
        ([TicketType("full", "A", 0)], "ticket_types.0.percent"),
        ([TicketType("full", "A", 100, 101)], "ticket_types.0.quota_percent"),
    ],
)
def test_ticket_types_break_no_rule(box: BoxOffice, types: list[TicketType], field: str) -> None:
    """1–10 types, distinct codes of a-z and _, names of 1–60, percents 1–100."""
    with pytest.raises(ValidationFailed) as caught:
        session_in(box, ["ssss"] * 4, ticket_types=types)
    assert field in caught.value.fields


def test_two_sessions_of_a_room_may_not_overlap(box: BoxOffice) -> None:
    """[starts_at, ends_at) of one room never overlap; back to back is fine."""
    from cinema_core import RoomBusy

    first = session_in(box, ["ssss"] * 4, duration_minutes=90)
    room_id = first.session.room.id
    at = first.session.starts_at
    with pytest.raises(RoomBusy) as caught:
        box.create_session(
            movie="Y", room_id=room_id, starts_at=at + timedelta(minutes=89), price=Money(100)
        )
    assert caught.value.details == {"session_id": str(first.session.id)}
    with pytest.raises(RoomBusy):
        box.create_session(
            movie="Y", room_id=room_id, starts_at=at - timedelta(minutes=30), price=Money(100)
        )
    after = box.create_session(
        movie="Y", room_id=room_id, starts_at=at + timedelta(minutes=90), price=Money(100)
    )
    assert after.session.starts_at == first.session.ends_at
