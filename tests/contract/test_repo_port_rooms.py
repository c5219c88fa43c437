"""The ReservationRepo port, continued (same suite, same registry): rooms and their layouts,
sessions that never overlap in a room, ticket quotas, the session filters, and the lines of
reservations and sales.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from cinema_core import (
    Category,
    ManualClock,
    Money,
    Room,
    RoomBusy,
    RoomExists,
    SeatLabel,
    SeatStatus,
    Session,
    SessionFilter,
    TicketType,
)
from cinema_core.kernel.pagination import Cursor
from cinema_core.ports import Transaction
from cinema_core.selling.ticket_types import Line
from tests.contract.test_repo_port import (
    a_session,
    hold,
    labels,
    new_session,
    rectangle,
    sell,
)

# 21 seats for sale: gaps (_), blocked seats (x, A4 and C2), couples (B1+B2, B3+B4), every
# category.
LAYOUT = ("sss_xss", "cccc_ss", "wxss_ssw", "pppp")
PRICES = {
    Category.STANDARD: Money(2500),
    Category.PREMIUM: Money(4000),
    Category.COUPLE: Money(3000),
    Category.ACCESSIBLE: Money(2000),
}
EVENING = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def new_room(repo: Any, cinema: str = "Centro", name: str = "Sala 1") -> Room:
    room = Room.create(id=uuid4(), cinema=cinema, name=name, layout=LAYOUT)
    repo.atomic(lambda tx: tx.add_room(room))
    return room


def at(
    clock: ManualClock, room: Room, start: datetime, minutes: int = 120, **options: Any
) -> Session:
    """A session (not stored) of ``room`` over [start, start + minutes)."""
    return a_session(
        clock, room=room, starts_in=start - clock.now(), duration_minutes=minutes, **options
    )


def add(repo: Any, session: Session) -> Session:
    repo.atomic(lambda tx: tx.add_session(session))
    return session


# -- rooms ------------------------------------------------------------------------------------


def test_rooms_read_back_as_stored_and_are_listed_by_cinema_then_name(repo: Any) -> None:
    """get_room returns the room; list_rooms orders by cinema, then name, in code-point order
    (capitals before small letters, accents after), and narrows to one cinema exactly."""
    made = [
        new_room(repo, "Centro", "Sala 2"),
        new_room(repo, "Centro", "Sala 10"),
        new_room(repo, "Centro", "sala 1"),
        new_room(repo, "Centro", "Ópera"),
        new_room(repo, "Barra", "Sala 1"),
        new_room(repo, "Centro Sul", "Sala 1"),
    ]
    for room in made:
        assert repo.get_room(room.id) == room
    expected = sorted(made, key=lambda room: (room.cinema, room.name))
    assert [r.name for r in expected[1:5]] == ["Sala 10", "Sala 2", "sala 1", "Ópera"]
    assert repo.list_rooms(None) == expected
    assert repo.list_rooms("Centro") == expected[1:5]
    assert repo.list_rooms("centro") == []
    assert repo.get_room(uuid4()) is None


def test_a_second_room_of_a_name_in_one_cinema_is_refused(repo: Any) -> None:
    """(cinema, name) is unique: RoomExists, and the unit of work that met it goes on; the same
    name in another cinema is a different room."""
    first = new_room(repo, "Centro", "Sala 1")
    with pytest.raises(RoomExists):
        new_room(repo, "Centro", "Sala 1")
    elsewhere = new_room(repo, "Barra", "Sala 1")
    later = Room.create(id=uuid4(), cinema="Centro", name="Sala 2", layout=LAYOUT)

    def work(tx: Transaction) -> str:
        twin = Room.create(id=uuid4(), cinema="Centro", name="Sala 1", layout=LAYOUT)
        with pytest.raises(RoomExists):
            tx.add_room(twin)
        tx.add_room(later)
        with pytest.raises(RoomExists):  # also against a room of this very unit of work
            tx.add_room(Room.create(id=uuid4(), cinema="Centro", name="Sala 2", layout=LAYOUT))
        return "done"

    assert repo.atomic(work) == "done"
    assert repo.list_rooms(None) == [elsewhere, first, later]


def test_private_rooms_share_names_are_never_listed_and_never_busy(
    repo: Any, clock: ManualClock
) -> None:
    """Rooms of the first API shape: one per session, any name, at any time, not listed."""
    one = new_session(repo, clock, room=rectangle(name="Sala 1"))
    two = new_session(repo, clock, room=rectangle(name="Sala 1"))
    assert one.starts_at == two.starts_at
    assert repo.get_room(one.room.id) == one.room
    assert one.room.private
    assert repo.list_rooms(None) == []
    assert repo.list_rooms("") == []
    assert repo.get_session(two.id) == two


# -- sessions in a room never overlap ---------------------------------------------------------


def test_a_session_overlapping_another_in_its_room_is_refused_naming_it(
    repo: Any, clock: ManualClock
) -> None:
    """[starts_at, ends_at) of one room never overlap: RoomBusy with the other's id, and the
    refused session leaves nothing behind."""
    room = new_room(repo)
    evening = add(repo, at(clock, room, EVENING))  # 19:00-21:00
    for start, minutes in ((EVENING, 120), (EVENING + timedelta(hours=1), 30)):
        refused = at(clock, room, start, minutes)
        with pytest.raises(RoomBusy) as busy:
            add(repo, refused)
        assert busy.value.details == {"session_id": str(evening.id)}
        assert repo.get_session(refused.id) is None
        assert repo.seats(refused.id) == []
    # Ends one minute into the evening's session.
    with pytest.raises(RoomBusy):
        add(repo, at(clock, room, EVENING - timedelta(minutes=30), 31))
    # Around it entirely.
    with pytest.raises(RoomBusy):
        add(repo, at(clock, room, EVENING - timedelta(hours=1), 300))
    listed = repo.list_sessions(None, 10, SessionFilter())
    assert listed == [evening]


def test_sessions_that_touch_share_a_room_and_other_rooms_are_free(
    repo: Any, clock: ManualClock
) -> None:
    """One may start at the instant another ends; another room is never busy because of it."""
    room, other = new_room(repo, name="Sala 1"), new_room(repo, name="Sala 2")
    evening = add(repo, at(clock, room, EVENING))
    before = add(repo, at(clock, room, EVENING - timedelta(minutes=90), 90))
    after = add(repo, at(clock, room, evening.ends_at, 1))
    beside = add(repo, at(clock, other, EVENING))
    assert repo.list_sessions(None, 10, SessionFilter()) == sorted(
        [before, evening, beside, after], key=lambda s: (s.starts_at, s.id)
    )
    # Overlapping two at once: the refusal names one of them.
    with pytest.raises(RoomBusy) as busy:
        add(repo, at(clock, room, EVENING + timedelta(minutes=110), 20))
    assert busy.value.details["session_id"] in {str(evening.id), str(after.id)}


def test_two_overlapping_sessions_in_one_unit_of_work_are_refused(
    repo: Any, clock: ManualClock
) -> None:
    """The second of one transaction is refused against the first, and the unit goes on."""
    room = new_room(repo)
    first, second = at(clock, room, EVENING), at(clock, room, EVENING + timedelta(minutes=5))

    def work(tx: Transaction) -> None:
        tx.add_session(first)
        with pytest.raises(RoomBusy) as busy:
            tx.add_session(second)
        assert busy.value.details == {"session_id": str(first.id)}

    repo.atomic(work)
    assert repo.get_session(first.id) == first
    assert repo.get_session(second.id) is None


# -- sessions in rooms with layouts -----------------------------------------------------------


def test_a_session_keeps_its_room_prices_ticket_types_and_options(
    repo: Any, clock: ManualClock
) -> None:
    """Everything a session says reads back equal, from get_session and from listings."""
    room = new_room(repo)
    session = add(
        repo,
        at(
            clock,
            room,
            EVENING,
            95,
            prices=PRICES,
            ticket_types=(
                TicketType("full", "Inteira", 100),
                TicketType("student", "Estudante", 50, quota_percent=20),
                TicketType("kid", "Criança", 30),
            ),
            forbid_single_gaps=True,
        ),
    )
    assert repo.get_session(session.id) == session
    assert repo.list_sessions(None, 10, SessionFilter()) == [session]
    stored = repo.get_session(session.id)
    assert stored.room == room
    assert stored.ends_at == EVENING + timedelta(minutes=95)
    assert stored.price == Money(2000)


def test_seats_of_a_room_with_gaps_blocked_seats_and_couples(repo: Any, clock: ManualClock) -> None:
    """Only seats for sale are stored: every one in label order, blocked seats absent (they
    cannot be locked), numbers skipping gaps only; availability counts seats for sale."""
    session = add(repo, at(clock, new_room(repo), EVENING, prices=PRICES))
    seats = repo.seats(session.id)
    assert [seat.label for seat in seats] == session.labels()
    assert [str(seat.label) for seat in seats] == [
        *("A1", "A2", "A3", "A5", "A6"),
        *("B1", "B2", "B3", "B4", "B5", "B6"),
        *("C1", "C3", "C4", "C5", "C6", "C7"),
        *("D1", "D2", "D3", "D4"),
    ]
    assert all(seat.status_at(clock.now()) is SeatStatus.AVAILABLE for seat in seats)
    assert repo.atomic(lambda tx: tx.lock_seats(session.id, labels("A4", "C2", "C1"))) == [
        seats[11]
    ]
    assert repo.available_counts([session.id], clock.now()) == {session.id: 21}
    hold(repo, session, clock, "B1", "B2", "D4")
    assert repo.available_counts([session.id], clock.now()) == {session.id: 18}


# -- lines ------------------------------------------------------------------------------------


def test_reservation_and_sale_lines_keep_category_ticket_and_price(
    repo: Any, clock: ManualClock
) -> None:
    """Each line (seat, category, ticket, price) reads back as written, in label order; seats
    remember the ticket they are held and then sold as."""
    session = add(repo, at(clock, new_room(repo), EVENING, prices=PRICES))
    held = hold(repo, session, clock, "D1", "B2", "C1", "B1", tickets={"half": 2})
    assert held.lines == (
        Line(SeatLabel("B", 1), Category.COUPLE, "half", Money(1500)),
        Line(SeatLabel("B", 2), Category.COUPLE, "half", Money(1500)),
        Line(SeatLabel("C", 1), Category.ACCESSIBLE, "full", Money(2000)),
        Line(SeatLabel("D", 1), Category.PREMIUM, "full", Money(4000)),
    )
    assert repo.get_reservation(held.id) == held
    assert repo.atomic(lambda tx: tx.lock_reservation(held.id)) == held
    tickets = {str(seat.label): seat.ticket for seat in repo.seats(session.id)}
    assert [tickets[label] for label in ("B1", "B2", "C1", "D1", "A1")] == [
        "half",
        "half",
        "full",
        "full",
        None,
    ]
    sale = sell(repo, held, clock)
    assert sale.amount == Money(9000)
    assert repo.get_sale(sale.id) == sale
    assert repo.get_sale(sale.id).lines == held.lines
    assert repo.purchases("u1", None, 10) == [sale]
    sold = {str(seat.label): seat for seat in repo.seats(session.id)}
    assert (sold["B1"].ticket, sold["B1"].sale_id) == ("half", sale.id)


# -- quotas -----------------------------------------------------------------------------------


def test_quota_usage_counts_sold_and_unlapsed_holds_of_each_type(
    repo: Any, clock: ManualClock
) -> None:
    """Seat.counts_for, in the store: sold as the type, or held as it and not lapsed; lapsed
    holds (not yet swept), other types, other sessions and released holds count nothing."""
    session = new_session(repo, clock)
    other = new_session(repo, clock)
    now = clock.now()
    hold(repo, session, clock, "A1", tickets={"half": 1})  # held until now + 30 s
    hold(repo, session, clock, "A2", tickets={"half": 1}, until=now - timedelta(seconds=1))
    hold(repo, session, clock, "A3", tickets={"half": 1}, until=now)  # lapses exactly now
    sell(repo, hold(repo, session, clock, "B1", "B2", tickets={"half": 2}), clock)
    hold(repo, session, clock, "B3", "B4")  # full
    hold(repo, other, clock, "A1", "A2", tickets={"half": 2})
    released = hold(repo, session, clock, "C1", tickets={"half": 1})

    def release(tx: Transaction) -> None:
        seats = tx.lock_seats(session.id, labels("C1"))
        seats[0].release(released.id)
        tx.save_seats(session.id, seats)

    repo.atomic(release)

    def usage(instant: datetime, *tickets: str) -> dict[str, int]:
        return repo.atomic(lambda tx: tx.quota_usage(session.id, list(tickets), instant))

    assert usage(now, "half", "full", "student") == {"half": 3, "full": 2, "student": 0}
    assert usage(now - timedelta(seconds=1), "half") == {"half": 4}
    assert usage(now + timedelta(seconds=30), "half", "full") == {"half": 2, "full": 0}
    assert repo.atomic(lambda tx: tx.quota_usage(uuid4(), ["half"], now)) == {"half": 0}


def test_quota_usage_counts_the_units_own_holds(repo: Any, clock: ManualClock) -> None:
    """A hold saved earlier in the transaction counts in its own later quota_usage."""
    session = new_session(repo, clock)
    owner = uuid4()

    def work(tx: Transaction) -> dict[str, int]:
        seats = tx.lock_seats(session.id, labels("A1", "A2"))
        for seat in seats:
            seat.hold(owner, clock.now() + timedelta(seconds=30), "half")
        tx.save_seats(session.id, seats)
        return tx.quota_usage(session.id, ["half"], clock.now())

    assert repo.atomic(work) == {"half": 2}


# -- the session filters ----------------------------------------------------------------------


def test_sessions_are_filtered_by_cinema_movie_and_start_bounds(
    repo: Any, clock: ManualClock
) -> None:
    """SessionFilter.admits, in the store: cinema exact; movie a case-insensitive part of the
    title as Python lowers it (accents included), % and _ meaning themselves; both bounds on
    starts_at included; the limit and the cursor count admitted sessions only."""
    centro, sul = new_room(repo, "Centro"), new_room(repo, "Centro Sul")
    titles = ["AÇÃO Total", "Uma ação 100% real", "Under_score", "Under score", "Outro"]
    made = [
        add(repo, at(clock, room, EVENING + timedelta(days=day), movie=title))
        for day, title in enumerate(titles)
        for room in (centro, sul)
    ]
    private = new_session(
        repo, clock, starts_in=EVENING - timedelta(days=1) - clock.now(), movie="Ação privada"
    )

    def listed(where: SessionFilter, after: Cursor | None = None, limit: int = 100) -> list[Any]:
        found = repo.list_sessions(after, limit, where)
        assert [s for s in found if where.admits(s)] == found
        return [(s.movie, s.room.cinema) for s in found]

    assert listed(SessionFilter(cinema="Centro")) == [(t, "Centro") for t in titles]
    assert listed(SessionFilter(cinema="centro")) == []
    assert listed(SessionFilter(cinema="")) == [("Ação privada", "")]
    assert listed(SessionFilter(movie="ação", cinema="Centro Sul")) == [
        ("AÇÃO Total", "Centro Sul"),
        ("Uma ação 100% real", "Centro Sul"),
    ]
    assert [m for m, _ in listed(SessionFilter(movie="AÇÃ"))] == [
        "Ação privada",
        *["AÇÃO Total"] * 2,
        *["Uma ação 100% real"] * 2,
    ]
    assert listed(SessionFilter(movie="0% R", cinema="Centro")) == [
        ("Uma ação 100% real", "Centro")
    ]
    assert listed(SessionFilter(movie="%", cinema="Centro")) == [("Uma ação 100% real", "Centro")]
    assert listed(SessionFilter(movie="r_s", cinema="Centro")) == [("Under_score", "Centro")]
    assert listed(SessionFilter(movie="n%e")) == []
    bounded = SessionFilter(
        cinema="Centro", starts_from=made[2].starts_at, starts_to=made[6].starts_at
    )
    assert listed(bounded) == [(t, "Centro") for t in titles[1:4]]
    # Pages of one admitted session each, through the cursor.
    first = repo.list_sessions(None, 1, bounded)
    second = repo.list_sessions(Cursor(first[0].starts_at, first[0].id), 1, bounded)
    assert [s.movie for s in first + second] == titles[1:3]
    assert private.starts_at < made[0].starts_at
