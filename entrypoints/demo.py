"""``cinema demo``: the challenge's story, told step by step, in memory with real threads."""

from __future__ import annotations

import string
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TextIO
from uuid import UUID

from cinema_core import (
    BoxOffice,
    Category,
    CinemaError,
    Event,
    Money,
    Reservation,
    Sale,
    SeatMap,
    SeatStatus,
    SeatsUnavailable,
)
from cinema_core.counter.till import PaymentMethod
from cinema_core.counter.use_cases import CounterOrder
from cinema_core.goods.extras import Extras

from .bootstrap import Services, bootstrap
from .config import Settings
from .worker import BackgroundWorker

HOLD_SECONDS = 2.0
BUYERS = 10
_MARK = {
    SeatStatus.AVAILABLE: "·",
    SeatStatus.HELD: "h",
    SeatStatus.SOLD: "■",
    SeatStatus.BLOCKED: "x",
}
# A small room of the chain: an aisle, a premium row, two couple seats and a broken seat.
LAYOUT = ("ssss_ssss", "ssss_ssss", "pppp_pppp", "cc_ssxs_cc")
PRICES = {
    Category.STANDARD: Money.parse("25.00"),
    Category.PREMIUM: Money.parse("40.00"),
    Category.COUPLE: Money.parse("30.00"),
}


def play(out: TextIO) -> int:
    """Play the story on a fresh in-memory box office; returns 0 when it went as it must."""
    services = bootstrap(Settings(hold_seconds=HOLD_SECONDS, auth_secret="demo"))
    published: list[Event] = []
    services.local_events.subscribe(published.append)
    worker = BackgroundWorker(services, sweep_every=0.05, relay_every=0.05)
    worker.start()
    try:
        return _story(services, published, out)
    finally:
        worker.stop()
        services.close()


def _story(services: Services, published: list[Event], out: TextIO) -> int:
    box = services.box

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    now = datetime.now(UTC)
    starts = now.replace(hour=19, minute=0, second=0, microsecond=0)
    # Far enough ahead that a buyer may still refund (the cut-off is an hour before).
    if starts <= now + box.refund_cutoff * 2:
        starts += timedelta(days=1)
    room = box.create_room(cinema="Centro", name="Sala 1", layout=LAYOUT)
    view = box.create_session(
        movie="Filme X – 19:00",
        room_id=room.id,
        starts_at=starts,
        prices=PRICES,
    )
    session = view.session
    say(f"1. The box office opens “{session.movie}” in {room.name} of {room.cinema}:")
    say(f"   {session.seat_count} seats for sale in {room.rows} rows, an aisle down the middle,")
    say("   a premium row and two couple seats sold only whole:")
    prices = ", ".join(f"{category} R$ {price}" for category, price in session.prices.items())
    say(f"   {prices}; meia-entrada half price, at most 40 % of the seats.")
    for line in _grid(box.seat_map(session.id)):
        say(line)

    say(f"\n2. {BUYERS} people click at the same instant: 5 want seat A1, 5 want seat A2.")
    barrier = threading.Barrier(BUYERS)
    won: dict[str, Reservation] = {}
    refused: list[str] = []
    lock = threading.Lock()

    def buy(user: str, seat: str) -> None:
        barrier.wait()
        try:
            reservation = box.reserve(user, session.id, [seat])
        except SeatsUnavailable:
            with lock:
                refused.append(user)
            return
        with lock:
            won[user] = reservation

    threads = [
        threading.Thread(target=buy, args=(f"user-{n}", "A1" if n <= 5 else "A2"))
        for n in range(1, BUYERS + 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    say(f"   {len(won)} reservations were made and {len(refused)} refused (seats_unavailable):")
    for user, reservation in sorted(won.items(), key=lambda item: str(item[1].seats)):
        seats = ", ".join(str(label) for label in reservation.seats)
        say(f"   - {user} holds {seats} until {reservation.expires_at:%H:%M:%S} UTC")
    for line in _grid(box.seat_map(session.id)):
        say(line)
    if len(won) != 2 or len(refused) != BUYERS - 2:
        say("   That is not what must happen: two winners, eight refused.")
        return 1

    (payer, paid), (waiter, lapsing) = sorted(won.items(), key=lambda item: str(item[1].seats))
    sale, _ = box.pay(paid.id, payer)
    say(
        f"\n3. {payer} pays: sale {str(sale.id)[:8]}…, seats {_labels(sale.seats)} sold, "
        f"R$ {sale.amount}."
    )

    say(f"\n4. {waiter} walks away; the hold on {_labels(lapsing.seats)} lapses by itself:")
    deadline = lapsing.expires_at
    while (left := (deadline - datetime.now(UTC)).total_seconds()) > 0:
        say(f"   … {left:.1f} s left")
        time.sleep(min(0.5, left))
    say(f"   {waiter}'s reservation now reads “{box.reservation(lapsing.id, waiter).status}”.")
    if not _wait_for(lambda: any(e.type == "seat.released" for e in published), 2.0):
        say("   The sweeper did not release the seat in time.")
        return 1
    try:
        box.pay(lapsing.id, waiter)
        say("   Paying it now was accepted — that must not happen.")
        return 1
    except CinemaError as error:
        say(f"   Paying it now is refused: {error.code}.")

    say("\n5. A couple wants D1 alone; a couple seat is sold whole, so they take D1 and D2:")
    try:
        box.reserve("casal", session.id, ["D1"])
        say("   D1 alone was accepted — that must not happen.")
        return 1
    except CinemaError as error:
        say(f"   D1 alone is refused: {error.code} (missing {_labels(error.details['seats'])}).")
    # The counter's goods ride on the same hold: a combo from stock, a promo code's discount.
    box.add_product(code="combo-casal", name="Combo casal", price=Money.parse("45.00"), stock=10)
    box.add_promo_code(code="NAMORADOS", percent_off=20, max_uses=100)
    extras = Extras.asked({"combo-casal": 1}, "namorados")
    pair = box.reserve("casal", session.id, ["D1", "D2"], None, extras)
    box.pay(pair.id, "casal")
    say(
        f"   D1 + D2 and a combo casal (R$ {pair.products[0].amount}), 20 % off with NAMORADOS:"
        f" R$ {pair.subtotal} − R$ {pair.discount_amount} = R$ {pair.amount}, sold."
    )

    quota = session.ticket_types[1].quota(session.seat_count)
    say(
        f"\n6. Students buy meia-entrada (group meia: {quota} of {session.seat_count} seats"
        f" at once; the door asks for the {session.ticket_types[1].document}):"
    )
    school = box.reserve("escola", session.id, [*_seats("B", 1, 8), "C1", "C2"], {"half": 10})
    say(f"   a school holds 10 seats at half price, R$ {school.amount}")
    late = box.reserve("bia", session.id, ["C3", "C4"], {"half": 2})
    say(f"   bia holds 2 more at half price, R$ {late.amount}: the quota is used up")
    try:
        box.reserve("caio", session.id, ["C5"], {"half": 1})
        say("   A 13th half-price seat was accepted — that must not happen.")
        return 1
    except CinemaError as error:
        say(
            f"   caio's half-price seat is refused: {error.code}, {error.details['remaining']} left"
        )
    full = box.reserve("caio", session.id, ["C5"])
    say(f"   caio takes C5 at full price instead, R$ {full.amount}")
    # The over-60 half price is outside the meia group's 40 %.
    senior = box.reserve("rosa", session.id, ["C6"], {"senior": 1})
    say(f"   rosa (60+) still pays half, R$ {senior.amount}: outside the meia-entrada quota")

    say("\n7. The seat map (■ sold, h held, · available, x blocked):")
    seat_map = box.seat_map(session.id)
    for line in _grid(seat_map):
        say(line)
    say(
        f"   available {seat_map.count(SeatStatus.AVAILABLE)}, held "
        f"{seat_map.count(SeatStatus.HELD)}, sold {seat_map.count(SeatStatus.SOLD)}"
    )

    say(f"\n8. {payer}'s purchase history:")
    for bought in box.purchases(payer).items:
        say(
            f"   - {bought.paid_at:%Y-%m-%d %H:%M:%S} UTC  {_labels(bought.seats)}  "
            f"R$ {bought.amount}  (sale {str(bought.id)[:8]}…)"
        )

    if not _after_the_sale(box, session.id, payer, sale, say):
        return 1

    if not _at_the_counter(box, session.id, say):
        return 1

    if not _end_of_the_session(box, session.id, say):
        return 1

    _wait_for(lambda: services.relay.run_once() == 0, 1.0)
    say(f"\n13. Events published ({len(published)}):")
    for event in published:
        data = event.data
        who = data.get("user_id") or data.get("reason", "")
        say(
            f"   {event.occurred_at:%H:%M:%S.%f}"[:-3] + f"  {event.type:<22} "
            f"{','.join(data.get('seats', [data.get('seat', '')]))}  {who}"
        )
    say(
        "\nNo seat was sold twice; every lapsed hold was released exactly once; a refunded "
        "seat was sold again; every ticket let one person in, once."
    )
    return 0


def _after_the_sale(
    box: BoxOffice, session_id: UUID, payer: str, sale: Sale, say: Callable[[str], None]
) -> bool:
    """A refund puts a seat back on sale and someone else buys it; the door lets a ticket in
    once. Says whether it all went as it must."""
    seat = _labels(sale.seats)
    say(f"\n9. {payer} cannot come after all and refunds {seat}:")
    refund = box.refund(sale.id, payer)
    status = box.seat_map(session_id).status(sale.seats[0])
    say(f"   R$ {refund.amount} back; {seat} reads “{status}” again at once.")
    resold = box.reserve("dora", session_id, [str(label) for label in sale.seats])
    second, _ = box.pay(resold.id, "dora")
    now_reads = box.owned_sale(sale.id, payer).status
    say(
        f"   dora buys {seat} (sale {str(second.id)[:8]}…); {payer}'s sale now reads “{now_reads}”."
    )

    say("\n10. At the door, staff scan the tickets:")
    ticket = box.tickets(second.id, "dora")[0]
    let_in = box.check_in(ticket.code, session_id)
    say(f"   dora's ticket for {let_in.seat}: admitted at {let_in.checked_in_at:%H:%M:%S} UTC.")
    refused: list[str] = []
    old = box.tickets(sale.id, payer)[0].code
    for who, code in (("dora's ticket again", ticket.code), (f"{payer}'s old ticket", old)):
        try:
            box.check_in(code, session_id)
            say(f"   {who} was admitted — that must not happen.")
            return False
        except CinemaError as error:
            refused.append(error.code)
            say(f"   {who} is refused: {error.code}.")
    return refused == ["already_checked_in", "ticket_refunded"]


def _at_the_counter(box: BoxOffice, session_id: UUID, say: Callable[[str], None]) -> bool:
    """Ana opens a shift, sells for cash with change and by Pix, and closes the shift with the
    cash counted: its statement, printed. Says whether it all went as it must."""
    say("\n11. At the counter, ana opens her shift with R$ 50.00 in the drawer:")
    shift = box.open_shift("ana", Money.parse("50.00"))
    cash = box.counter_sale(
        "ana",
        CounterOrder(
            session_id, PaymentMethod.CASH, seats=["A7", "A8"], tendered=Money.parse("60.00")
        ),
    )
    tendered = None if cash.counter is None else cash.counter.tendered
    say(
        f"    A7, A8 for R$ {cash.amount} in cash: R$ {tendered} tendered, R$ {cash.change} change;"
    )
    say(f"    their tickets and receipt print at /sales/{cash.id}/print.")
    pix = box.counter_sale("ana", CounterOrder(session_id, PaymentMethod.PIX, seats=["C7"]))
    say(f"    C7 for R$ {pix.amount} by Pix.")
    _, statement = box.close_shift(shift.id, "ana", Money.parse("100.00"))
    methods = {method.value: money for method, money in statement.by_method.items()}
    say("    She counts R$ 100.00 in the drawer and closes the shift. Its statement:")
    say(f"      sales          {statement.sales}")
    for method in ("cash", "card", "pix"):
        say(f"      {method:<14} R$ {methods[method]}")
    say(f"      expected cash  R$ {statement.expected_cash}")
    say(f"      counted cash   R$ {statement.counted_cash}")
    say(f"      difference     R$ {statement.difference}")
    return (str(cash.change), statement.sales, str(statement.difference)) == ("10.00", 2, "0.00")


def _end_of_the_session(box: BoxOffice, session_id: UUID, say: Callable[[str], None]) -> bool:
    """The manager moves the session, then cancels it: every sale refunded in full, the used
    ticket too, and nothing left sold or held. Says whether it all went as it must."""
    before = box.session(session_id).session.starts_at
    moved = box.change_session(session_id, starts_at=before + timedelta(minutes=30)).session
    say(f"\n12. The manager moves the session 30 minutes later, to {moved.starts_at:%H:%M} UTC,")
    say("    then the projector breaks and the session is cancelled:")
    cancelled = box.cancel_session(session_id, "manager")
    seat_map = box.seat_map(session_id)
    sold, held = seat_map.count(SeatStatus.SOLD), seat_map.count(SeatStatus.HELD)
    say(f"    the session reads “{cancelled.status}”; every sale refunded in full (dora's used")
    say(f"    ticket too), sold {sold}, held {held}.")
    try:
        box.reserve("late", session_id, ["A2"])
    except CinemaError as error:
        say(f"    A hold asked now is refused: {error.code}.")
        return sold == held == 0 and error.code == "session_cancelled"
    say("    A hold asked now was accepted — that must not happen.")
    return False


def _labels(labels: Iterable[object]) -> str:
    return ", ".join(str(label) for label in labels)


def _seats(row: str, first: int, last: int) -> list[str]:
    return [f"{row}{number}" for number in range(first, last + 1)]


def _grid(seat_map: SeatMap) -> list[str]:
    """The room as drawn from the screen down: a mark per cell, gaps left blank."""
    status = dict(seat_map.seats)
    width = seat_map.room.columns
    lines = ["        " + "screen".center(width * 2 - 1, "─")]
    for letter in string.ascii_uppercase[: seat_map.room.rows]:
        cells = [" "] * width
        for seat in seat_map.room.plan.seats:
            if seat.label.row == letter:
                cells[seat.column - 1] = _MARK[status[seat.label]]
        lines.append(f"     {letter}  " + " ".join(cells).rstrip())
    return lines


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
