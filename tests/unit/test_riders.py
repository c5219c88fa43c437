"""The writes that ride along (adapters.postgres.riders): held back, then folded into the next
statement as CTEs, never two writes to one table in one statement."""

from __future__ import annotations

from adapters.postgres.riders import Riders

SEATS = "UPDATE seats SET held_by = %(held_by)s WHERE id = %(id)s"
RESERVATION = "INSERT INTO reservations (id) VALUES (%(id)s)"
SALE = "\nWITH sale AS (INSERT INTO sales (id) VALUES (%(id)s))\nSELECT 1"
EVENTS = "INSERT INTO outbox (id) VALUES (%(id)s)"


def test_nothing_held_sends_nothing_and_a_carrier_goes_as_it_is() -> None:
    """With no write held, there is nothing to send alone and a carrier is unchanged."""
    riders = Riders()
    assert not riders
    assert riders.alone() is None
    assert riders.carried_by(EVENTS, {"id": 1}) == (EVENTS, {"id": 1})


def test_held_writes_ride_as_ctes_of_the_carrier_their_parameters_prefixed() -> None:
    """Two held writes become w0 and w1 of the carrier, each parameter renamed w<i>_, and
    nothing is held after."""
    riders = Riders()
    assert riders.hold("seats", SEATS, {"held_by": "u1", "id": 7}) is None
    assert riders.hold("reservations", RESERVATION, {"id": 8}) is None
    assert riders
    sql, params = riders.carried_by(EVENTS, {"id": 9})
    assert sql == (
        "WITH w0 AS (UPDATE seats SET held_by = %(w0_held_by)s WHERE id = %(w0_id)s), "
        "w1 AS (INSERT INTO reservations (id) VALUES (%(w1_id)s))" + EVENTS
    )
    assert params == {"id": 9, "w0_held_by": "u1", "w0_id": 7, "w1_id": 8}
    assert not riders


def test_a_carrier_with_its_own_ctes_gets_the_riders_first() -> None:
    """A carrier that opens with WITH keeps its CTEs, after the riders'."""
    riders = Riders()
    riders.hold("seats", SEATS, {"held_by": None, "id": 1})
    sql, _ = riders.carried_by(SALE, {"id": 2})
    assert sql.startswith("WITH w0 AS (UPDATE seats")
    assert ", sale AS (INSERT INTO sales" in sql
    assert sql.count("WITH") == 1


def test_held_writes_sent_alone_are_carried_by_the_last_of_them() -> None:
    """Alone, the last held write is the statement, with its own parameter names, and the
    others ride as its CTEs."""
    riders = Riders()
    riders.hold("seats", SEATS, {"held_by": "u1", "id": 7})
    riders.hold("reservations", RESERVATION, {"id": 8})
    sent = riders.alone()
    assert sent == (
        "WITH w0 AS (UPDATE seats SET held_by = %(w0_held_by)s WHERE id = %(w0_id)s)" + RESERVATION,
        {"w0_held_by": "u1", "w0_id": 7, "id": 8},
    )
    assert not riders
    assert riders.alone() is None


def test_one_write_held_alone_is_sent_as_it_is() -> None:
    """A single held write needs no CTE."""
    riders = Riders()
    riders.hold("seats", SEATS, {"held_by": "u1", "id": 7})
    assert riders.alone() == (SEATS, {"held_by": "u1", "id": 7})


def test_a_second_write_to_a_table_sends_the_held_ones_first() -> None:
    """Holding a write to a table already written hands back what was held, to send before it;
    the new write alone is held after."""
    riders = Riders()
    riders.hold("seats", SEATS, {"held_by": "u1", "id": 7})
    riders.hold("reservations", RESERVATION, {"id": 8})
    due = riders.hold("reservations", RESERVATION, {"id": 9})
    assert due is not None
    assert due[0].count("INSERT INTO reservations") == 1
    assert due[1]["id"] == 8
    assert riders.alone() == (RESERVATION, {"id": 9})
