"""Migration 0004 carries today's data forward: sessions of revision 0003 (a room name, rows ×
seats per row, one price) with their holds, reservations and sales stay readable and sellable
as sessions of private rectangular rooms, and the way back restores them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from cinema_core import (
    BoxOffice,
    Category,
    ManualClock,
    Money,
    ReservationStatus,
    Room,
    Sale,
    SeatLabel,
    SeatStatus,
    Session,
    SessionFilter,
)
from cinema_core.selling.ticket_types import FULL, Line, TicketType
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres

HOLD = timedelta(seconds=30)


@attrs.frozen
class Legacy:
    """What was stored at revision 0003."""

    session: UUID
    small: UUID
    pending: UUID
    confirmed: UUID
    sale: UUID
    expired: UUID


def store_legacy_data(url: str, clock: ManualClock) -> Legacy:
    """At 0003: a 4 × 5 session with a pending hold on A1+A2, a sale of B1 (its reservation
    confirmed), an expired reservation of C1 (released); and a 2 × 8 session with nothing."""
    now = clock.now()
    ids = Legacy(*(uuid4() for _ in range(6)))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:

        def run(sql: str, **params: Any) -> None:
            conn.execute(sa.text(sql), params)

        for id, movie, rows, per_row in ((ids.session, "Filme X", 4, 5), (ids.small, "AÇÃO", 2, 8)):
            run(
                "INSERT INTO sessions (id, movie, room, starts_at, price_cents, currency, rows, "
                "seats_per_row) VALUES (:id, :movie, 'Sala 1', :at, 2500, 'BRL', :rows, :per_row)",
                id=id,
                movie=movie,
                at=now + timedelta(days=1),
                rows=rows,
                per_row=per_row,
            )
            run(
                'INSERT INTO seats (session_id, "row", number) '
                "SELECT :id, chr(64 + r), n FROM generate_series(1, :rows) r, "
                "generate_series(1, :per_row) n",
                id=id,
                rows=rows,
                per_row=per_row,
            )
        reservation = (
            "INSERT INTO reservations (id, session_id, user_id, seats, amount_cents, currency, "
            "status, created_at, expires_at, sale_id) VALUES (:id, :session, :user, :seats, "
            ":amount, 'BRL', :status, :now, :expires, :sale)"
        )
        run(
            reservation,
            id=ids.pending,
            session=ids.session,
            user="u1",
            seats=["A1", "A2"],
            amount=5000,
            status="pending",
            now=now,
            expires=now + HOLD,
            sale=None,
        )
        run(
            "UPDATE seats SET held_by = :r, hold_expires_at = :until "
            "WHERE session_id = :s AND \"row\" = 'A' AND number IN (1, 2)",
            r=ids.pending,
            until=now + HOLD,
            s=ids.session,
        )
        run(
            reservation,
            id=ids.confirmed,
            session=ids.session,
            user="u2",
            seats=["B1"],
            amount=2500,
            status="confirmed",
            now=now,
            expires=now + HOLD,
            sale=ids.sale,
        )
        run(
            "INSERT INTO sales (id, reservation_id, session_id, user_id, seats, amount_cents, "
            "currency, paid_at) VALUES (:id, :r, :s, 'u2', ARRAY['B1'], 2500, 'BRL', :now)",
            id=ids.sale,
            r=ids.confirmed,
            s=ids.session,
            now=now,
        )
        run(
            'INSERT INTO sale_seats (session_id, "row", number, sale_id) '
            "VALUES (:s, 'B', 1, :id)",
            s=ids.session,
            id=ids.sale,
        )
        run(
            "UPDATE seats SET held_by = :r, sale_id = :sale "
            "WHERE session_id = :s AND \"row\" = 'B' AND number = 1",
            r=ids.confirmed,
            sale=ids.sale,
            s=ids.session,
        )
        run(
            reservation,
            id=ids.expired,
            session=ids.session,
            user="u3",
            seats=["C1"],
            amount=2500,
            status="expired",
            now=now - timedelta(minutes=5),
            expires=now - timedelta(minutes=4),
            sale=None,
        )
    engine.dispose()
    return ids


@pytest.fixture
def legacy(postgres_url: str, clock: ManualClock) -> Legacy:
    upgrade(postgres_url, "0003")
    return store_legacy_data(postgres_url, clock)


@pytest.fixture
def repo(postgres_url: str, legacy: Legacy) -> Iterator[PostgresReservationRepo]:
    upgrade(postgres_url)
    repo = PostgresReservationRepo(postgres_url)
    yield repo
    repo.close()


def full(label: str) -> Line:
    return Line(SeatLabel.parse(label), Category.STANDARD, "full", Money(2500))


def test_old_sessions_become_sessions_of_private_rectangular_rooms(
    repo: PostgresReservationRepo, legacy: Legacy, clock: ManualClock
) -> None:
    """Each old session reads as the first API shape makes one now: a private room of its
    name, rows × seats per row of standard seats, its price, 120 minutes, the default types of
    revision 0004 (full, and half as its own 40 % quota: 0008 keeps them)."""
    session = repo.get_session(legacy.session)
    assert session is not None
    assert session == Session(
        id=legacy.session,
        movie="Filme X",
        room=Room.rectangle(id=session.room.id, name="Sala 1", rows=4, seats_per_row=5),
        starts_at=clock.now() + timedelta(days=1),
        duration_minutes=120,
        prices={Category.STANDARD: Money(2500)},
        ticket_types=(FULL, TicketType("half", "Meia-entrada", 50, quota_percent=40)),
    )
    assert repo.get_room(session.room.id) == session.room
    small = repo.get_session(legacy.small)
    assert small is not None
    assert small.room.layout == ("s" * 8,) * 2
    assert small.room.id != session.room.id
    assert repo.list_rooms(None) == []
    assert repo.list_sessions(None, 10, SessionFilter(movie="ação")) == [small]
    assert repo.list_sessions(None, 10, SessionFilter(cinema="")) == sorted(
        [session, small], key=lambda s: (s.starts_at, s.id)
    )


def test_old_holds_sales_and_reservations_stay_readable_with_full_price_lines(
    repo: PostgresReservationRepo, legacy: Legacy, clock: ManualClock
) -> None:
    """The seat map, the reservations (now with lines), the purchases and quotas read as
    they should: held and sold seats carry the ticket full."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    seat_map = box.seat_map(legacy.session)
    assert [str(label) for label, status in seat_map.seats if status is SeatStatus.HELD] == [
        "A1",
        "A2",
    ]
    assert [str(label) for label, status in seat_map.seats if status is SeatStatus.SOLD] == ["B1"]
    assert seat_map.count(SeatStatus.AVAILABLE) == 17
    assert box.session(legacy.session).available == 17
    tickets = {str(seat.label): seat.ticket for seat in repo.seats(legacy.session)}
    assert (tickets["A1"], tickets["B1"], tickets["C1"]) == ("full", "full", None)
    pending = repo.get_reservation(legacy.pending)
    assert pending is not None
    assert (pending.lines, pending.amount) == ((full("A1"), full("A2")), Money(5000))
    assert pending.status is ReservationStatus.PENDING
    expired = repo.get_reservation(legacy.expired)
    assert expired is not None
    assert (expired.lines, expired.status) == ((full("C1"),), ReservationStatus.EXPIRED)
    assert repo.purchases("u2", None, 10) == [
        Sale(legacy.sale, legacy.confirmed, legacy.session, "u2", (full("B1"),), clock.now())
    ]
    used = repo.atomic(lambda tx: tx.quota_usage(legacy.session, ["full", "half"], clock.now()))
    assert used == {"full": 3, "half": 0}


def test_old_sessions_stay_sellable_and_old_holds_payable(
    repo: PostgresReservationRepo, legacy: Legacy, clock: ManualClock
) -> None:
    """A new reservation (with a half ticket) and its payment on an old session work, and
    the old pending reservation can be paid; an old room name is free for the first shape."""
    box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
    clock.advance(10)
    fresh = box.reserve("u4", legacy.session, ["C3", "C2"], {"half": 1})
    sale, new = box.pay(fresh.id, "u4")
    assert new
    assert sale.amount == Money(3750)
    old, new = box.pay(legacy.pending, "u1")
    assert new
    assert old.lines == (full("A1"), full("A2"))
    assert box.seat_map(legacy.session).count(SeatStatus.SOLD) == 5
    assert len(repo.purchases("u1", None, 10)) == 1
    same_time = box.session(legacy.session).session.starts_at
    again = box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=same_time,
        price=Money(2500),
        rows=4,
        seats_per_row=5,
    )
    assert repo.get_session(again.session.id) == again.session


def test_the_way_back_restores_revision_0003_and_refuses_rooms_it_cannot_describe(
    postgres_url: str, legacy: Legacy, clock: ManualClock
) -> None:
    """Downgrading to 0003 gives back the old columns, as they were; with a session in a room
    with a layout, the downgrade refuses and changes nothing."""
    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    sessions = (
        'SELECT id, movie, room, "rows", seats_per_row, price_cents FROM sessions ORDER BY id'
    )
    with engine.connect() as conn:
        before = conn.execute(sa.text(sessions)).all()
    upgrade(postgres_url)
    downgrade(postgres_url, "0003")
    with engine.connect() as conn:
        assert conn.execute(sa.text(sessions)).all() == before
        assert conn.execute(sa.text("SELECT to_regclass('rooms')")).scalar() is None
    upgrade(postgres_url)
    repo = PostgresReservationRepo(postgres_url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
        room = box.create_room(cinema="Centro", name="Sala 1", layout=["ss_ss"] * 4)
        box.create_session(
            movie="Filme Y",
            room_id=room.id,
            starts_at=clock.now() + timedelta(days=2),
            price=Money(2500),
        )
    finally:
        repo.close()
    with pytest.raises(RuntimeError, match="not rectangles of standard seats"):
        downgrade(postgres_url, "0003")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM rooms")).scalar() == 3
    engine.dispose()
