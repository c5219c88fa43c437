"""Best available: the scoring, blocks of seats together, couples, categories, the single-seat
rule, and refusals only when nothing suitable is left."""

from __future__ import annotations

import pytest

from cinema_core import (
    BoxOffice,
    NotEnoughSeats,
    SessionView,
    TicketQuotaExhausted,
    UnknownTicketType,
    ValidationFailed,
)
from cinema_core.selling.best_available import seat_cost
from tests.unit.conftest import new_session, session_in


def best(box: BoxOffice, view: SessionView, count: int, **wish: object) -> list[str]:
    """The seats a best-available hold got, as labels."""
    held = box.reserve_best("u1", view.session.id, count, **wish)  # type: ignore[arg-type]
    return [str(label) for label in held.seats]


def hold(box: BoxOffice, view: SessionView, *seats: str) -> None:
    box.reserve("other", view.session.id, list(seats))


def hold_rows(box: BoxOffice, view: SessionView, rows: str, width: int) -> None:
    for row in rows:
        hold(box, view, *[f"{row}{n}" for n in range(1, width + 1)])


def test_the_cost_favours_rows_a_little_behind_the_middle_and_the_centre() -> None:
    """Of 6 rows of 10, row D (three fifths back) at the centre costs least; one row off costs
    as much as a seat and a half sideways."""
    costs = {(row, col): seat_cost(6, 10, row, col) for row in range(6) for col in range(1, 11)}
    assert min(costs, key=lambda place: (costs[place], place)) == (3, 5)
    assert costs[(3, 5)] == costs[(3, 6)]
    assert costs[(2, 5)] < costs[(5, 5)] < costs[(0, 5)]


def test_a_block_of_four_lands_in_the_centre_of_the_best_row(box: BoxOffice) -> None:
    """4 together in a free 6 × 10 room: D4–D7."""
    view = new_session(box, rows=6, seats_per_row=10)
    assert best(box, view, 4) == ["D4", "D5", "D6", "D7"]


def test_blocks_never_cross_an_aisle_or_a_taken_seat(box: BoxOffice) -> None:
    """The centre of a room split by an aisle is the aisle: 4 together take one side of it
    (the left one on a tie), then the other; with B3 taken, 2 together go to the next row."""
    view = session_in(box, ["ssss_ssss"] * 3)
    assert best(box, view, 4) == ["B1", "B2", "B3", "B4"]
    assert best(box, view, 4) == ["B5", "B6", "B7", "B8"]
    assert best(box, view, 4) == ["C1", "C2", "C3", "C4"]


def test_a_request_never_strands_a_seat_when_another_choice_would_not(box: BoxOffice) -> None:
    """Pairs in a free 4 × 4 room fill it exactly: 8 pairs, each of seats 1+2 or 3+4, then 409."""
    view = new_session(box)
    got = [best(box, view, 2) for _ in range(8)]
    assert all(pair[0][1:] in ("1", "3") for pair in got)
    assert len({seat for pair in got for seat in pair}) == 16
    with pytest.raises(NotEnoughSeats) as refused:
        best(box, view, 2)
    assert refused.value.details == {"available": 0}


def test_a_stranding_block_is_taken_only_when_nothing_else_would_do(box: BoxOffice) -> None:
    """A 5-seat row keeps its pairs at the ends; once only A2–A4 is left, 2 together strand a
    seat, which a session without the rule accepts as the last resort."""
    view = session_in(box, ["sssss", "xxxxx", "xxxxx", "sssss", "sssss", "sssss"])
    hold_rows(box, view, "DEF", 5)
    hold(box, view, "A1", "A5")
    assert best(box, view, 2) in (["A2", "A3"], ["A3", "A4"])


def test_with_the_rule_best_available_never_proposes_a_stranding_hold(box: BoxOffice) -> None:
    """The same room with forbid_single_gaps: 2 together among A2–A4 are refused, 3 are not."""
    layout = ["sssss", "xxxxx", "xxxxx", "sssss", "sssss", "sssss"]
    view = session_in(box, layout, forbid_single_gaps=True)
    hold_rows(box, view, "DEF", 5)
    hold(box, view, "A1")
    hold(box, view, "A5")
    with pytest.raises(NotEnoughSeats) as refused:
        best(box, view, 2)
    assert refused.value.details == {"available": 3}
    assert best(box, view, 3) == ["A2", "A3", "A4"]


def test_couple_seats_are_sold_whole_and_only_to_who_asks(box: BoxOffice) -> None:
    """Without a category a request gets no couple seat nor a wheelchair space; asking for
    couple seats gets whole ones."""
    view = session_in(box, ["cc_ssss_cc", "wxss_ssww", "ssss_ssss"])
    ordinary = best(box, view, 4, together=False)
    assert all(label[0] in "BC" and label not in ("B1", "B7", "B8") for label in ordinary)
    couples = best(box, view, 2, category="couple")
    assert couples in (["A1", "A2"], ["A7", "A8"])
    assert best(box, view, 1, category="accessible")[0] in ("B1", "B7", "B8")
    with pytest.raises(ValidationFailed) as odd:
        best(box, view, 3, category="couple")
    assert set(odd.value.fields) == {"count"}


def test_seats_not_together_are_the_best_ones_one_by_one(box: BoxOffice) -> None:
    """No two adjacent seats left: together refuses, apart takes the two best singles."""
    view = new_session(box)
    hold_rows(box, view, "CD", 4)
    hold(box, view, "A2", "A4", "B1", "B3")
    with pytest.raises(NotEnoughSeats) as refused:
        best(box, view, 2)
    assert refused.value.details == {"available": 4}
    assert best(box, view, 2, together=False) == ["A3", "B2"]


def test_a_category_narrows_the_choice(box: BoxOffice) -> None:
    """Asking for premium gets premium seats, even when standard ones score better."""
    view = session_in(box, ["pppp", "ssss", "ssss", "ssss"])
    assert best(box, view, 2, category="premium") == ["A1", "A2"]
    assert best(box, view, 2) == ["C1", "C2"]


@pytest.mark.parametrize(
    ("wish", "fields"),
    [
        ({"count": 0}, {"count"}),
        ({"count": 11}, {"count"}),
        ({"count": 2, "category": "vip"}, {"category"}),
    ],
)
def test_bad_wishes_name_their_fields(
    box: BoxOffice, session: SessionView, wish: dict[str, object], fields: set[str]
) -> None:
    """A count outside 1–10 or an unknown category is refused before any seat is tried."""
    with pytest.raises(ValidationFailed) as refused:
        box.reserve_best("u1", session.session.id, **wish)  # type: ignore[arg-type]
    assert set(refused.value.fields) == fields


def test_tickets_are_checked_and_assigned_in_label_order(
    box: BoxOffice, session: SessionView
) -> None:
    """Best available takes ticket types as a hand-picked hold does, quota included."""
    held = box.reserve_best("u1", session.session.id, 2, tickets={"half": 1})
    assert [(str(line.seat), line.ticket) for line in held.lines] == [
        ("C1", "half"),
        ("C2", "full"),
    ]
    assert str(held.amount) == "37.50"
    with pytest.raises(UnknownTicketType):
        box.reserve_best("u1", session.session.id, 2, tickets={"vip": 1})
    with pytest.raises(ValidationFailed):
        box.reserve_best("u1", session.session.id, 2, tickets={"half": 3})
    box.reserve_best("u2", session.session.id, 4, together=False, tickets={"half": 4})
    with pytest.raises(TicketQuotaExhausted):  # 40 % of 16 is 6 half-price seats
        box.reserve_best("u3", session.session.id, 2, tickets={"half": 2})
    assert box.session(session.session.id).available == 10


def test_the_readme_picture_is_what_seven_requests_get(box: BoxOffice) -> None:
    """The README's grid: seven requests in a row in a 7-row room with aisles."""
    layout = ["w___ssssssss___w"] + ["sss_ssssssss_sss"] * 2 + ["sss_pppppppp_sss"] * 2
    view = session_in(box, [*layout, "sss_ssssssss_sss", "cc_ssssssssss_cc"])
    wishes: list[dict[str, object]] = [
        {"count": 4},
        {"count": 2},
        {"count": 3},
        {"count": 2, "category": "couple"},
        {"count": 1, "category": "accessible"},
        {"count": 3, "category": "standard"},
        {"count": 4, "together": False},
    ]
    got = [" ".join(best(box, view, **wish)) for wish in wishes]  # type: ignore[arg-type]
    assert got == [
        "E6 E7 E8 E9",
        "D7 D8",
        "D4 D5 D6",
        "G1 G2",
        "A1",
        "F6 F7 F8",
        "C7 D9 E4 E5",
    ]
