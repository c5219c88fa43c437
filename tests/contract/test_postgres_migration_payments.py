"""Migration 0007 (payments) applies on a database of revision 0006 holding sessions, holds and
sales: they stay as they were, a sale made before it has no payment, and the old hold can be
paid through a provider. The way back refuses while money is in flight or owed, and otherwise
drops the payment tables, leaving 0006's data whole.

The data is stored by this code at the newest revision, then taken back to 0006 (whose schema
then holds exactly that data, without the payment tables), and brought up again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID, uuid4

import attrs
import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from adapters.postgres.migrations import downgrade
from cinema_core import BoxOffice, ManualClock, ReservationStatus
from cinema_core.payments import PaymentInProgress
from cinema_core.payments.payment import Payment, PaymentStatus
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock

pytestmark = pytest.mark.postgres

HOLD = timedelta(minutes=10)


@attrs.frozen
class Stored:
    """What revision 0006 holds: a session with a sale of two seats and a pending hold."""

    session: UUID
    hold: UUID
    sale: UUID


def store_at_0006(url: str, clock: ManualClock) -> Stored:
    upgrade(url)
    repo = PostgresReservationRepo(url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
        session = new_session(box, days=1).session
        bought = box.reserve("u1", session.id, ["B1", "B2"])
        sale, _ = box.pay(bought.id, "u1")
        hold = box.reserve("u2", session.id, ["C1"])
    finally:
        repo.close()
    downgrade(url, "0006")
    return Stored(session.id, hold.id, sale.id)


@pytest.fixture
def stored(migrated_postgres_url: str, clock: ManualClock) -> Stored:
    return store_at_0006(migrated_postgres_url, clock)


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated_postgres_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        return set(found.scalars())


def a_payment(repo: PostgresReservationRepo, reservation_id: UUID, clock: ManualClock) -> Payment:
    reservation = repo.get_reservation(reservation_id)
    assert reservation is not None
    now = clock.now()
    return Payment(
        id=uuid4(),
        reservation_id=reservation.id,
        session_id=reservation.session_id,
        user_id=reservation.user_id,
        provider="sandbox",
        status=PaymentStatus.PENDING,
        amount=reservation.amount,
        created_at=now,
        expires_at=now + HOLD,
        attempt_key=f"attempt-{uuid4()}",
        heard_at=now,
    )


def test_revision_0006_has_no_payment_tables(stored: Stored, engine: sa.Engine) -> None:
    """At 0006 (the data of this test's fixture): no payments, no payment_notices."""
    assert {"payments", "payment_notices"} & tables(engine) == set()
    assert {"sessions", "reservations", "sales", "tickets"} <= tables(engine)


def test_holds_and_sales_of_0006_upgrade_and_the_old_hold_is_paid_through_a_provider(
    migrated_postgres_url: str, stored: Stored, clock: ManualClock, engine: sa.Engine
) -> None:
    """Upgraded: the old sale has no payment, the old hold takes one pending payment (a second
    is refused by the new index), which then makes its sale; a notice is handled once."""
    upgrade(migrated_postgres_url)
    assert {"payments", "payment_notices"} <= tables(engine)
    repo = PostgresReservationRepo(migrated_postgres_url)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
        assert repo.payment_of_sale(stored.sale) is None
        assert len(repo.tickets(stored.sale)) == 2
        hold = repo.get_reservation(stored.hold)
        assert hold is not None
        assert hold.status is ReservationStatus.PENDING
        payment = a_payment(repo, stored.hold, clock)
        repo.atomic(lambda tx: tx.add_payment(payment))
        with pytest.raises(PaymentInProgress):
            repo.atomic(lambda tx: tx.add_payment(a_payment(repo, stored.hold, clock)))
        sale, _ = box.pay(stored.hold, "u2")
        approved = attrs.evolve(payment, status=PaymentStatus.APPROVED, sale_id=sale.id)
        repo.atomic(lambda tx: tx.save_payment(approved))
        assert repo.payment_of_sale(sale.id) == approved
        assert repo.atomic(lambda tx: tx.note_notice("sandbox", "n-1")) is True
        assert repo.atomic(lambda tx: tx.note_notice("sandbox", "n-1")) is False
    finally:
        repo.close()


def test_the_way_back_refuses_money_in_flight_then_drops_the_payment_tables(
    migrated_postgres_url: str, stored: Stored, clock: ManualClock, engine: sa.Engine
) -> None:
    """Downgrading to 0006 with a pending payment refuses (nothing changes); once it is
    settled the payment tables go and 0006's sessions, holds and sales stay whole."""
    upgrade(migrated_postgres_url)
    repo = PostgresReservationRepo(migrated_postgres_url)
    try:
        payment = a_payment(repo, stored.hold, clock)
        repo.atomic(lambda tx: tx.add_payment(payment))
        with pytest.raises(RuntimeError, match="pending or owed back"):
            downgrade(migrated_postgres_url, "0006")
        assert repo.get_payment(payment.id) == payment
        declined = attrs.evolve(payment, status=PaymentStatus.DECLINED)
        repo.atomic(lambda tx: tx.save_payment(declined))
    finally:
        repo.close()
    downgrade(migrated_postgres_url, "0006")
    assert {"payments", "payment_notices"} & tables(engine) == set()
    # Back up (past 0007, to this code's revision) with 0006's data whole.
    upgrade(migrated_postgres_url)
    repo = PostgresReservationRepo(migrated_postgres_url, attempts=1)
    try:
        box = BoxOffice(repo, NoSeatLock(), clock, HOLD)
        assert box.sale(stored.sale) is not None
        sale, new = box.pay(stored.hold, "u2")
        assert new
        assert sale.reservation_id == stored.hold
    finally:
        repo.close()
