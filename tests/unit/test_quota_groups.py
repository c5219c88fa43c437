"""Brazil's meia-entrada as the law writes it: quota groups, the default types, documents and
age ratings at the door, and the quotas a session and its seat map show at every instant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema_core import (
    BoxOffice,
    Money,
    SessionView,
    TicketQuotaExhausted,
    TicketType,
    ValidationFailed,
)
from tests.unit.conftest import HOLD

STUDENT = TicketType("student", "Estudante", 50, 40, "meia", "Carteira de Identificação Estudantil")
DISABLED = TicketType("pcd", "PcD", 50, 40, "meia", "Cartão BPC")
FULL = TicketType("full", "Inteira", 100)


def session_of(box: BoxOffice, *types: TicketType, rating: str = "L") -> SessionView:
    """A session of 4 × 5 = 20 seats (a 40 % group is 8 of them)."""
    return box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=box.clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
        rows=4,
        seats_per_row=5,
        ticket_types=types,
        rating=rating,
    )


def test_the_default_types_are_full_half_in_group_meia_and_senior_outside_it(
    box: BoxOffice,
) -> None:
    """Inteira, meia-entrada (group meia, 40 %, student card) and 60+ (50 %, no quota)."""
    view = box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=box.clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
        rows=4,
        seats_per_row=5,
    )
    full, half, senior = view.session.ticket_types
    assert (full.code, full.percent, full.group, full.document) == ("full", 100, None, None)
    assert (half.code, half.percent, half.quota_percent, half.group) == ("half", 50, 40, "meia")
    assert half.document == "Carteira de Identificação Estudantil (CIE)"
    assert (senior.code, senior.percent, senior.quota_percent) == ("senior", 50, None)
    assert senior.document == "Documento de identidade com foto"
    assert {group: (q.limit, q.used, q.left) for group, q in view.quotas.items()} == {
        "meia": (8, 0, 8)
    }
    assert view.session.rating == "L"


def test_a_type_with_a_quota_and_no_group_is_its_own_group(box: BoxOffice) -> None:
    """Today's behaviour: the type's code names its quota."""
    view = session_of(box, FULL, TicketType("half", "Meia", 50, 40))
    assert list(view.quotas) == ["half"]
    box.reserve("u1", view.session.id, ["A1"], {"half": 1})
    assert box.session(view.session.id).quotas["half"].used == 1


def test_types_of_one_group_share_its_quota(box: BoxOffice) -> None:
    """8 seats of 20 for students and people with disabilities together; the 9th is refused,
    naming the group and what is left of it."""
    session = session_of(box, FULL, STUDENT, DISABLED).session
    box.reserve("u1", session.id, ["A1", "A2", "A3", "A4", "A5"], {"student": 5})
    box.reserve("u2", session.id, ["B1", "B2", "B3"], {"pcd": 3})
    with pytest.raises(TicketQuotaExhausted) as refused:
        box.reserve("u3", session.id, ["C1"], {"pcd": 1})
    assert refused.value.details == {"ticket": "pcd", "remaining": 0, "quota_group": "meia"}
    with pytest.raises(TicketQuotaExhausted):
        box.reserve("u3", session.id, ["C1"], {"student": 1})
    assert box.reserve("u3", session.id, ["C1"]).lines[0].ticket == "full"


def test_one_hold_of_two_types_of_a_group_counts_them_together(box: BoxOffice) -> None:
    """5 students and 4 with disabilities in one hold pass 8 together: refused whole."""
    session = session_of(box, FULL, STUDENT, DISABLED).session
    labels = ["A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4"]
    with pytest.raises(TicketQuotaExhausted) as refused:
        box.reserve("u1", session.id, labels, {"student": 5, "pcd": 4})
    assert refused.value.details["remaining"] == 8
    assert box.session(session.id).quotas["meia"].used == 0


def test_a_change_of_a_hold_counts_its_group_once(box: BoxOffice) -> None:
    """A hold's own seats of the group count once when it swaps one type of it for another."""
    session = session_of(box, FULL, STUDENT, DISABLED).session
    held = box.reserve("u1", session.id, ["A1", "A2", "A3", "A4"], {"student": 4})
    box.reserve("u2", session.id, ["B1", "B2", "B3", "B4"], {"pcd": 4})
    changed = box.change(held.id, "u1", ["A1", "A2", "A3", "A4"], {"pcd": 4})
    assert {line.ticket for line in changed.lines} == {"pcd"}
    with pytest.raises(TicketQuotaExhausted):
        box.change(held.id, "u1", ["A1", "A2", "A3", "A4", "A5"], {"pcd": 4, "student": 1})


def test_types_of_one_group_must_agree_on_its_quota(box: BoxOffice) -> None:
    """Two quota_percent for one group is 422 naming the second type."""
    other = TicketType("pcd", "PcD", 50, 30, "meia")
    with pytest.raises(ValidationFailed) as refused:
        session_of(box, FULL, STUDENT, other)
    assert "ticket_types.2.quota_percent" in refused.value.fields


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (TicketType("half", "Meia", 50, 40, "Meia!"), "ticket_types.1.quota_group"),
        (TicketType("half", "Meia", 50, None, "meia"), "ticket_types.1.quota_group"),
        (TicketType("half", "Meia", 50, 40, "meia", ""), "ticket_types.1.document"),
        (TicketType("half", "Meia", 50, 40, "meia", "x" * 121), "ticket_types.1.document"),
    ],
)
def test_a_bad_group_or_document_is_refused(box: BoxOffice, kind: TicketType, field: str) -> None:
    """A group is a code with a quota; a document is 1 to 120 characters."""
    with pytest.raises(ValidationFailed) as refused:
        session_of(box, FULL, kind)
    assert field in refused.value.fields


def test_quotas_are_true_at_every_instant_and_a_lapsed_hold_counts_for_nothing(
    box: BoxOffice,
) -> None:
    """Holds count on the session and its seat map; a hold past its expiry does not, at once."""
    session = session_of(box, FULL, STUDENT, DISABLED).session
    box.reserve("u1", session.id, ["A1", "A2"], {"student": 2})
    box.clock.advance(seconds=HOLD.total_seconds() / 2)
    box.reserve("u2", session.id, ["B1"], {"pcd": 1})
    for quotas in (box.session(session.id).quotas, box.seat_map(session.id).quotas):
        assert (quotas["meia"].used, quotas["meia"].left) == (3, 5)
    box.clock.advance(seconds=HOLD.total_seconds() / 2)
    for quotas in (box.session(session.id).quotas, box.seat_map(session.id).quotas):
        assert (quotas["meia"].used, quotas["meia"].left) == (1, 7)
    assert box.sessions().items[0].quotas["meia"].used == 1


def test_a_session_is_rated_L_unless_told_and_only_with_classind_ratings(
    box: BoxOffice,
) -> None:
    """L, 10, 12, 14, 16 or 18; anything else is 422 on rating, created or changed."""
    assert session_of(box, FULL).session.rating == "L"
    rated = session_of(box, FULL, rating="16")
    assert rated.session.rating == "16"
    with pytest.raises(ValidationFailed) as refused:
        session_of(box, FULL, rating="15")
    assert list(refused.value.fields) == ["rating"]
    assert box.change_session(rated.session.id, rating="18").session.rating == "18"
    with pytest.raises(ValidationFailed):
        box.change_session(rated.session.id, rating="A")
    assert box.session(rated.session.id).session.rating == "18"


def test_a_check_in_says_what_the_door_must_check(box: BoxOffice) -> None:
    """The ticket type's document and the session's least age; nothing for inteira at L."""
    rated = session_of(box, FULL, STUDENT, rating="14").session
    free = session_of(box, FULL, STUDENT).session
    checks = []
    for session in (rated, free):
        held = box.reserve("u1", session.id, ["A1", "A2"], {"student": 1})
        sale, _ = box.pay(held.id, "u1")
        for ticket in box.tickets(sale.id, "u1"):
            admitted = box.admit(ticket.code, session.id)
            checks.append((admitted.ticket.ticket, admitted.checks.document, admitted.checks.age))
    assert checks == [
        ("student", STUDENT.document, "14"),
        ("full", None, "14"),
        ("student", STUDENT.document, None),
        ("full", None, None),
    ]
