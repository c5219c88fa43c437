"""A seat map read again is reused only while it is still true: writes and lapses show at once."""

from __future__ import annotations

from cinema_core import BoxOffice, ManualClock, SeatStatus, SessionView


def statuses(box: BoxOffice, session: SessionView) -> dict[str, SeatStatus]:
    return {str(label): status for label, status in box.seat_map(session.session.id).seats}


def test_an_unchanged_seat_map_is_the_same_map(box: BoxOffice, session: SessionView) -> None:
    """Reading twice with nothing in between gives the same map."""
    box.reserve("u1", session.session.id, ["A1"])
    assert box.seat_map(session.session.id) is box.seat_map(session.session.id)


def test_every_write_shows_in_the_next_read(box: BoxOffice, session: SessionView) -> None:
    """A hold, a payment and a cancellation each show in the map read right after."""
    assert statuses(box, session)["A1"] is SeatStatus.AVAILABLE
    first = box.reserve("u1", session.session.id, ["A1", "B2"])
    assert statuses(box, session)["B2"] is SeatStatus.HELD
    box.pay(first.id, "u1")
    assert statuses(box, session)["A1"] is SeatStatus.SOLD
    second = box.reserve("u2", session.session.id, ["C3"])
    assert statuses(box, session)["C3"] is SeatStatus.HELD
    box.cancel(second.id, "u2")
    assert statuses(box, session)["C3"] is SeatStatus.AVAILABLE


def test_a_lapsing_hold_reads_available_at_once_without_a_write(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """The instant a hold lapses the map shows the seat available, though nothing was written."""
    early = box.reserve("u1", session.session.id, ["A1"])
    clock.advance(10)
    box.reserve("u2", session.session.id, ["A2"])
    assert statuses(box, session)["A1"] is SeatStatus.HELD
    clock.set(early.expires_at)
    after = statuses(box, session)
    assert (after["A1"], after["A2"]) == (SeatStatus.AVAILABLE, SeatStatus.HELD)
    clock.advance(10)
    assert statuses(box, session)["A2"] is SeatStatus.AVAILABLE


def test_a_clock_set_back_is_not_answered_from_a_later_map(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """A map made after a hold lapsed is not reused for an instant before the lapse."""
    hold = box.reserve("u1", session.session.id, ["A1"])
    start = clock.now()
    clock.set(hold.expires_at)
    assert statuses(box, session)["A1"] is SeatStatus.AVAILABLE
    clock.set(start)
    assert statuses(box, session)["A1"] is SeatStatus.HELD
