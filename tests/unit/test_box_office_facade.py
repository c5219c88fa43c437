"""The facade's configuration is fixed when it is built: another hold or store is another box."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from cinema_core import BoxOffice, ManualClock
from tests.unit.conftest import new_session


def test_a_box_office_cannot_be_reconfigured_after_it_is_built(box: BoxOffice) -> None:
    """Assigning a field of a built box office is refused, not half applied."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        box.hold = timedelta(hours=1)  # type: ignore[misc]


def test_an_evolved_box_office_holds_seats_for_its_own_hold(
    box: BoxOffice, clock: ManualClock
) -> None:
    """``attrs.evolve(box, hold=...)`` is a box office whose every use case holds that long,
    on the same store."""
    session = new_session(box).session
    longer = attrs.evolve(box, hold=timedelta(hours=2))
    reservation = longer.reserve("ana", session.id, ["A1"])
    assert reservation.expires_at == clock.now() + timedelta(hours=2)
    assert box.reservation(reservation.id, "ana").status == reservation.status
