"""Reports agree with the sales, always: random histories of holds, sales, refunds and check-ins,
kept in a ledger of the test's own, and every report figure compared with it, on every store.

The ledger knows only what the box office answered (each sale's lines, each refund's seats, each
check-in), and what it predicts a request should get; the reports are the store's own counts.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import attrs
import pytest

from cinema_core import (
    AlreadyCheckedIn,
    AlreadyRefunded,
    BoxOffice,
    Category,
    CoupleSeatSplit,
    DailySales,
    ManualClock,
    Money,
    SeatStatus,
    SeatsUnavailable,
    Session,
    TicketQuotaExhausted,
    TicketRefunded,
    TicketUsed,
    WrongSession,
)
from tests.contract.goods_ledger import Sold, expected_goods, goods_history
from tests.contract.test_repo_port import NoSeatLock

STEPS = 70
LAYOUT = ["ssss_ssss", "ssss_ssss", "pppp_pppp", "cc_ssxs_cc", "wwss"]
PRICES = {
    Category.STANDARD: Money(2500),
    Category.PREMIUM: Money(4000),
    Category.COUPLE: Money(3000),
    Category.ACCESSIBLE: Money(2000),
}


@attrs.define
class Line:
    """One ticket as the ledger knows it."""

    session: Session
    seat: str
    category: str
    ticket: str
    cents: int
    paid: date
    code: str
    refunded: bool = False
    checked_in: bool = False


@attrs.define
class Ledger:
    lines: dict[tuple[UUID, str], Line] = attrs.Factory(dict)  # (sale id, seat)
    holds: list[tuple[UUID, list[str], datetime]] = attrs.Factory(list)

    def sale(self, sale_id: UUID) -> list[Line]:
        return [line for (id, _), line in sorted(self.lines.items()) if id == sale_id]


def history(box: BoxOffice, clock: ManualClock, rng: random.Random) -> tuple[Ledger, list[Any]]:
    """A random history; returns the ledger and the sessions it ran on."""
    rooms = [
        box.create_room(cinema=cinema, name="Sala 1", layout=LAYOUT)
        for cinema in ("Centro", "Norte")
    ]
    start = clock.now() + timedelta(days=12)
    sessions = [
        box.create_session(
            movie=movie, room_id=room.id, starts_at=start + timedelta(hours=hours), prices=PRICES
        ).session
        for room, movie, hours in (
            (rooms[0], "Filme X", 0),
            (rooms[0], "Filme Y", 3),
            (rooms[0], "Filme X", 6),
            (rooms[1], "Filme X", 0),
        )
    ]
    ledger = Ledger()
    sales: list[UUID] = []
    for _step in range(STEPS):
        action = rng.choices(["buy", "hold", "refund", "scan", "wait"], [5, 2, 3, 3, 3])[0]
        session = rng.choice(sessions)
        if action in ("buy", "hold"):
            seat_map = box.seat_map(session.id)
            free = [
                str(label) for label, status in seat_map.seats if status is SeatStatus.AVAILABLE
            ]
            wanted = set(rng.sample(free, min(len(free), rng.randint(1, 4))))
            for label in list(wanted):
                seat = session.seat(_label(label))
                if seat is not None and seat.pair is not None:
                    if str(seat.pair) in free:
                        wanted.add(str(seat.pair))
                    else:
                        wanted.discard(label)
            if not wanted or len(wanted) > 10:
                continue
            tickets = {"half": rng.randint(0, len(wanted))}
            user = f"u{rng.randint(1, 5)}"
            try:
                reservation = box.reserve(user, session.id, sorted(wanted), tickets)
            except (TicketQuotaExhausted, SeatsUnavailable):
                continue
            if action == "hold":
                ledger.holds.append((session.id, sorted(wanted), reservation.expires_at))
                continue
            sale, _ = box.pay(reservation.id, user)
            sales.append(sale.id)
            for ticket in box.tickets(sale.id, user):
                line = next(x for x in sale.lines if x.seat == ticket.seat)
                ledger.lines[(sale.id, str(ticket.seat))] = Line(
                    session,
                    str(ticket.seat),
                    str(line.category),
                    line.ticket,
                    line.price.cents,
                    sale.paid_at.astimezone(UTC).date(),
                    ticket.code,
                )
        elif action == "refund" and sales:
            sale_id = rng.choice(sales)
            mine = ledger.sale(sale_id)
            named = (
                None
                if rng.random() < 0.3
                else rng.sample([x.seat for x in mine], rng.randint(1, len(mine)))
            )
            expected = predicted_refund(mine, named)
            user = box.repo.get_sale(sale_id).user_id
            outcome: Any
            try:
                outcome = box.refund(sale_id, user, named)
            except (AlreadyRefunded, TicketUsed, CoupleSeatSplit) as refused:
                outcome = refused
            if not isinstance(expected, list):
                assert type(outcome) is expected, (named, mine)
                continue
            assert sorted(str(label) for label in outcome.seats) == expected
            for label in expected:
                ledger.lines[(sale_id, label)].refunded = True
        elif action == "scan" and ledger.lines:
            line = rng.choice(list(ledger.lines.values()))
            door = rng.choice([None, line.session.id, line.session.id, rng.choice(sessions).id])
            try:
                box.check_in(line.code, door)
            except (AlreadyCheckedIn, TicketRefunded, WrongSession) as refused:
                if isinstance(refused, WrongSession):
                    assert door not in (None, line.session.id)
                else:
                    assert line.checked_in or line.refunded
                continue
            assert not (line.checked_in)
            assert not (line.refunded)
            assert door in (None, line.session.id)
            line.checked_in = True
        elif action == "wait":
            clock.advance(
                hours=rng.uniform(0, 20) if rng.random() < 0.7 else 0, seconds=rng.uniform(0, 40)
            )
    return ledger, sessions


def _label(text: str) -> Any:
    from cinema_core import SeatLabel

    return SeatLabel.parse(text)


def predicted_refund(mine: list[Line], named: list[str] | None) -> list[str] | type:
    """What a refund of ``named`` seats (or the rest) of a sale should get, by the rules."""
    live = [x for x in mine if not x.refunded]
    chosen = live if named is None else [x for x in mine if x.seat in named]
    if not chosen or any(x.refunded for x in chosen):
        return AlreadyRefunded
    if any(x.checked_in for x in chosen):
        return TicketUsed
    wanted = {x.seat for x in chosen}
    staying = {x.seat for x in live} - wanted
    for x in chosen:
        seat = x.session.seat(_label(x.seat))
        if seat.pair is not None and str(seat.pair) in staying:
            return CoupleSeatSplit
    return sorted(wanted, key=lambda s: (s[0], int(s[1:])))


def expected_session_report(session: Session, ledger: Ledger, now: datetime) -> dict[str, Any]:
    mine = [x for x in ledger.lines.values() if x.session.id == session.id]
    live = [x for x in mine if not x.refunded]
    held = sum(len(seats) for id, seats, until in ledger.holds if id == session.id and now < until)
    return {
        "seat_count": session.seat_count,
        "sold": len(live),
        "held": held,
        "available": session.seat_count - len(live) - held,
        "blocked": 1,
        "checked_in": sum(x.checked_in for x in mine),
        "revenue": sum(x.cents for x in live),
        "refunded": sum(x.cents for x in mine if x.refunded),
        "by_category": {
            str(category): (
                seats,
                sum(1 for x in live if x.category == category),
                sum(x.cents for x in live if x.category == category),
            )
            for category, seats in session.room.categories.items()
        },
        "by_ticket": {
            code: (
                sum(1 for x in live if x.ticket == code),
                sum(x.cents for x in live if x.ticket == code),
            )
            for code in ("full", "half", "senior")
        },
    }


def actual_session_report(box: BoxOffice, session: Session) -> dict[str, Any]:
    r = box.session_report(session.id)
    return {
        "seat_count": r.seat_count,
        "sold": r.sold,
        "held": r.held,
        "available": r.available,
        "blocked": r.blocked,
        "checked_in": r.checked_in,
        "revenue": r.revenue.cents,
        "refunded": r.refunded.cents,
        "by_category": {
            str(c): (f.seats, f.sold, f.revenue.cents) for c, f in r.by_category.items()
        },
        "by_ticket": {t: (f.sold, f.revenue.cents) for t, f in r.by_ticket.items()},
    }


def expected_sales(ledger: Ledger, keep: Any = lambda line: True) -> list[DailySales]:
    groups: dict[tuple[date, str, str], list[Line]] = {}
    for line in ledger.lines.values():
        if keep(line):
            key = (line.paid, line.session.room.cinema, line.session.movie)
            groups.setdefault(key, []).append(line)
    return [
        DailySales(
            day,
            cinema,
            movie,
            len({x.session.id for x in lines}),
            sum(1 for x in lines if not x.refunded),
            Money(sum(x.cents for x in lines if not x.refunded)),
        )
        for (day, cinema, movie), lines in sorted(groups.items())
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_report_figure_agrees_with_the_ledger(
    repo: Any, clock: ManualClock, seed: int
) -> None:
    """After a random history, each session's report and the sales report, whole, per cinema
    and over a window of days, equal what the ledger adds up."""
    box = BoxOffice(repo, NoSeatLock(), clock, timedelta(seconds=30))
    ledger, sessions = history(box, clock, random.Random(seed))
    kinds = Counter(
        ("refunded" if x.refunded else "used" if x.checked_in else "valid")
        for x in ledger.lines.values()
    )
    # The history is rich: tickets of every status, sales over several days.
    assert min(kinds[status] for status in ("valid", "used", "refunded")) > 0, kinds
    assert len({x.paid for x in ledger.lines.values()}) >= 3
    now = clock.now()
    for session in sessions:
        assert actual_session_report(box, session) == expected_session_report(session, ledger, now)
    assert box.sales_report() == expected_sales(ledger)
    assert box.sales_report(cinema="Norte") == expected_sales(
        ledger, lambda x: x.session.room.cinema == "Norte"
    )
    days = sorted({x.paid for x in ledger.lines.values()})
    first = datetime.combine(days[0], datetime.min.time(), UTC)
    window = (first + timedelta(days=1), first + timedelta(days=2))
    assert box.sales_report(paid_from=window[0], paid_before=window[1]) == expected_sales(
        ledger, lambda x: x.paid == days[0] + timedelta(days=1)
    )
    # Holds lapse on their own: the report counts them available at once.
    clock.advance(31)
    for session in sessions:
        assert actual_session_report(box, session) == expected_session_report(
            session, ledger, clock.now()
        )


@pytest.mark.parametrize("seed", [4, 5])
def test_the_sales_report_counts_goods_as_the_ledger_does(
    repo: Any, clock: ManualClock, seed: int
) -> None:
    """After random sales carrying products and promo codes, with partial and full refunds,
    each row of the sales report (whole and per cinema) has the products and discounts of its
    sales by code, and its revenue is what they kept (paid minus refunded), to the cent:
    the tickets' revenue plus the products' less the discounts'."""
    box = BoxOffice(repo, NoSeatLock(), clock, timedelta(seconds=30))
    sold, _ = goods_history(box, clock, random.Random(seed))
    assert len({one.paid for one in sold}) >= 2
    for cinema in (None, "Norte"):
        groups: dict[tuple[date, str, str], list[Sold]] = {}
        for one in sold:
            if cinema in (None, one.session.room.cinema):
                key = (one.paid, one.session.room.cinema, one.session.movie)
                groups.setdefault(key, []).append(one)
        rows = box.sales_report(cinema=cinema)
        assert [(r.date, r.cinema, r.movie) for r in rows] == sorted(groups)
        for row in rows:
            mine = groups[(row.date, row.cinema, row.movie)]
            want = expected_goods(mine)
            assert {c: f.standing for c, f in row.products.items()} == {
                c: units - back for c, (units, _, back, _) in want["products"].items()
            }
            assert {c: f.net.cents for c, f in row.products.items()} == {
                c: gross - back for c, (_, gross, _, back) in want["products"].items()
            }
            assert {c: (f.standing, f.net.cents) for c, f in row.discounts.items()} == {
                c: (uses - back, gross - given)
                for c, (uses, gross, back, given) in want["discounts"].items()
            }
            assert row.revenue.cents == want["gross"] - want["refunded"]
            assert row.ticket_revenue.cents == sum(one.tickets_net for one in mine)
            assert row.tickets == sum(len(one.prices) - len(one.refunded_seats) for one in mine)
