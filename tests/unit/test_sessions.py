"""Creating and listing sessions: every rule of the contract, all broken fields named at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from cinema_core import (
    BoxOffice,
    ManualClock,
    Money,
    SessionNotFound,
    SessionView,
    TicketType,
    TooFewSeats,
    ValidationFailed,
)
from tests.unit.conftest import new_session


def create(box: BoxOffice, **changes: Any) -> SessionView:
    fields: dict[str, Any] = {
        "movie": "Filme X",
        "room": "Sala 1",
        "starts_at": box.clock.now() + timedelta(days=1),
        "price": Money.parse("25.00"),
        "rows": 4,
        "seats_per_row": 4,
    }
    fields.update(changes)
    return box.create_session(**fields)


def test_a_valid_session_starts_with_every_seat_available(box: BoxOffice) -> None:
    """A new session has rows × seats_per_row seats, all available, at its price."""
    view = create(box, rows=2, seats_per_row=8)
    assert view.available == view.session.seat_count == 16
    assert box.session(view.session.id) == view
    assert view.session.price == Money(2500)


@pytest.mark.parametrize(("rows", "seats_per_row"), [(3, 5), (1, 15), (5, 3), (1, 1)])
def test_fewer_than_sixteen_seats_is_too_few(box: BoxOffice, rows: int, seats_per_row: int) -> None:
    """A room needs at least 16 seats; fewer is too_few_seats, a 422 validation error."""
    with pytest.raises(TooFewSeats) as caught:
        create(box, rows=rows, seats_per_row=seats_per_row)
    assert caught.value.code == "too_few_seats"
    assert caught.value.status == 422
    assert isinstance(caught.value, ValidationFailed)


@pytest.mark.parametrize(("rows", "seats_per_row"), [(1, 16), (16, 1), (26, 100), (4, 4)])
def test_sixteen_seats_or_more_in_bounds_are_accepted(
    box: BoxOffice, rows: int, seats_per_row: int
) -> None:
    """Rows 1–26 and seats per row 1–100 are fine as long as there are 16 seats."""
    assert create(box, rows=rows, seats_per_row=seats_per_row).available == rows * seats_per_row


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rows", 0),
        ("rows", 27),
        ("seats_per_row", 0),
        ("seats_per_row", 101),
        ("price", Money(0)),
        ("price", Money(-100)),
        ("movie", ""),
        ("movie", "   "),
        ("movie", "x" * 201),
        ("room", ""),
        ("room", "r" * 201),
    ],
)
def test_each_out_of_bounds_field_is_named(box: BoxOffice, field: str, value: object) -> None:
    """A field outside its bounds is a validation error naming that field only."""
    with pytest.raises(ValidationFailed) as caught:
        create(box, **{field: value})
    assert set(caught.value.fields) == {field}
    assert caught.value.details == {"fields": caught.value.fields}
    assert caught.value.code == "validation_error"


def test_names_of_two_hundred_characters_are_accepted(box: BoxOffice) -> None:
    """movie and room may be 1 to 200 characters; blanks around them are trimmed."""
    view = create(box, movie="m" * 200, room="  Sala 2  ")
    assert view.session.room.name == "Sala 2"


def test_start_without_timezone_is_refused(box: BoxOffice) -> None:
    """A naive start time is ambiguous, so starts_at must carry a timezone."""
    with pytest.raises(ValidationFailed) as caught:
        create(box, starts_at=datetime(2030, 1, 1, 19, 0))
    assert "timezone" in caught.value.fields["starts_at"]


def test_start_in_the_past_is_refused(box: BoxOffice, clock: ManualClock) -> None:
    """A session cannot start before now; starting right now is allowed."""
    with pytest.raises(ValidationFailed) as caught:
        create(box, starts_at=clock.now() - timedelta(seconds=1))
    assert "past" in caught.value.fields["starts_at"]
    assert create(box, starts_at=clock.now()).session.starts_at == clock.now()


def test_start_in_another_timezone_is_the_same_instant(box: BoxOffice, clock: ManualClock) -> None:
    """Any timezone is accepted; the rule compares instants."""
    later = (clock.now() + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-3)))
    assert create(box, starts_at=later).session.starts_at == later


def test_every_broken_field_is_named_at_once(box: BoxOffice, clock: ManualClock) -> None:
    """One answer names all the problems, so a client fixes them in one go."""
    with pytest.raises(ValidationFailed) as caught:
        create(
            box,
            movie="",
            room="",
            starts_at=clock.now() - timedelta(days=1),
            price=Money(0),
            rows=0,
            seats_per_row=101,
        )
    assert set(caught.value.fields) == {
        "movie",
        "room",
        "starts_at",
        "price",
        "rows",
        "seats_per_row",
    }


def test_out_of_bounds_rows_are_reported_before_too_few_seats(box: BoxOffice) -> None:
    """Bounds errors come as validation_error, not too_few_seats, even if the room is small."""
    with pytest.raises(ValidationFailed) as caught:
        create(box, rows=0, seats_per_row=4)
    assert type(caught.value) is ValidationFailed


def test_nothing_is_stored_when_creation_fails(box: BoxOffice) -> None:
    """A refused session leaves no trace in the listing."""
    with pytest.raises(ValidationFailed):
        create(box, price=Money(0))
    assert box.sessions().items == []


def test_unknown_session_is_not_found(box: BoxOffice) -> None:
    """Reading a session or its seats that does not exist is session_not_found."""
    with pytest.raises(SessionNotFound):
        box.session(uuid4())
    with pytest.raises(SessionNotFound):
        box.seat_map(uuid4())


def test_sessions_are_listed_by_start_time(box: BoxOffice) -> None:
    """The listing goes by starts_at, whatever the order of creation."""
    later = new_session(box, days=3)
    sooner = new_session(box, days=1)
    middle = new_session(box, days=2)
    assert [v.session.id for v in box.sessions().items] == [
        sooner.session.id,
        middle.session.id,
        later.session.id,
    ]


def test_session_pages_are_stable_keyset_pages(box: BoxOffice) -> None:
    """Walking the cursor visits every session once, in order, even with ties on starts_at
    and sessions added behind the cursor meanwhile."""
    created = [new_session(box, days=1 + i // 2) for i in range(7)]
    seen = []
    page = box.sessions(limit=3)
    seen += page.items
    new_session(box, days=0.5)  # lands before the cursor: must not shift later pages
    while page.next_cursor:
        page = box.sessions(limit=3, cursor=page.next_cursor)
        seen += page.items
    expected = sorted(created, key=lambda v: (v.session.starts_at, v.session.id))
    assert [v.session.id for v in seen] == [v.session.id for v in expected]


def test_last_full_page_has_no_next_cursor(box: BoxOffice) -> None:
    """next_cursor is null exactly when nothing follows."""
    for day in range(4):
        new_session(box, days=day + 1)
    assert box.sessions(limit=4).next_cursor is None
    assert box.sessions(limit=3).next_cursor is not None


@pytest.mark.parametrize("limit", [0, -1, 201])
def test_listing_limit_must_be_1_to_200(box: BoxOffice, limit: int) -> None:
    """limit outside 1–200 is a validation error on field limit."""
    with pytest.raises(ValidationFailed) as caught:
        box.sessions(limit=limit)
    assert set(caught.value.fields) == {"limit"}


def test_listing_shows_live_availability(box: BoxOffice, session: SessionView) -> None:
    """available in the listing counts seats neither sold nor held right now."""
    box.reserve("u1", session.session.id, ["A1", "A2"])
    assert box.sessions().items[0].available == 14
    assert box.session(session.session.id).available == 14


def test_a_session_that_could_not_end_before_year_9000_is_refused(box: BoxOffice) -> None:
    """The library refuses a start at or past 8999-12-31T14:00Z, however long, naming starts_at;
    a start a second before is made and its end is written."""
    last = datetime(8999, 12, 31, 14, 0, tzinfo=UTC)
    for starts_at in (last, datetime(9999, 12, 31, 23, 59, tzinfo=UTC)):
        with pytest.raises(ValidationFailed) as caught:
            create(box, starts_at=starts_at, duration_minutes=1)
        assert set(caught.value.fields) == {"starts_at"}
    made = create(box, starts_at=last - timedelta(seconds=1), duration_minutes=600)
    assert made.session.ends_at < datetime(9000, 1, 1, tzinfo=UTC)


def test_a_price_some_ticket_type_would_sell_for_nothing_is_refused(box: BoxOffice) -> None:
    """0.01 at 1 % rounds to 0.00: the library refuses the session, naming the price."""
    promo = (TicketType("full", "Inteira", 100), TicketType("promo", "Promo", 1))
    with pytest.raises(ValidationFailed) as caught:
        create(box, price=Money.parse("0.01"), ticket_types=promo)
    assert set(caught.value.fields) == {"price"}
    assert box.sessions(10, None).items == []
    assert create(box, price=Money.parse("0.50"), ticket_types=promo).session.price == Money(50)
