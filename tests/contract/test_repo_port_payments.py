"""The ReservationRepo port for payments through a provider, held to one contract.

Every store keeps a payment whole (every field round trips), refuses by itself a second
pending payment of one reservation (never two charges for one hold), finds a payment by its
provider's charge, hands reconciliation the quiet pending payments and the ones owing money
back (skipping those another transaction is settling), and remembers each provider notice as
handled exactly once, with the transaction that handled it. On PostgreSQL the race tests show
each guard at work: with it dropped (the control run) the race really breaks the rule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
import sqlalchemy as sa

from cinema_core import BoxOffice, ManualClock, Money, Reservation, SessionView
from cinema_core.payments import PaymentInProgress, Pix
from cinema_core.payments.payment import Payment, PaymentStatus
from cinema_core.ports import Transaction
from tests.concurrency import run_together
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock

PROVIDER = "mercadopago"
QUIET = timedelta(seconds=60)


@pytest.fixture
def box(repo: Any, clock: ManualClock) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))


@pytest.fixture
def session(box: BoxOffice) -> SessionView:
    return new_session(box, days=1)


def hold(box: BoxOffice, session: SessionView, seat: str = "A1") -> Reservation:
    return box.reserve(f"user-{seat}", session.session.id, [seat])


def pending(reservation: Reservation, at: datetime, **changes: Any) -> Payment:
    """A new pending payment of the reservation's amount, started (and last heard of) ``at``."""
    fresh = Payment(
        id=uuid4(),
        reservation_id=reservation.id,
        session_id=reservation.session_id,
        user_id=reservation.user_id,
        provider=PROVIDER,
        status=PaymentStatus.PENDING,
        amount=reservation.amount,
        created_at=at,
        expires_at=at + timedelta(minutes=10),
        attempt_key=f"attempt-{uuid4()}",
        heard_at=at,
    )
    return attrs.evolve(fresh, **changes)


def add(repo: Any, payment: Payment) -> Payment:
    repo.atomic(lambda tx: tx.add_payment(payment))
    return payment


def save(repo: Any, payment: Payment) -> Payment:
    repo.atomic(lambda tx: tx.save_payment(payment))
    return payment


def test_a_payment_round_trips_every_field_through_add_lock_and_save(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """What add_payment and save_payment store, lock_payment and get_payment give back whole:
    a pending one bare, then approved with its charge, Pix, sale, refund and settlement."""
    reservation = hold(box, session)
    started = add(repo, pending(reservation, clock.now()))
    assert repo.atomic(lambda tx: tx.lock_payment(started.id)) == started
    assert repo.get_payment(started.id) == started
    sale, _ = box.pay(reservation.id, reservation.user_id)
    settled = attrs.evolve(
        started,
        status=PaymentStatus.APPROVED,
        heard_at=clock.now() + timedelta(seconds=5, microseconds=123),
        charge_id="1312345678",
        pix=Pix("00020126580014br.gov.bcb.pix", "iVBORw0KGgo=", "https://mp.example/t/1"),
        late=True,
        sale_id=sale.id,
        refunded=Money(1000),
        settled_at=clock.now() + timedelta(seconds=6),
    )
    save(repo, settled)
    assert repo.atomic(lambda tx: tx.lock_payment(started.id)) == settled
    assert repo.get_payment(started.id) == settled
    assert repo.payment_of_sale(sale.id) == settled
    assert repo.payment_of_sale(uuid4()) is None
    without_url = attrs.evolve(settled, pix=Pix("000201", "iVBO", None), refunded=None)
    assert save(repo, without_url) == repo.get_payment(started.id)
    assert repo.get_payment(uuid4()) is None
    assert repo.atomic(lambda tx: tx.lock_payment(uuid4())) is None


def test_a_second_pending_payment_of_one_reservation_is_refused_by_the_store(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """add_payment of another pending payment for a reservation that has one raises
    PaymentInProgress (409 payment_in_progress) and stores nothing."""
    reservation = hold(box, session)
    first = add(repo, pending(reservation, clock.now()))
    with pytest.raises(PaymentInProgress) as refused:
        add(repo, pending(reservation, clock.now() + timedelta(seconds=1)))
    assert (refused.value.code, refused.value.status) == ("payment_in_progress", 409)
    assert refused.value.details == {"reservation_id": str(reservation.id)}
    assert repo.payments_of_reservation(reservation.id) == [first]
    assert repo.atomic(lambda tx: tx.lock_open_payment(reservation.id)) == first


def test_after_a_decline_a_new_pending_payment_is_stored_and_is_the_open_one(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """Once the first payment is declined, a new attempt is stored; lock_open_payment finds
    it, and payments_of_reservation lists both, newest first."""
    reservation = hold(box, session)
    first = add(repo, pending(reservation, clock.now()))
    declined = save(repo, attrs.evolve(first, status=PaymentStatus.DECLINED))
    assert repo.atomic(lambda tx: tx.lock_open_payment(reservation.id)) is None
    second = add(repo, pending(reservation, clock.now() + timedelta(seconds=30)))
    assert repo.atomic(lambda tx: tx.lock_open_payment(reservation.id)) == second
    assert repo.payments_of_reservation(reservation.id) == [second, declined]
    assert repo.payments_of_reservation(uuid4()) == []


def test_a_declined_payment_made_pending_again_beside_an_open_one_is_refused(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """save_payment is held to the same rule: never two pending payments of a reservation."""
    reservation = hold(box, session)
    first = add(repo, pending(reservation, clock.now()))
    save(repo, attrs.evolve(first, status=PaymentStatus.DECLINED))
    second = add(repo, pending(reservation, clock.now()))
    with pytest.raises(PaymentInProgress):
        save(repo, first)
    assert repo.atomic(lambda tx: tx.lock_open_payment(reservation.id)) == second


def test_the_store_refuses_a_reused_attempt_key_charge_or_sale(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """One payment per idempotency key, per provider's charge and per sale; an approved
    payment names its sale; never more refunded than paid (ValueError, nothing stored)."""
    one, other = hold(box, session, "A1"), hold(box, session, "A2")
    first = add(repo, pending(one, clock.now(), charge_id="c-1"))
    with pytest.raises(ValueError, match="attempt key"):
        add(repo, pending(other, clock.now(), attempt_key=first.attempt_key))
    with pytest.raises(ValueError, match="charge"):
        add(repo, pending(other, clock.now(), charge_id="c-1"))
    assert repo.payments_of_reservation(other.id) == []
    second = add(repo, pending(other, clock.now(), charge_id="c-1", provider="sandbox"))
    with pytest.raises(ValueError, match="no sale"):
        save(repo, attrs.evolve(first, status=PaymentStatus.APPROVED))
    with pytest.raises(ValueError, match="more than it took"):
        save(repo, attrs.evolve(first, refunded=Money(first.amount.cents + 1)))
    sale, _ = box.pay(one.id, one.user_id)
    save(repo, attrs.evolve(first, status=PaymentStatus.APPROVED, sale_id=sale.id))
    with pytest.raises(ValueError, match="this sale"):
        save(repo, attrs.evolve(second, status=PaymentStatus.APPROVED, sale_id=sale.id))
    assert repo.get_payment(second.id) == second


def test_a_payment_is_found_by_its_providers_charge(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """lock_payment_of_charge finds the payment by (provider, charge id), and nothing for a
    charge that is not ours or another provider's charge of that id."""
    reservation = hold(box, session)
    started = add(repo, pending(reservation, clock.now()))
    assert repo.atomic(lambda tx: tx.lock_payment_of_charge(PROVIDER, "c-9")) is None
    charged = save(repo, attrs.evolve(started, charge_id="c-9"))
    assert repo.atomic(lambda tx: tx.lock_payment_of_charge(PROVIDER, "c-9")) == charged
    assert repo.atomic(lambda tx: tx.lock_payment_of_charge("sandbox", "c-9")) is None
    assert repo.atomic(lambda tx: tx.lock_payment_of_charge(PROVIDER, "c-10")) is None


def test_reconciliation_is_handed_the_quiet_pending_and_review_payments_oldest_first(
    box: BoxOffice, repo: Any, session: SessionView, clock: ManualClock
) -> None:
    """lock_payments_due: pending and review ones not heard of since quiet_since, by heard_at,
    at most ``limit``; not one heard of lately (a refund just refused waits its turn), nor a
    settled one."""
    now = clock.now()
    quiet = add(repo, pending(hold(box, session, "A1"), now - 2 * QUIET))
    lately = add(repo, pending(hold(box, session, "A2"), now - QUIET / 2))
    owed = add(repo, pending(hold(box, session, "A3"), now - 2.5 * QUIET))
    owed = save(repo, attrs.evolve(owed, status=PaymentStatus.REVIEW))
    refused_lately = add(repo, pending(hold(box, session, "C1"), now))
    refused_lately = save(repo, attrs.evolve(refused_lately, status=PaymentStatus.REVIEW))
    older = add(repo, pending(hold(box, session, "A4"), now - 3 * QUIET))
    old_decline = add(repo, pending(hold(box, session, "B1"), now - 4 * QUIET))
    save(repo, attrs.evolve(old_decline, status=PaymentStatus.DECLINED))
    old_expiry = add(repo, pending(hold(box, session, "B2"), now - 4 * QUIET))
    save(repo, attrs.evolve(old_expiry, status=PaymentStatus.EXPIRED))
    due = repo.atomic(lambda tx: tx.lock_payments_due(now - QUIET, 10))
    assert due == [older, owed, quiet]
    assert lately not in due
    assert refused_lately not in due
    assert repo.atomic(lambda tx: tx.lock_payments_due(now - QUIET, 2)) == [older, owed]


def test_a_notice_is_handled_once_across_transactions_and_a_rolled_back_one_is_not(
    repo: Any,
) -> None:
    """note_notice: True the first time, False again in that transaction and in any later
    one; a notice noted by a transaction that rolled back is still unhandled."""
    assert repo.atomic(
        lambda tx: [tx.note_notice(PROVIDER, "n-1"), tx.note_notice(PROVIDER, "n-1")]
    ) == [True, False]
    assert repo.atomic(lambda tx: tx.note_notice(PROVIDER, "n-1")) is False
    assert repo.atomic(lambda tx: tx.note_notice("sandbox", "n-1")) is True

    def note_then_fail(tx: Transaction) -> None:
        assert tx.note_notice(PROVIDER, "n-2")
        raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        repo.atomic(note_then_fail)
    assert repo.atomic(lambda tx: tx.note_notice(PROVIDER, "n-2")) is True
    assert repo.atomic(lambda tx: tx.note_notice(PROVIDER, "n-2")) is False


# -- PostgreSQL: row locks skipped, and the races with their control runs ---------------------


def postgres_box(url: str, clock: ManualClock) -> tuple[Any, BoxOffice]:
    from adapters.postgres import PostgresReservationRepo

    repo = PostgresReservationRepo(url, attempts=1)
    return repo, BoxOffice(repo, NoSeatLock(), clock, timedelta(minutes=10))


@pytest.fixture
def postgres(clean_postgres_url: str, clock: ManualClock) -> Iterator[tuple[Any, BoxOffice]]:
    repo, box = postgres_box(clean_postgres_url, clock)
    yield repo, box
    repo.close()


def open_session(box: BoxOffice) -> SessionView:
    return new_session(box, days=1)


@pytest.mark.postgres
def test_reconciliation_skips_a_payment_another_transaction_has_locked(
    postgres: tuple[Any, BoxOffice], clock: ManualClock
) -> None:
    """While one transaction holds a due payment's lock (a notice settling it), another's
    lock_payments_due leaves it out at once instead of waiting, and takes the rest."""
    repo, box = postgres
    session = open_session(box)
    now = clock.now()
    busy = add(repo, pending(hold(box, session, "A1"), now - 3 * QUIET))
    free = add(repo, pending(hold(box, session, "A2"), now - 2 * QUIET))
    locked, release = threading.Event(), threading.Event()

    def settle(tx: Transaction) -> None:
        assert tx.lock_payment(busy.id) == busy
        locked.set()
        assert release.wait(20)

    holder = threading.Thread(target=repo.atomic, args=(settle,), daemon=True)
    holder.start()
    try:
        assert locked.wait(20)
        started = time.monotonic()
        assert repo.atomic(lambda tx: tx.lock_payments_due(now - QUIET, 10)) == [free]
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join(20)
    assert repo.atomic(lambda tx: tx.lock_payments_due(now - QUIET, 10)) == [busy, free]


THREADS = 6


def pending_race(url: str, clock: ManualClock, *, guarded: bool) -> tuple[list[Any], int]:
    """THREADS transactions, each having seen no open payment of one reservation, add a
    pending payment for it at once. Returns each one's outcome and how many are stored."""
    repo, box = postgres_box(url, clock)
    try:
        if not guarded:
            with repo.engine.begin() as conn:
                conn.execute(sa.text("DROP INDEX payments_one_pending_key"))
        reservation = hold(box, open_session(box))
        everyone_looked = threading.Barrier(THREADS)

        def start(index: int) -> UUID:
            payment = pending(reservation, clock.now())

            def work(tx: Transaction) -> None:
                assert tx.lock_open_payment(reservation.id) is None
                # Every transaction has checked before any adds: the check alone proves nothing.
                everyone_looked.wait(20)
                tx.add_payment(payment)

            repo.atomic(work)
            return payment.id

        outcomes = run_together(THREADS, start)
        return outcomes, len(repo.payments_of_reservation(reservation.id))
    finally:
        repo.close()


@pytest.mark.postgres
def test_control_without_the_pending_index_racing_attempts_store_many_pending_payments(
    migrated_postgres_url: str, clock: ManualClock
) -> None:
    """CONTROL: payments_one_pending_key dropped, every racing attempt is stored pending:
    as many charges as attempts for one hold."""
    outcomes, stored = pending_race(migrated_postgres_url, clock, guarded=False)
    assert all(isinstance(o, UUID) for o in outcomes), outcomes
    assert stored == THREADS


@pytest.mark.postgres
def test_racing_attempts_to_pay_one_reservation_store_exactly_one_pending_payment(
    clean_postgres_url: str, clock: ManualClock
) -> None:
    """The same race with the index: one attempt is stored, every other is refused with
    PaymentInProgress (nothing else goes wrong)."""
    outcomes, stored = pending_race(clean_postgres_url, clock, guarded=True)
    assert sum(isinstance(o, UUID) for o in outcomes) == 1
    assert sum(isinstance(o, PaymentInProgress) for o in outcomes) == THREADS - 1, outcomes
    assert stored == 1


def notice_race(url: str, clock: ManualClock, *, guarded: bool) -> list[Any]:
    """THREADS transactions note one notice at once and hold on a moment before committing,
    as a handler acting on it would. Returns what note_notice answered each."""
    repo, _ = postgres_box(url, clock)
    try:
        if not guarded:
            with repo.engine.begin() as conn:
                conn.execute(
                    sa.text("ALTER TABLE payment_notices DROP CONSTRAINT payment_notices_pkey")
                )

        def note(tx: Transaction) -> bool:
            first = tx.note_notice(PROVIDER, "notice-77")
            time.sleep(0.2)
            return first

        return run_together(THREADS, lambda _: repo.atomic(note))
    finally:
        repo.close()


@pytest.mark.postgres
def test_control_without_the_notices_key_a_notice_sent_at_once_is_handled_many_times(
    migrated_postgres_url: str, clock: ManualClock
) -> None:
    """CONTROL: payment_notices' primary key dropped, more than one copy of a notice noted at
    once is told it is the first: each would act on it."""
    answers = notice_race(migrated_postgres_url, clock, guarded=False)
    assert all(isinstance(a, bool) for a in answers), answers
    assert answers.count(True) > 1


@pytest.mark.postgres
def test_a_notice_noted_by_many_transactions_at_once_is_handled_by_exactly_one(
    clean_postgres_url: str, clock: ManualClock
) -> None:
    """The same race with the key: exactly one note_notice answers True, the rest False."""
    answers = notice_race(clean_postgres_url, clock, guarded=True)
    assert sorted(answers) == [False] * (THREADS - 1) + [True]
