"""Migration 0014 (each seat names its last writer) applies on a database of revision 0013 with
seats held and sold: every process then reads the same seat map as before, and every later
change, to a seat written before the upgrade too, is in the next read of a process that kept
the map. The way back drops the column, the trigger and the index, and keeps the seats.

The data is stored by this code at the newest revision, then taken back to 0013 (whose schema
then holds exactly that data, in 0013's shape), and brought up again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from cinema_core import BoxOffice, ManualClock, Money, SeatLabel, SeatStatus
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres


def seat_columns(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return {column["name"] for column in sa.inspect(engine).get_columns("seats")}
    finally:
        engine.dispose()


def test_0013_seats_read_the_same_and_every_later_change_is_seen(
    migrated_postgres_url: str, clock: ManualClock
) -> None:
    """Down to 0013 with a sale and a hold, and up again: the map is the same, and a process
    that kept it sees the old hold cancelled and a new seat held, each in its next read."""
    url = migrated_postgres_url
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))
        session = box.create_session(
            movie="Filme X",
            room="Sala 1",
            starts_at=clock.now() + timedelta(days=1),
            price=Money.parse("25.00"),
            rows=4,
            seats_per_row=4,
        ).session
        box.pay(box.reserve("u1", session.id, ["A1", "A2"]).id, "u1")
        held = box.reserve("u2", session.id, ["B1"])
        before = box.seat_map(session.id).seats
    finally:
        repo.close()

    downgrade(url, "0013")
    assert "changed_by" not in seat_columns(url)
    upgrade(url)
    assert "changed_by" in seat_columns(url)

    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))
        assert box.seat_map(session.id).seats == before
        box.cancel(held.id, "u2")  # a row last written before the upgrade
        assert box.seat_map(session.id).status(SeatLabel("B", 1)) is SeatStatus.AVAILABLE
        box.reserve("u3", session.id, ["C3"])
        seat_map = box.seat_map(session.id)
    finally:
        repo.close()
    assert seat_map.status(SeatLabel("C", 3)) is SeatStatus.HELD
    assert seat_map.count(SeatStatus.SOLD) == 2
