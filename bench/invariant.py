"""The invariant every run ends with: what was sold is exactly what buyers were told they bought,
no seat twice, amounts right. Read back through the API, and by SQL when PostgreSQL is the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs


@attrs.define
class Check:
    """One scenario's verdict, with every problem found (empty when it passed)."""

    name: str
    facts: list[str] = attrs.Factory(list)
    problems: list[str] = attrs.Factory(list)
    # Per session checked through the API: (seats sold, total of its sales), for the SQL check.
    sold: dict[str, tuple[int, str]] = attrs.Factory(dict)

    @property
    def passed(self) -> bool:
        return not self.problems

    def expect(self, ok: bool, fact: str, problem: str) -> None:
        (self.facts if ok else self.problems).append(fact if ok else problem)

    def require(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


def sales_of(session_id: str, purchases: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The sales of one session among every user's purchases."""
    return [
        sale for sales in purchases.values() for sale in sales if sale["session_id"] == session_id
    ]


def check_session(
    check: Check,
    seat_map: dict[str, Any],
    api_sales: list[dict[str, Any]],
    recorded: Iterable[dict[str, Any]],
    prices: Mapping[str, str],
    *,
    sold_out: bool = False,
) -> None:
    """Hold one session's seat map and sales (as the API lists them) against what the
    generator was answered when it paid (``recorded``)."""
    recorded = list(recorded)
    label = seat_map["session_id"][:8]
    sold_labels = {seat["label"] for seat in seat_map["seats"] if seat["status"] == "sold"}
    held = seat_map["held"]
    check.expect(
        held == 0,
        f"{label}: no seat left held",
        f"{label}: {held} seats still held at the end",
    )
    if sold_out:
        total = sum(1 for seat in seat_map["seats"] if seat["status"] != "blocked")
        check.expect(
            len(sold_labels) == total and seat_map["sold"] == total,
            f"{label}: all {total} seats sold",
            f"{label}: {len(sold_labels)} of {total} seats sold (map says sold={seat_map['sold']})",
        )
    per_seat = Counter(seat for sale in api_sales for seat in sale["seats"])
    twice = sorted(seat for seat, n in per_seat.items() if n > 1)
    check.expect(
        not twice,
        f"{label}: no seat in two sales ({len(api_sales)} sales, {len(per_seat)} seats)",
        f"{label}: seats sold twice: {twice[:20]}",
    )
    check.expect(
        set(per_seat) == sold_labels,
        f"{label}: seat map and sales agree",
        f"{label}: seat map sold {len(sold_labels)} seats, sales list {len(per_seat)}; "
        f"differ on {sorted(set(per_seat) ^ sold_labels)[:20]}",
    )
    category = {seat["label"]: seat["category"] for seat in seat_map["seats"]}
    wrong = [
        sale["id"]
        for sale in api_sales
        if Decimal(sale["amount"]) != sum(Decimal(line["price"]) for line in sale["lines"])
        or any(
            Decimal(line["price"]) != Decimal(prices[category[line["seat"]]])
            for line in sale["lines"]
        )
        or [line["seat"] for line in sale["lines"]] != sale["seats"]
    ]
    check.expect(
        not wrong,
        f"{label}: every amount is the sum of its seats' prices by category",
        f"{label}: wrong amounts in sales {wrong[:10]}",
    )
    takings = sum((Decimal(sale["amount"]) for sale in api_sales), Decimal(0))
    check.sold[seat_map["session_id"]] = (len(sold_labels), f"{takings:.2f}")
    told = {sale["id"]: sale for sale in recorded}
    listed = {sale["id"]: sale for sale in api_sales}
    check.expect(
        told.keys() == listed.keys(),
        f"{label}: the {len(told)} sales buyers were told of are exactly those listed",
        f"{label}: buyers were told of {len(told)} sales, the API lists {len(listed)}; "
        f"{len(told.keys() - listed.keys())} missing, {len(listed.keys() - told.keys())} unknown",
    )
    changed = [
        id
        for id, sale in told.items()
        if id in listed
        and (
            sorted(sale["seats"]) != sorted(listed[id]["seats"])
            or sale["amount"] != listed[id]["amount"]
        )
    ]
    check.expect(
        not changed,
        f"{label}: each sale lists the seats and amount its buyer was answered",
        f"{label}: sales differ from their payment answers: {changed[:10]}",
    )
