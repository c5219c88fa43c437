"""A session's life: sales close, changes and cancellation, on the clock that moves when told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from cinema_core import (
    BoxOffice,
    ManualClock,
    Money,
    ReservationCancelled,
    ReservationStatus,
    RoomBusy,
    SalesClosed,
    SaleStatus,
    SessionCancelled,
    SessionFilter,
    SessionStatus,
    TicketStatus,
    ValidationFailed,
)
from cinema_core.events.envelopes import (
    SALE_REFUNDED,
    SEAT_RELEASED,
    SESSION_CANCELLED,
    SESSION_CHANGED,
)

LAYOUT = ["ssss", "ssss", "ssss", "ssss"]


def room_session(box: BoxOffice, *, hours: float = 2, minutes: int = 120, name: str = "Sala 1"):
    """A session in a room of the chain, ``hours`` from now, lasting ``minutes``."""
    try:
        room = next(r for r in box.rooms("Centro") if r.name == name)
    except StopIteration:
        room = box.create_room(cinema="Centro", name=name, layout=LAYOUT)
    return box.create_session(
        movie="Filme X",
        room_id=room.id,
        starts_at=box.clock.now() + timedelta(hours=hours),
        price=Money.parse("25.00"),
        duration_minutes=minutes,
    )


def events_of(box: BoxOffice, kind: str) -> list[dict[str, object]]:
    found = box.repo.events(type=kind, session_id=None, before=None, limit=100)
    return [dict(event.data) for _, event in found]


def test_sales_close_fifteen_minutes_after_the_start(box: BoxOffice, clock: ManualClock) -> None:
    """A hold is taken until starts_at + 15 min; from then on it is 409 sales_closed."""
    view = room_session(box, hours=1)
    assert view.status is SessionStatus.ON_SALE
    assert view.sales_close_at == view.session.starts_at + timedelta(minutes=15)
    clock.advance(59, hours=1, minutes=14)
    box.reserve("u1", view.session.id, ["A1"])
    clock.advance(1)
    with pytest.raises(SalesClosed):
        box.reserve("u1", view.session.id, ["A2"])
    with pytest.raises(SalesClosed):
        box.reserve_best("u1", view.session.id, 1)
    assert box.session(view.session.id).status is SessionStatus.SALES_CLOSED


def test_a_hold_made_before_the_close_is_not_paid_after(box: BoxOffice, clock: ManualClock) -> None:
    """Paying or changing a hold once sales closed is refused, and nothing is sold."""
    view = room_session(box, hours=1)
    box = attrs.evolve(box, hold=timedelta(hours=2))
    clock.advance(hours=1, minutes=10)
    hold = box.reserve("u1", view.session.id, ["A1"])
    clock.advance(minutes=5)
    with pytest.raises(SalesClosed):
        box.change(hold.id, "u1", ["A1", "A2"])
    with pytest.raises(SalesClosed):
        box.pay(hold.id, "u1")
    assert box.reservation(hold.id, "u1").status is ReservationStatus.PENDING
    assert all(seat.sale_id is None for seat in box.repo.seats(view.session.id))


def test_a_short_session_closes_when_it_ends(box: BoxOffice, clock: ManualClock) -> None:
    """A session shorter than the close delay stops selling at its end."""
    view = room_session(box, hours=1, minutes=10)
    assert view.sales_close_at == view.session.ends_at
    clock.advance(hours=1, minutes=10)
    with pytest.raises(SalesClosed):
        box.reserve("u1", view.session.id, ["A1"])


def test_the_close_delay_is_the_box_offices_setting(box: BoxOffice, clock: ManualClock) -> None:
    """sales_close=0 closes sales at the start."""
    box = attrs.evolve(box, sales_close=timedelta(0))
    view = room_session(box, hours=1)
    clock.advance(hours=1)
    with pytest.raises(SalesClosed):
        box.reserve("u1", view.session.id, ["A1"])


def test_listing_shows_sessions_on_sale_unless_past(box: BoxOffice, clock: ManualClock) -> None:
    """Closed and cancelled sessions are listed only with past=True."""
    soon = room_session(box, hours=1)
    later = room_session(box, hours=5)
    gone = room_session(box, hours=9)
    box.cancel_session(gone.session.id, "admin")
    clock.advance(hours=1, minutes=15)
    listed = [v.session.id for v in box.sessions().items]
    assert listed == [later.session.id]
    every = {v.session.id: v.status for v in box.sessions(where=SessionFilter(), past=True).items}
    assert every == {
        soon.session.id: SessionStatus.SALES_CLOSED,
        later.session.id: SessionStatus.ON_SALE,
        gone.session.id: SessionStatus.CANCELLED,
    }


def test_changing_a_session_moves_it_and_says_what_changed(box: BoxOffice) -> None:
    """PATCH's rule: the fields given change, and session.changed names them."""
    view = room_session(box, hours=2)
    new_start = view.session.starts_at + timedelta(hours=1)
    changed = box.change_session(view.session.id, starts_at=new_start, movie="Filme Y")
    assert (changed.session.movie, changed.session.starts_at) == ("Filme Y", new_start)
    assert box.session(view.session.id).session.starts_at == new_start
    (data,) = events_of(box, SESSION_CHANGED)
    assert data["changed"] == ["movie", "starts_at"]
    assert data["ends_at"] == changed.session.ends_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def test_a_change_keeps_the_room_free_of_overlaps(box: BoxOffice) -> None:
    """Moving a session onto another of its room is 409 room_busy, and nothing changes."""
    first = room_session(box, hours=2)
    second = room_session(box, hours=6)
    with pytest.raises(RoomBusy):
        box.change_session(second.session.id, starts_at=first.session.starts_at)
    with pytest.raises(RoomBusy):
        box.change_session(first.session.id, duration_minutes=300)
    assert box.session(second.session.id).session.starts_at == second.session.starts_at
    assert events_of(box, SESSION_CHANGED) == []


def test_a_change_is_checked_like_a_new_session(box: BoxOffice) -> None:
    """A start in the past, a bad duration or no field at all is 422."""
    view = room_session(box)
    with pytest.raises(ValidationFailed) as refused:
        box.change_session(
            view.session.id,
            starts_at=box.clock.now() - timedelta(minutes=1),
            duration_minutes=601,
        )
    assert set(refused.value.fields) == {"starts_at", "duration_minutes"}
    with pytest.raises(ValidationFailed):
        box.change_session(view.session.id)


def test_a_change_keeps_the_start_inside_the_box_offices_years(box: BoxOffice) -> None:
    """A session moved near year 9999 is refused as a new one would be, not left to overflow
    its end."""
    view = room_session(box)
    with pytest.raises(ValidationFailed) as refused:
        box.change_session(view.session.id, starts_at=datetime(9999, 12, 31, 20, tzinfo=UTC))
    assert set(refused.value.fields) == {"starts_at"}


def test_a_started_session_may_still_be_renamed(box: BoxOffice, clock: ManualClock) -> None:
    """Only the fields given are judged: a start now in the past does not stop a new title."""
    view = room_session(box, hours=1)
    clock.advance(0, hours=1, minutes=5)
    changed = box.change_session(view.session.id, movie="Filme Y")
    assert changed.session.movie == "Filme Y"


def test_cancelling_releases_holds_and_refunds_every_sale(
    box: BoxOffice, clock: ManualClock
) -> None:
    """Every hold is released, every sale refunded in full (checked-in seats too), tickets
    read refunded, and later holds are 409 session_cancelled."""
    view = room_session(box, hours=2)
    session_id = view.session.id
    sold = box.pay(box.reserve("u1", session_id, ["A1", "A2"]).id, "u1")[0]
    used = box.pay(box.reserve("u2", session_id, ["B1"]).id, "u2")[0]
    box.check_in(box.tickets(used.id, "u2")[0].code)
    held = box.reserve("u3", session_id, ["C1"])
    cancelled = box.cancel_session(session_id, "admin")
    assert cancelled.status is SessionStatus.CANCELLED
    assert cancelled.available == view.session.seat_count
    assert box.reservation(held.id, "u3").status is ReservationStatus.CANCELLED
    for sale, user in ((sold, "u1"), (used, "u2")):
        again = box.owned_sale(sale.id, user)
        assert again.status is SaleStatus.REFUNDED
        assert again.refunded_amount == again.amount
        assert {t.status for t in box.tickets(sale.id, user)} == {TicketStatus.REFUNDED}
    assert len(events_of(box, SESSION_CANCELLED)) == 1
    assert len(events_of(box, SALE_REFUNDED)) == 2
    reasons = sorted(str(data["reason"]) for data in events_of(box, SEAT_RELEASED))
    assert reasons == ["cancelled", "refunded", "refunded"]
    with pytest.raises(SessionCancelled):
        box.reserve("u4", session_id, ["D1"])
    with pytest.raises(SessionCancelled):
        box.reserve_best("u4", session_id, 1)
    with pytest.raises(SessionCancelled):
        box.change_session(session_id, movie="Filme Z")


def test_a_hold_cannot_be_paid_once_its_session_is_cancelled(box: BoxOffice) -> None:
    """The cancel ends the hold: paying it is refused and no seat is sold."""
    view = room_session(box)
    hold = box.reserve("u1", view.session.id, ["A1"])
    box.cancel_session(view.session.id, "admin")
    with pytest.raises(ReservationCancelled):
        box.pay(hold.id, "u1")
    assert all(seat.sale_id is None for seat in box.repo.seats(view.session.id))


def test_cancelling_again_answers_the_same(box: BoxOffice, clock: ManualClock) -> None:
    """A second cancel changes nothing and publishes nothing."""
    view = room_session(box)
    first = box.cancel_session(view.session.id, "admin")
    clock.advance(minutes=1)
    second = box.cancel_session(view.session.id, "admin")
    assert second.session.cancelled_at == first.session.cancelled_at
    assert len(events_of(box, SESSION_CANCELLED)) == 1


def test_a_cancelled_session_frees_its_room(box: BoxOffice) -> None:
    """Another session may take the time of a cancelled one."""
    view = room_session(box, hours=3)
    box.cancel_session(view.session.id, "admin")
    again = room_session(box, hours=3)
    assert again.status is SessionStatus.ON_SALE
