"""Reports: how full a session is and what it earned, and sales per day, net of refunds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cinema_core import BoxOffice, Category, DailySales, ManualClock, Money
from tests.conftest import new_session
from tests.unit.test_refunds import buy


def test_a_session_report_counts_seats_tickets_and_money(
    box: BoxOffice, clock: ManualClock
) -> None:
    """Seats by status, check-ins, revenue net of refunds, per category and per ticket type."""
    room = box.create_room(
        cinema="Centro", name="Sala 1", layout=["sxsss", "sssss", "pppp", "ccss"]
    )
    view = box.create_session(
        movie="Filme X",
        room_id=room.id,
        starts_at=clock.now() + timedelta(days=1),
        prices={
            Category.STANDARD: Money(2000),
            Category.PREMIUM: Money(4000),
            Category.COUPLE: Money(3000),
        },
    )
    sale = buy(box, view, ["A1", "C1", "D1", "D2"], tickets={"half": 1})
    box.reserve("u2", view.session.id, ["B1"])
    box.refund(sale.id, "u1", ["C1"])
    box.check_in(box.tickets(sale.id, "u1")[0].code)  # A1, half price

    report = box.session_report(view.session.id)
    assert (report.seat_count, report.blocked) == (17, 1)
    assert (report.sold, report.held, report.available) == (3, 1, 13)
    assert report.checked_in == 1
    assert report.revenue == Money(1000 + 6000)
    assert report.refunded == Money(4000)
    assert {c: (f.seats, f.sold, str(f.revenue)) for c, f in report.by_category.items()} == {
        Category.STANDARD: (11, 1, "10.00"),
        Category.PREMIUM: (4, 0, "0.00"),
        Category.COUPLE: (2, 2, "60.00"),
    }
    assert {t: (f.sold, str(f.revenue)) for t, f in report.by_ticket.items()} == {
        "full": (2, "60.00"),
        "half": (1, "10.00"),
        "senior": (0, "0.00"),
    }


def test_lapsed_holds_count_as_available_in_the_report(box: BoxOffice, clock: ManualClock) -> None:
    """A hold past its expiry is no longer held, whether or not the sweeper ran."""
    view = new_session(box, days=1)
    box.reserve("u1", view.session.id, ["A1", "A2"])
    assert box.session_report(view.session.id).held == 2
    clock.advance(box.hold.total_seconds())
    report = box.session_report(view.session.id)
    assert (report.held, report.available) == (0, 16)


def test_sales_are_reported_by_day_of_payment_cinema_and_movie(
    box: BoxOffice, clock: ManualClock
) -> None:
    """Each day's sales per cinema and movie: sessions, tickets left and revenue left."""
    clock.set(datetime(2026, 11, 1, 23, 30, tzinfo=UTC))
    rooms = {
        name: box.create_room(cinema=name, name="Sala 1", layout=["ssss"] * 4)
        for name in ("Centro", "Norte")
    }

    def session(cinema: str, movie: str, days: int) -> object:
        return box.create_session(
            movie=movie,
            room_id=rooms[cinema].id,
            starts_at=datetime(2026, 12, 1, 19, tzinfo=UTC) + timedelta(days=days),
            price=Money(2500),
        )

    x1, x2, y = session("Centro", "X", 0), session("Centro", "X", 1), session("Norte", "Y", 0)
    first = buy(box, x1, ["A1", "A2"])  # type: ignore[arg-type]
    buy(box, x2, ["A1"])  # type: ignore[arg-type]
    clock.advance(3600)  # 00:30 on 2 November
    buy(box, y, ["A1"], tickets={"half": 1})  # type: ignore[arg-type]
    box.refund(first.id, "u1", ["A2"])
    buy(box, x1, ["A2"], user="u2")  # type: ignore[arg-type]

    assert box.sales_report() == [
        DailySales(date(2026, 11, 1), "Centro", "X", 2, 2, Money(5000)),
        DailySales(date(2026, 11, 2), "Centro", "X", 1, 1, Money(2500)),
        DailySales(date(2026, 11, 2), "Norte", "Y", 1, 1, Money(1250)),
    ]
    assert box.sales_report(cinema="Norte") == [
        DailySales(date(2026, 11, 2), "Norte", "Y", 1, 1, Money(1250))
    ]
    assert box.sales_report(paid_before=datetime(2026, 11, 2, tzinfo=UTC)) == [
        DailySales(date(2026, 11, 1), "Centro", "X", 2, 2, Money(5000))
    ]
    assert box.sales_report(paid_from=datetime(2026, 11, 3, tzinfo=UTC)) == []
