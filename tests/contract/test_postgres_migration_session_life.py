"""Migration 0006 (a session's life) carries revision 0005's data forward: its sessions, holds,
sales and tickets (a used one included) stay sellable and refundable, and the sessions of a
room still never overlap; the way back refuses a cancelled session and restores 0005's rules.

The data is stored by this code at the newest revision, then taken back to 0005 (whose schema
then holds exactly that data, without 0006's columns), and brought up again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import attrs
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import SCRIPTS, downgrade
from cinema_core import (
    BoxOffice,
    ManualClock,
    Money,
    ReservationStatus,
    RoomBusy,
    SeatStatus,
    SessionStatus,
    TicketStatus,
)
from cinema_core.after_sale.refunds import Refund
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres

HOLD = timedelta(minutes=10)
LAYOUT = ["sssss"] * 4


@attrs.frozen
class Stored:
    """What revision 0005 holds: a session with a pending hold and a sale of two seats (one
    ticket used at the door), and an empty session right after it in the same room."""

    room: UUID
    session: UUID
    later: UUID
    hold: UUID
    sale: UUID


def store_at_0005(url: str, clock: ManualClock) -> Stored:
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
        room = box.create_room(cinema="Centro", name="Sala 1", layout=LAYOUT)
        starts = clock.now() + timedelta(hours=1)
        session = box.create_session(
            movie="Filme X", room_id=room.id, starts_at=starts, price=Money.parse("25.00")
        ).session
        later = box.create_session(
            movie="Filme Y", room_id=room.id, starts_at=session.ends_at, price=Money.parse("20.00")
        ).session
        bought = box.reserve("u1", session.id, ["B1", "B2"])
        sale, _ = box.pay(bought.id, "u1")
        box.check_in(repo.tickets(sale.id)[0].code)
        hold = box.reserve("u2", session.id, ["C1"])
    finally:
        repo.close()
    downgrade(url, "0005")
    return Stored(room.id, session.id, later.id, hold.id, sale.id)


@pytest.fixture
def stored(migrated_postgres_url: str, clock: ManualClock) -> Stored:
    return store_at_0005(migrated_postgres_url, clock)


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated_postgres_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def columns(engine: sa.Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
            {"t": table},
        )
        return set(found.scalars())


def constraint(engine: sa.Engine, name: str) -> str:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
            {"n": name},
        )
        return str(found.scalar_one())


def test_revision_0005_has_no_word_for_a_cancelled_session(
    stored: Stored, engine: sa.Engine
) -> None:
    """At 0005 (the data of this test's fixture): no cancelled_at nor session_cancelled, the
    no-overlap rule over every session, and a used ticket is never refunded."""
    assert "cancelled_at" not in columns(engine, "sessions")
    assert "session_cancelled" not in columns(engine, "tickets")
    assert "WHERE" not in constraint(engine, "sessions_room_no_overlap")
    assert constraint(engine, "tickets_used_or_refunded") == (
        "CHECK (((checked_in_at IS NULL) OR (refund_id IS NULL)))"
    )


def test_sessions_holds_and_sales_of_0005_stay_sellable_refundable_and_cancellable(
    migrated_postgres_url: str, stored: Stored, clock: ManualClock, engine: sa.Engine
) -> None:
    """Upgraded: the old sessions are on sale, the old hold is paid, a new hold is taken, the
    old sale's unused seat refunded; the room still refuses an overlapping session; cancelling
    refunds every sale, the old used ticket included, and then frees the room."""
    upgrade(migrated_postgres_url)
    assert "cancelled_at" in columns(engine, "sessions")
    repo = PostgresReservationRepo(migrated_postgres_url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
        view = box.session(stored.session)
        assert view.status is SessionStatus.ON_SALE
        assert view.session.cancelled_at is None
        paid, new = box.pay(stored.hold, "u2")
        assert new
        fresh = box.reserve("u3", stored.session, ["D1"])
        assert fresh.status is ReservationStatus.PENDING
        tickets = repo.tickets(stored.sale)
        assert [t.status for t in tickets] == [TicketStatus.USED, TicketStatus.VALID]
        refund = box.refund(stored.sale, "admin-1", [str(tickets[1].seat)], admin=True)
        assert isinstance(refund, Refund)
        with pytest.raises(RoomBusy):
            box.create_session(
                movie="Filme Z",
                room_id=stored.room,
                starts_at=view.session.starts_at,
                price=Money.parse("20.00"),
            )
        box.cancel_session(stored.session, "admin-1")
        assert box.seat_map(stored.session).count(SeatStatus.AVAILABLE) == 20
        for sale_id in (stored.sale, paid.id):
            assert {t.status for t in repo.tickets(sale_id)} == {TicketStatus.REFUNDED}
        assert box.reservation(fresh.id, "u3").status is ReservationStatus.CANCELLED
        box.create_session(
            movie="Filme Z",
            room_id=stored.room,
            starts_at=view.session.starts_at,
            price=Money.parse("20.00"),
        )
        assert box.session(stored.later).status is SessionStatus.ON_SALE
    finally:
        repo.close()


def test_the_way_back_refuses_a_cancelled_session_and_changes_nothing(
    migrated_postgres_url: str, stored: Stored, clock: ManualClock, engine: sa.Engine
) -> None:
    """Downgrading to 0005 with a cancelled session stored refuses (0005 would read it as on
    sale) and leaves revision 0006 as it was; without one it restores 0005's rules."""
    upgrade(migrated_postgres_url)
    repo = PostgresReservationRepo(migrated_postgres_url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
        box.cancel_session(stored.later, "admin-1")
    finally:
        repo.close()
    with pytest.raises(RuntimeError, match="1 sessions were cancelled"):
        downgrade(migrated_postgres_url, "0005")
    assert "cancelled_at" in columns(engine, "sessions")
    with engine.connect() as conn:
        # The newest revision, as it was.
        head = ScriptDirectory(str(SCRIPTS)).get_current_head()
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
        cancelled = conn.execute(
            sa.text("SELECT count(*) FROM sessions WHERE cancelled_at IS NOT NULL")
        ).scalar()
    assert cancelled == 1
