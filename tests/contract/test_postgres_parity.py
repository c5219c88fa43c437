"""Behaviours first seen on PostgreSQL that the in-memory store now shares: run on every
``ReservationRepo`` in the contract registry, so the fake cannot drift from the database again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from cinema_core import (
    ManualClock,
    Money,
    Reservation,
    Room,
    Sale,
    SeatLabel,
    SeatsUnavailable,
    Session,
)
from cinema_core.selling.reservations import priced_lines


def test_two_sales_of_one_seat_in_one_unit_of_work_are_refused(
    repo: Any, clock: ManualClock
) -> None:
    """sale_seats' key refuses the second sale even inside the transaction that made the first
    (the in-memory store used to look only at committed sales)."""
    session = Session.create(
        id=uuid4(),
        movie="Filme X",
        room=Room.rectangle(id=uuid4(), name="Sala 1", rows=4, seats_per_row=4),
        starts_at=clock.now() + timedelta(days=1),
        prices=Money.parse("25.00"),
        now=clock.now(),
    )
    repo.atomic(lambda tx: tx.add_session(session))

    def sale(tx: Any, *labels: SeatLabel) -> Sale:
        reservation = Reservation(
            id=uuid4(),
            session_id=session.id,
            user_id="u1",
            lines=priced_lines(session, labels, {}),
            created_at=clock.now(),
            expires_at=clock.now() + timedelta(seconds=30),
        )
        tx.add_reservation(reservation)
        return Sale(uuid4(), reservation.id, session.id, "u1", reservation.lines, clock.now())

    def sell_twice(tx: Any) -> None:
        tx.add_sale(sale(tx, SeatLabel("A", 1), SeatLabel("A", 2)))
        tx.add_sale(sale(tx, SeatLabel("A", 2), SeatLabel("A", 3)))

    with pytest.raises(SeatsUnavailable) as refused:
        repo.atomic(sell_twice)
    assert refused.value.seats == ["A2"]
    assert repo.purchases("u1", None, 10) == []
