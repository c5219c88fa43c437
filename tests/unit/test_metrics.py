"""The use cases count what they committed: holds, sales, refunds, check-ins, payments."""

from __future__ import annotations

import pytest

from cinema_core import BoxOffice, ManualClock, SeatsUnavailable
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock, TalliedMetrics
from cinema_core.payments import SandboxProvider
from tests.conftest import new_session
from tests.unit.conftest import HOLD


@pytest.fixture
def metrics() -> TalliedMetrics:
    return TalliedMetrics()


def test_holds_sales_refunds_and_checkins_are_counted_once_committed(
    clock: ManualClock, metrics: TalliedMetrics
) -> None:
    """Three holds (one refused: not counted), two sales (paying again: not counted), a refund
    of one seat and one check-in read as exactly that."""
    box = BoxOffice(
        InMemoryReservationRepo(), InMemorySeatLock(clock), clock, HOLD, metrics=metrics
    )
    session = new_session(box).session
    first = box.reserve("ana", session.id, ["A1", "A2"])
    second = box.reserve_best("bia", session.id, 3)
    with pytest.raises(SeatsUnavailable):
        box.reserve("caio", session.id, ["A1"])
    box.reserve("caio", session.id, ["D4"])
    sale, _ = box.pay(first.id, "ana")
    box.pay(first.id, "ana")
    box.pay(second.id, "bia")
    box.refund(sale.id, "ana", ["A2"])
    ticket = box.tickets(sale.id, "ana")[0]
    box.check_in(ticket.code)

    assert metrics.counts == {
        "holds": 3,
        "held_seats": 6,
        "sales": 2,
        "sold_seats": 5,
        "refunds": 1,
        "refunded_seats": 1,
        "checkins": 1,
    }


def test_payments_are_counted_by_the_status_they_reach(
    clock: ManualClock, metrics: TalliedMetrics
) -> None:
    """Two payments started (pending), one approved (a sale), one declined; settling the
    approved one again counts nothing more."""
    sandbox = SandboxProvider(clock)
    box = BoxOffice(
        InMemoryReservationRepo(),
        InMemorySeatLock(clock),
        clock,
        HOLD,
        provider=sandbox,
        metrics=metrics,
    )
    session = new_session(box).session
    paid = box.start_payment(box.reserve("ana", session.id, ["A1"]).id, "ana")
    refused = box.start_payment(box.reserve("bia", session.id, ["B1", "B2"]).id, "bia")
    assert paid.charge_id is not None
    assert refused.charge_id is not None
    sandbox.approve(paid.charge_id)
    sandbox.decline(refused.charge_id)
    box.settle_payment(paid.charge_id)
    box.settle_payment(refused.charge_id)
    box.settle_payment(paid.charge_id)

    counts = metrics.counts
    assert counts["payments:pending"] == 2
    assert counts["payments:approved"] == 1
    assert counts["payments:declined"] == 1
    assert (counts["sales"], counts["sold_seats"]) == (1, 1)


def test_a_box_office_without_metrics_counts_nothing_and_works(box: BoxOffice) -> None:
    """The default is the no-op: the box office is unchanged without a metrics adapter."""
    session = new_session(box).session
    box.pay(box.reserve("ana", session.id, ["A1"]).id, "ana")
    assert box.metrics.__class__.__name__ == "NoMetrics"
