"""Tickets and the door: one ticket per sold seat, a code nobody can guess, one check-in."""

from __future__ import annotations

from uuid import uuid4

import pytest

from cinema_core import (
    AlreadyCheckedIn,
    BoxOffice,
    ManualClock,
    SaleNotFound,
    SeatLabel,
    SessionView,
    TicketNotFound,
    TicketRefunded,
    TicketStatus,
    WrongSession,
)
from cinema_core.after_sale.admissions import MAX_CODE
from cinema_core.kernel.times import iso
from tests.unit.conftest import new_session
from tests.unit.test_refunds import buy


def test_a_sale_issues_one_ticket_per_seat(box: BoxOffice, session: SessionView) -> None:
    """Each seat of the sale gets a valid ticket with its line's type and price."""
    sale = buy(box, session, ["A2", "A1"], tickets={"half": 1})
    tickets = box.tickets(sale.id, "u1")
    assert [t.seat for t in tickets] == [SeatLabel("A", 1), SeatLabel("A", 2)]
    assert [t.ticket for t in tickets] == ["half", "full"]
    assert [str(t.price) for t in tickets] == ["12.50", "25.00"]
    assert {t.sale_id for t in tickets} == {sale.id}
    assert {t.session_id for t in tickets} == {session.session.id}
    assert {t.status for t in tickets} == {TicketStatus.VALID}
    assert all(t.checked_in_at is None for t in tickets)


def test_codes_are_long_random_and_distinct(box: BoxOffice, session: SessionView) -> None:
    """Codes carry 192 random bits, are URL-safe, within the contract's 200 characters, and
    contain nothing else the API shows (no id, no seat)."""
    sale = buy(box, session, [f"B{n}" for n in range(1, 5)])
    tickets = box.tickets(sale.id, "u1")
    codes = [t.code for t in tickets]
    assert len(set(codes)) == 4
    for ticket in tickets:
        assert len(ticket.code) == 32 <= MAX_CODE
        assert set(ticket.code) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
        for shown in (str(ticket.id), str(ticket.sale_id), str(ticket.seat)):
            assert shown not in ticket.code


def test_tickets_are_shown_only_to_the_buyer_or_an_admin(
    box: BoxOffice, session: SessionView
) -> None:
    """Another user asking for a sale's tickets, or one ticket, is told there is none."""
    sale = buy(box, session, ["A1"])
    ticket = box.tickets(sale.id, "u1")[0]
    with pytest.raises(SaleNotFound):
        box.tickets(sale.id, "u2")
    with pytest.raises(TicketNotFound):
        box.ticket(ticket.id, "u2")
    with pytest.raises(TicketNotFound):
        box.ticket(uuid4(), "u1")
    assert box.ticket(ticket.id, "root", admin=True) == ticket
    assert box.tickets(sale.id, "root", admin=True) == [ticket]


def test_a_ticket_checks_in_once(box: BoxOffice, session: SessionView, clock: ManualClock) -> None:
    """The first scan lets in and says when; the second says already_checked_in and when."""
    sale = buy(box, session, ["A1"])
    code = box.tickets(sale.id, "u1")[0].code
    first = box.check_in(code)
    assert first.checked_in_at == clock.now()
    assert first.status is TicketStatus.USED
    clock.advance(60)
    with pytest.raises(AlreadyCheckedIn) as refused:
        box.check_in(code, session.session.id)
    assert refused.value.details == {"checked_in_at": iso(first.checked_in_at)}
    assert box.tickets(sale.id, "u1")[0].status is TicketStatus.USED


def test_unknown_and_forged_codes_are_not_found(box: BoxOffice, session: SessionView) -> None:
    """A code the box office never gave out, however it looks, is ticket_not_found."""
    sale = buy(box, session, ["A1"])
    real = box.tickets(sale.id, "u1")[0].code
    for forged in ("", "x", real[:-1], real + "A", real.upper(), "A" * 201):
        with pytest.raises(TicketNotFound):
            box.check_in(forged)
    assert box.check_in(real).seat == SeatLabel("A", 1)


def test_a_refunded_ticket_is_refused_at_the_door(box: BoxOffice, session: SessionView) -> None:
    """After a refund the ticket reads refunded and scanning it is ticket_refunded."""
    sale = buy(box, session, ["A1", "A2"])
    a1, a2 = box.tickets(sale.id, "u1")
    box.refund(sale.id, "u1", ["A1"])
    with pytest.raises(TicketRefunded):
        box.check_in(a1.code)
    assert [t.status for t in box.tickets(sale.id, "u1")] == ["refunded", "valid"]
    box.check_in(a2.code)


def test_a_door_admits_only_its_own_session(box: BoxOffice, session: SessionView) -> None:
    """A door that names another session refuses the ticket with wrong_session and its session."""
    other = new_session(box, days=31)
    sale = buy(box, session, ["A1"])
    code = box.tickets(sale.id, "u1")[0].code
    with pytest.raises(WrongSession) as refused:
        box.check_in(code, other.session.id)
    assert refused.value.details == {"session_id": str(session.session.id)}
    assert box.tickets(sale.id, "u1")[0].checked_in_at is None


def test_a_check_in_emits_ticket_checked_in(box: BoxOffice, session: SessionView) -> None:
    """ticket.checked_in names the ticket, its sale, session, seat and the instant."""
    sale = buy(box, session, ["C4"])
    ticket = box.check_in(box.tickets(sale.id, "u1")[0].code)
    (_, event), *_ = box.repo.events(type=None, session_id=None, before=None, limit=1)
    assert event.type == "ticket.checked_in"
    assert ticket.checked_in_at is not None
    assert event.data == {
        "ticket_id": str(ticket.id),
        "sale_id": str(sale.id),
        "session_id": str(session.session.id),
        "seat": "C4",
        "checked_in_at": iso(ticket.checked_in_at),
    }


def test_a_resold_seat_gets_a_new_ticket_and_the_old_stays_refunded(
    box: BoxOffice, session: SessionView
) -> None:
    """A1 refunded and sold again: the new buyer's ticket is valid, the old one refunded."""
    first = buy(box, session, ["A1"])
    old = box.tickets(first.id, "u1")[0]
    box.refund(first.id, "u1")
    second = buy(box, session, ["A1"], user="u2")
    new = box.tickets(second.id, "u2")[0]
    assert new.code != old.code
    assert box.check_in(new.code).sale_id == second.id
    with pytest.raises(TicketRefunded):
        box.check_in(old.code)
