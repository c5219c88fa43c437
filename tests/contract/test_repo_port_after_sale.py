"""The ReservationRepo port after the sale: tickets, refunds and check-ins, held to one contract.

Every store must keep a sale's tickets with it, refuse by itself a ticket refunded twice,
checked in twice or both (whatever the use case above decided), let a refunded seat be sold
again while a live sale's seat never is, and serialize concurrent refunds and check-ins of one
ticket so that exactly one wins.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import attrs
import pytest

from cinema_core import (
    AlreadyCheckedIn,
    AlreadyRefunded,
    BoxOffice,
    ManualClock,
    Money,
    Refund,
    Sale,
    SeatLabel,
    SeatsUnavailable,
    SessionView,
    Ticket,
    TicketRefunded,
    TicketStatus,
    TicketUsed,
)
from cinema_core.after_sale.admissions import issue_tickets, new_code
from cinema_core.ports import Transaction
from tests.concurrency import run_together
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock


@pytest.fixture
def box(repo: Any, clock: ManualClock) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), clock, timedelta(seconds=30))


@pytest.fixture
def session(box: BoxOffice) -> SessionView:
    return new_session(box, days=1)


def buy(box: BoxOffice, session: SessionView, *seats: str, user: str = "u1") -> Sale:
    reservation = box.reserve(user, session.session.id, list(seats), {"half": 1})
    return box.pay(reservation.id, user)[0]


def test_a_sale_is_stored_with_one_ticket_per_seat(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """tickets() and get_ticket() give back what the sale issued, in label order."""
    sale = buy(box, session, "B2", "A1")
    found = repo.tickets(sale.id)
    assert [(str(t.seat), t.ticket, str(t.price), t.category) for t in found] == [
        ("A1", "half", "12.50", "standard"),
        ("B2", "full", "25.00", "standard"),
    ]
    assert all(t.paid_at == sale.paid_at and t.status is TicketStatus.VALID for t in found)
    assert repo.get_ticket(found[1].id) == found[1]
    assert repo.get_ticket(uuid4()) is None
    assert repo.tickets(uuid4()) == []


def test_the_store_refuses_a_second_ticket_of_a_live_seat_or_a_code_twice(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """add_tickets: a seat whose ticket is not refunded, or a code given out, is ValueError."""
    sale = buy(box, session, "A1")
    (ticket,) = repo.tickets(sale.id)
    twin = attrs.evolve(ticket, id=uuid4(), code=new_code(), sale_id=uuid4())
    with pytest.raises(ValueError, match="ticket"):
        repo.atomic(lambda tx: tx.add_tickets([twin]))
    copied = attrs.evolve(ticket, id=uuid4(), seat=SeatLabel("D", 4))
    with pytest.raises(ValueError, match="code"):
        repo.atomic(lambda tx: tx.add_tickets([copied]))


def stale_refund(box: BoxOffice, repo: Any, sale: Sale, *seats: str) -> Refund:
    """A refund made by the model from the sale as it was when first read."""
    tickets = repo.tickets(sale.id)
    session = repo.get_session(sale.session_id)
    return Refund.of(
        id=uuid4(),
        sale=sale,
        tickets=tickets,
        seats=list(seats),
        session=session,
        by=sale.user_id,
        admin=False,
        now=box.clock.now(),
        cutoff=box.refund_cutoff,
    )


def test_the_store_itself_refuses_a_second_refund_of_a_ticket(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """add_refund with a refund decided on a stale read: AlreadyRefunded, nothing changes."""
    sale = buy(box, session, "A1", "A2")
    late = stale_refund(box, repo, sale, "A1")
    box.refund(sale.id, "u1", ["A1"])
    with pytest.raises(AlreadyRefunded):
        repo.atomic(lambda tx: tx.add_refund(late))
    assert repo.get_sale(sale.id).refunded == (SeatLabel("A", 1),)


def test_the_store_itself_refuses_a_refund_of_a_used_ticket_and_the_reverse(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """A refund decided before a check-in committed is TicketUsed; a check-in decided before a
    refund committed is TicketRefunded."""
    sale = buy(box, session, "A1", "A2")
    a1, a2 = repo.tickets(sale.id)
    late_refund = stale_refund(box, repo, sale, "A1")
    box.check_in(a1.code)
    with pytest.raises(TicketUsed):
        repo.atomic(lambda tx: tx.add_refund(late_refund))
    a2.check_in(box.clock.now())
    box.refund(sale.id, "u1", ["A2"])
    with pytest.raises(TicketRefunded):
        repo.atomic(lambda tx: tx.check_in(a2))
    assert [t.status for t in repo.tickets(sale.id)] == ["used", "refunded"]


def test_the_store_itself_refuses_a_second_check_in(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """check_in with a ticket read before another check-in committed: AlreadyCheckedIn, and
    the first instant stays."""
    sale = buy(box, session, "A1")
    (stale,) = repo.tickets(sale.id)
    first = box.check_in(stale.code)
    clock.advance(5)
    stale.check_in(clock.now())
    with pytest.raises(AlreadyCheckedIn):
        repo.atomic(lambda tx: tx.check_in(stale))
    assert repo.get_ticket(stale.id).checked_in_at == first.checked_in_at


def test_lock_ticket_finds_a_ticket_by_its_code_only(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """The exact code finds it; anything else finds nothing."""
    sale = buy(box, session, "A1")
    (ticket,) = repo.tickets(sale.id)

    def find(code: str) -> Ticket | None:
        found: Ticket | None = repo.atomic(lambda tx: tx.lock_ticket(code))
        return found

    assert find(ticket.code) == ticket
    assert find(ticket.code.upper() if ticket.code.upper() != ticket.code else "x") is None
    assert find(ticket.code + " ") is None


def test_a_refunded_seat_can_be_sold_again_but_a_live_one_never(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """After a refund the store takes a new sale of the seat, and refuses a third."""
    first = buy(box, session, "A1", "A2")
    box.refund(first.id, "u1", ["A1"])
    second = buy(box, session, "A1", user="u2")
    assert [str(t.seat) for t in repo.tickets(second.id)] == ["A1"]
    seats = {str(s.label): s.sale_id for s in repo.seats(session.session.id) if s.sale_id}
    assert seats == {"A1": second.id, "A2": first.id}
    # A reservation of the store's own (the database checks its key), sold as A1 by mistake.
    other = box.reserve("u3", session.session.id, ["D4"])
    third = Sale(uuid4(), other.id, session.session.id, "u3", second.lines, clock.now())

    def sell_again(tx: Transaction) -> None:
        tx.add_sale(third)
        tx.add_tickets(issue_tickets(third, uuid4, new_code))

    with pytest.raises(SeatsUnavailable):
        repo.atomic(sell_again)


def test_ten_scanners_of_one_code_let_one_in(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """Ten concurrent check-ins of one ticket: one succeeds, nine are already_checked_in."""
    sale = buy(box, session, "A1")
    code = repo.tickets(sale.id)[0].code
    results = run_together(10, lambda i: box.check_in(code))
    assert sum(isinstance(r, Ticket) for r in results) == 1
    assert sum(isinstance(r, AlreadyCheckedIn) for r in results) == 9


def test_concurrent_refunds_of_one_seat_refund_it_once(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """Two refunds of A1 at once, five times over: one refund each time, the other refused."""
    for number in range(1, 6):
        sale = buy(box, session, f"C{number}" if number < 5 else "D1")
        results = run_together(2, lambda i, s=sale: box.refund(s.id, "u1"))
        assert sorted(type(r).__name__ for r in results) == ["AlreadyRefunded", "Refund"]
        assert repo.get_sale(sale.id).refunded_amount == Money(1250)


def test_a_refund_racing_a_check_in_of_its_seat_ends_in_one_outcome(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """Refund and check-in of one ticket at once: the ticket ends used or refunded, never
    both, and the loser is told why."""
    for number in range(1, 5):
        sale = buy(box, session, f"B{number}")
        code = repo.tickets(sale.id)[0].code
        refund, scan = run_together(
            2, lambda i, s=sale, c=code: box.refund(s.id, "u1") if i == 0 else box.check_in(c)
        )
        (ticket,) = repo.tickets(sale.id)
        if isinstance(refund, Refund):
            assert isinstance(scan, TicketRefunded), scan
            assert ticket.status is TicketStatus.REFUNDED
        else:
            assert isinstance(refund, TicketUsed), refund
            assert isinstance(scan, Ticket)
            assert ticket.status is TicketStatus.USED
