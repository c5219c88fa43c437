"""A seat map read again is reused only while it is still true: writes and lapses show at once."""

from __future__ import annotations

import contextlib
import random

from cinema_core import BoxOffice, CinemaError, ManualClock, SeatMap, SeatStatus, SessionView
from cinema_core.memory import InMemoryReservationRepo
from tests.unit.conftest import session_in


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


def test_a_map_patched_after_writes_is_the_map_made_whole(
    box: BoxOffice, repo: InMemoryReservationRepo, clock: ManualClock
) -> None:
    """After each of 300 random holds (some of them half price, under the meia quota),
    payments, cancellations and lapses on a room with blocked seats and gaps, the map read is
    the one made from scratch from the stored seats, and its quotas are the session's."""
    session = session_in(box, ["ss_ssxs", "sxss_ss", "ssss_ss", "pppp_pp", "cc_ss_cc"])
    id = session.session.id
    room = box.session(id).session.room
    free = [label for label, status in box.seat_map(id).seats if status is SeatStatus.AVAILABLE]
    chooser, holds = random.Random(7), []
    for _ in range(300):
        move = chooser.random()
        if move < 0.5:
            seats = chooser.sample(free, chooser.randint(1, 3))
            half = chooser.randint(0, len(seats))
            tickets = {"half": half, "full": len(seats) - half}
            with contextlib.suppress(CinemaError):
                holds.append(box.reserve(f"u{len(holds)}", id, [str(s) for s in seats], tickets))
        elif move < 0.7 and holds:
            hold = holds.pop(chooser.randrange(len(holds)))
            with contextlib.suppress(CinemaError):
                box.pay(hold.id, hold.user_id)
        elif move < 0.85 and holds:
            hold = holds.pop(chooser.randrange(len(holds)))
            with contextlib.suppress(CinemaError):
                box.cancel(hold.id, hold.user_id)
        else:
            clock.advance(chooser.choice([1, 30, 200]))
        whole = SeatMap.at(id, room, repo.seats(id), clock.now())
        read = box.seat_map(id)
        assert read.seats == whole.seats
        assert read.quotas == box.session(id).quotas
