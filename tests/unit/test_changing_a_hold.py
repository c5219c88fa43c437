"""Changing a hold: all or nothing, the same expiry, every rule of a new hold, its events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cinema_core import (
    BoxOffice,
    CoupleSeatSplit,
    ManualClock,
    Money,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationNotFound,
    SeatLabel,
    SeatsUnavailable,
    SessionView,
    SingleSeatGap,
    TicketQuotaExhausted,
    UnknownSeat,
    ValidationFailed,
)
from cinema_core.events.envelopes import RESERVATION_CHANGED, SEAT_RELEASED
from cinema_core.memory import InMemoryReservationRepo
from tests.conftest import new_session


def statuses(box: BoxOffice, view: SessionView, *labels: str) -> list[str]:
    seat_map = box.seat_map(view.session.id)
    return [str(seat_map.status(SeatLabel.parse(label))) for label in labels]


def data(repo: InMemoryReservationRepo, type: str) -> list[dict[str, Any]]:
    found = repo.events(type=type, session_id=None, before=None, limit=100)
    return [dict(event.data) for _, event in found]


def test_a_change_moves_the_hold_and_keeps_its_expiry(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView, clock: ManualClock
) -> None:
    """A1+A2 → A2+A3: A1 is free at once, A3 held, expires_at as it was, and the events say
    what was added and what was given back."""
    held = box.reserve("ana", session.session.id, ["A1", "A2"])
    clock.advance(10)
    changed = box.change(held.id, "ana", ["A3", "A2"])
    assert [str(label) for label in changed.seats] == ["A2", "A3"]
    assert changed.expires_at == held.expires_at
    assert str(changed.amount) == "50.00"
    assert statuses(box, session, "A1", "A2", "A3") == ["available", "held", "held"]
    assert box.reserve("bia", session.session.id, ["A1"]).seats  # free for anyone at once
    (event,) = data(repo, RESERVATION_CHANGED)
    assert event == {
        "reservation_id": str(held.id),
        "session_id": str(session.session.id),
        "user_id": "ana",
        "seats": ["A2", "A3"],
        "added": ["A3"],
        "removed": ["A1"],
    }
    released = [e for e in data(repo, SEAT_RELEASED) if e["reason"] == "changed"]
    assert [e["seats"] for e in released] == [["A1"]]


def test_a_change_is_all_or_nothing(box: BoxOffice, session: SessionView) -> None:
    """Asking for a seat someone else holds changes nothing and names that seat."""
    held = box.reserve("ana", session.session.id, ["A1", "A2"])
    box.reserve("bia", session.session.id, ["B1"])
    with pytest.raises(SeatsUnavailable) as refused:
        box.change(held.id, "ana", ["A2", "B1", "B2"])
    assert refused.value.seats == ["B1"]
    assert statuses(box, session, "A1", "A2", "B2") == ["held", "held", "available"]
    assert [str(x) for x in box.reservation(held.id, "ana").seats] == ["A1", "A2"]


def test_a_change_keeps_the_rules_of_a_hold(box: BoxOffice, session: SessionView) -> None:
    """Unknown seats, bad claims and quotas are refused as for a new hold; the quota counts the
    hold's own seats once."""
    held = box.reserve("ana", session.session.id, ["A1"], {"half": 1})
    with pytest.raises(UnknownSeat):
        box.change(held.id, "ana", ["A1", "E1"])
    with pytest.raises(ValidationFailed):
        box.change(held.id, "ana", [])
    box.reserve("cid", session.session.id, ["C1", "C2", "C3", "C4", "D1"], {"half": 5})
    # 6 half-price seats of 16: ana's one and cid's five. Keeping hers as half is fine.
    assert box.change(held.id, "ana", ["A1", "A2"], {"half": 1}).lines[0].ticket == "half"
    with pytest.raises(TicketQuotaExhausted) as refused:
        box.change(held.id, "ana", ["A1", "A2"], {"half": 2})
    assert refused.value.details == {"ticket": "half", "remaining": 1, "quota_group": "meia"}


def test_couples_and_unknown_seats_are_refused(box: BoxOffice, clock: ManualClock) -> None:
    """Half a couple seat is couple_seat_split on a change too."""
    room = box.create_room(cinema="Centro", name="Sala", layout=["cc_ssss_cc"] * 2)
    view = box.create_session(
        movie="Filme X",
        room_id=room.id,
        starts_at=clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
    )
    held = box.reserve("ana", view.session.id, ["A3"])
    with pytest.raises(CoupleSeatSplit):
        box.change(held.id, "ana", ["A1"])
    changed = box.change(held.id, "ana", ["A1", "A2"])
    assert [str(x) for x in changed.seats] == ["A1", "A2"]


def test_only_a_pending_hold_of_ones_own_can_change(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """Another user's hold is not found; paid, cancelled and lapsed ones refuse."""
    held = box.reserve("ana", session.session.id, ["A1"])
    with pytest.raises(ReservationNotFound):
        box.change(held.id, "bia", ["A2"])
    paid = box.reserve("ana", session.session.id, ["B1"])
    box.pay(paid.id, "ana")
    with pytest.raises(ReservationConfirmed):
        box.change(paid.id, "ana", ["B2"])
    cancelled = box.reserve("ana", session.session.id, ["C1"])
    box.cancel(cancelled.id, "ana")
    with pytest.raises(ReservationCancelled):
        box.change(cancelled.id, "ana", ["C2"])
    clock.advance(30)
    with pytest.raises(ReservationExpired):
        box.change(held.id, "ana", ["A2"])


def test_payment_after_a_change_pays_the_new_seats(box: BoxOffice, session: SessionView) -> None:
    """The sale is of the seats the hold covers when it is paid."""
    held = box.reserve("ana", session.session.id, ["A1", "A2"])
    box.change(held.id, "ana", ["D4"])
    sale, _ = box.pay(held.id, "ana")
    assert [str(x) for x in sale.seats] == ["D4"]
    assert str(sale.amount) == "25.00"
    assert statuses(box, session, "A1", "A2", "D4") == ["available", "available", "sold"]


def test_a_change_that_would_strand_a_seat_is_refused(box: BoxOffice, clock: ManualClock) -> None:
    """With forbid_single_gaps, moving A2+A3 to A3+A4 beside a held A1 would give A2 back
    alone: single_seat_gap naming it, and the hold stays as it was."""
    view = new_session(box, seats_per_row=6, days=1, forbid_single_gaps=True)
    box.reserve("bia", view.session.id, ["A1"])
    held = box.reserve("ana", view.session.id, ["A2", "A3"])
    with pytest.raises(SingleSeatGap) as refused:
        box.change(held.id, "ana", ["A3", "A4"])
    assert refused.value.seats == ["A2"]
    assert [str(x) for x in box.reservation(held.id, "ana").seats] == ["A2", "A3"]
    assert [str(x) for x in box.change(held.id, "ana", ["A2", "A3", "A4"]).seats] == [
        "A2",
        "A3",
        "A4",
    ]


def test_the_rule_refuses_a_hand_picked_hold_that_strands_a_seat(
    box: BoxOffice, clock: ManualClock
) -> None:
    """A1+A2 held, A4+A5 would leave A3 alone: single_seat_gap; A3–A5 is fine."""
    view = new_session(box, seats_per_row=5, days=1, forbid_single_gaps=True)
    box.reserve("ana", view.session.id, ["A1", "A2"])
    with pytest.raises(SingleSeatGap) as refused:
        box.reserve("bia", view.session.id, ["A4", "A5"])
    assert refused.value.seats == ["A3"]
    assert box.reserve("bia", view.session.id, ["A3", "A4", "A5"]).seats
