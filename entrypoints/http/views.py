"""Domain objects as the contract's JSON: money as "25.00", instants as ISO 8601 UTC with Z."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from cinema_core import (
    DailySales,
    Line,
    Refund,
    Reservation,
    Room,
    RoomSeat,
    Sale,
    SeatMap,
    SeatStatus,
    SessionReport,
    SessionView,
    Ticket,
    TicketType,
)
from cinema_core.rooms import Plan


def instant(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``; whole seconds are written without a fraction."""
    moment = moment.astimezone(UTC)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def room(r: Room) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "cinema": r.cinema,
        "name": r.name,
        "layout": list(r.layout),
        "seat_count": r.seat_count,
        "categories": {str(category): count for category, count in r.categories.items()},
    }


def ticket_type(t: TicketType) -> dict[str, Any]:
    kind: dict[str, Any] = {"code": t.code, "name": t.name, "percent": t.percent}
    if t.quota_percent is not None:
        kind["quota_percent"] = t.quota_percent
    return kind


def session(view: SessionView) -> dict[str, Any]:
    s = view.session
    return {
        "id": str(s.id),
        "movie": s.movie,
        "room": s.room.name,
        "room_id": str(s.room.id),
        "cinema": s.room.cinema,
        "starts_at": instant(s.starts_at),
        "ends_at": instant(s.ends_at),
        "duration_minutes": s.duration_minutes,
        "price": str(s.price),
        "prices": {str(category): str(price) for category, price in s.prices.items()},
        "currency": s.price.currency,
        "seat_count": s.seat_count,
        "available": view.available,
        "ticket_types": [ticket_type(t) for t in s.ticket_types],
        "forbid_single_gaps": s.forbid_single_gaps,
        "status": str(view.status),
        "sales_close_at": instant(view.sales_close_at),
    }


def lines(found: Sequence[Line]) -> list[dict[str, Any]]:
    return [
        {
            "seat": str(line.seat),
            "category": str(line.category),
            "ticket": line.ticket,
            "price": str(line.price),
        }
        for line in found
    ]


def reservation(r: Reservation) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "session_id": str(r.session_id),
        "user_id": r.user_id,
        "seats": [str(label) for label in r.seats],
        "status": str(r.status),
        "amount": str(r.amount),
        "currency": r.amount.currency,
        "created_at": instant(r.created_at),
        "expires_at": instant(r.expires_at),
        "sale_id": str(r.sale_id) if r.sale_id else None,
        "lines": lines(r.lines),
    }


def sale(s: Sale) -> dict[str, Any]:
    return {
        "id": str(s.id),
        "reservation_id": str(s.reservation_id),
        "session_id": str(s.session_id),
        "user_id": s.user_id,
        "seats": [str(label) for label in s.seats],
        "amount": str(s.amount),
        "currency": s.amount.currency,
        "paid_at": instant(s.paid_at),
        "lines": lines(s.lines),
        "status": str(s.status),
        "refunded_seats": [str(label) for label in s.refunded],
        "refunded_amount": str(s.refunded_amount),
    }


def refund(r: Refund) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "sale_id": str(r.sale_id),
        "session_id": str(r.session_id),
        "user_id": r.user_id,
        "seats": [str(label) for label in r.seats],
        "amount": str(r.amount),
        "currency": r.amount.currency,
        "refunded_at": instant(r.refunded_at),
    }


def ticket(t: Ticket) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "sale_id": str(t.sale_id),
        "session_id": str(t.session_id),
        "seat": str(t.seat),
        "ticket": t.ticket,
        "code": t.code,
        "status": str(t.status),
        "checked_in_at": instant(t.checked_in_at) if t.checked_in_at else None,
    }


def check_in(t: Ticket) -> dict[str, Any]:
    assert t.checked_in_at is not None
    return {
        "ticket_id": str(t.id),
        "session_id": str(t.session_id),
        "seat": str(t.seat),
        "checked_in_at": instant(t.checked_in_at),
    }


def session_report(r: SessionReport) -> dict[str, Any]:
    return {
        "session_id": str(r.session_id),
        "seat_count": r.seat_count,
        "available": r.available,
        "held": r.held,
        "sold": r.sold,
        "blocked": r.blocked,
        "checked_in": r.checked_in,
        "revenue": str(r.revenue),
        "refunded": str(r.refunded),
        "by_category": {
            str(category): {"seats": f.seats, "sold": f.sold, "revenue": str(f.revenue)}
            for category, f in r.by_category.items()
        },
        "by_ticket": {
            code: {"sold": f.sold, "revenue": str(f.revenue)} for code, f in r.by_ticket.items()
        },
    }


DAILY_SALES_FIELDS = ("date", "cinema", "movie", "sessions", "tickets", "revenue")


def daily_sales(row: DailySales) -> dict[str, Any]:
    return {
        "date": row.date.isoformat(),
        "cinema": row.cinema,
        "movie": row.movie,
        "sessions": row.sessions,
        "tickets": row.tickets,
        "revenue": str(row.revenue),
    }


_COUNTED = (SeatStatus.AVAILABLE, SeatStatus.HELD, SeatStatus.SOLD, SeatStatus.BLOCKED)


def _seat(seat: RoomSeat, status: SeatStatus) -> dict[str, Any]:
    label = seat.label
    found: dict[str, Any] = {
        "label": str(label),
        "row": label.row,
        "number": label.number,
        "column": seat.column,
        "category": str(seat.category),
        "status": str(status),
    }
    if seat.pair is not None:
        found["pair"] = str(seat.pair)
    return found


def seat_map(m: SeatMap) -> dict[str, Any]:
    counts = dict.fromkeys(map(str, _COUNTED), 0)
    seats = []
    plan = m.room.plan
    for (label, status), room_seat in zip(m.seats, plan.seats, strict=True):
        assert room_seat.label == label
        counts[status] += 1
        seats.append(_seat(room_seat, status))
    return {
        "session_id": str(m.session_id),
        **counts,
        "rows": m.room.rows,
        "columns": m.room.columns,
        "seats": seats,
    }


class _SeatFragments(dict[RoomSeat, tuple[bytes, ...]]):
    """Each room seat's JSON object, encoded once for each status (in ``_COUNTED``'s order).

    Keyed by the room's seat (label, column, category, pair): rooms share most of them.
    """

    def __missing__(self, key: RoomSeat) -> tuple[bytes, ...]:
        # Copied to bytes of their own size: orjson's answer keeps its 4 KiB buffer, and a
        # 2,600-seat room's fragments would hold 50 MiB instead of 2.
        found = tuple(bytes(memoryview(orjson.dumps(_seat(key, status)))) for status in _COUNTED)
        self[key] = found
        return found


_FRAGMENTS = _SeatFragments()


# The fragments of each plan's seats, in its order, by the plan's identity (a Plan hashes all
# its seats): plans are shared per layout (rooms.plan), so this is one entry per room.
_PLAN_FRAGMENTS: dict[int, tuple[Plan, tuple[tuple[bytes, ...], ...]]] = {}
_PLANS_KEPT = 64


def _plan_fragments(plan: Plan) -> tuple[tuple[bytes, ...], ...]:
    """A map is encoded by position, without hashing 2,600 room seats (attrs hashes in
    Python) each time the map changes."""
    found = _PLAN_FRAGMENTS.get(id(plan))
    if found is None or found[0] is not plan:
        if len(_PLAN_FRAGMENTS) >= _PLANS_KEPT:
            _PLAN_FRAGMENTS.clear()
        found = (plan, tuple(_FRAGMENTS[room_seat] for room_seat in plan.seats))
        _PLAN_FRAGMENTS[id(plan)] = found
    return found[1]


_INDEX = {status: index for index, status in enumerate(_COUNTED)}


# The last body made of each session's seat map, with its ETag: the box office hands out the
# same SeatMap object while nothing in it changed, and then its body is the same too.
_BODIES: dict[UUID, tuple[SeatMap, bytes, str]] = {}
_BODIES_SIZE = 16


def seat_map_json(m: SeatMap) -> tuple[bytes, str]:
    """``seat_map(m)`` already encoded, byte for byte what ``orjson.dumps`` makes of it, with
    its entity tag (a digest of the body).

    A 2,600-seat map is the API's largest answer: it is spliced from per-seat fragments
    encoded once, instead of building and encoding 2,600 dicts per read; and the body of an
    unchanged map is reused.
    """
    last = _BODIES.get(m.session_id)
    if last is not None and last[0] is m:
        return last[1], last[2]
    body = _encode_seat_map(m)
    tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    if m.session_id not in _BODIES and len(_BODIES) >= _BODIES_SIZE:
        _BODIES.clear()
    _BODIES[m.session_id] = (m, body, tag)
    return body, tag


def _encode_seat_map(m: SeatMap) -> bytes:
    index = _INDEX
    statuses = [status for _, status in m.seats]
    seats = b",".join(
        [
            fragments[index[status]]
            for status, fragments in zip(statuses, _plan_fragments(m.room.plan), strict=True)
        ]
    )
    head = (
        b'{"session_id":"%s","available":%d,"held":%d,"sold":%d,"blocked":%d,'
        b'"rows":%d,"columns":%d,"seats":['
        % (
            str(m.session_id).encode(),
            statuses.count(SeatStatus.AVAILABLE),
            statuses.count(SeatStatus.HELD),
            statuses.count(SeatStatus.SOLD),
            statuses.count(SeatStatus.BLOCKED),
            m.room.rows,
            m.room.columns,
        )
    )
    return head + seats + b"]}"
