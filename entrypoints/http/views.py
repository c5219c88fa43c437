"""Domain objects as the contract's JSON: money as "25.00", instants as ISO 8601 UTC with Z."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from cinema_core import Reservation, Sale, SeatMap, SeatStatus, SessionView


def instant(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``; whole seconds are written without a fraction."""
    moment = moment.astimezone(UTC)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def session(view: SessionView) -> dict[str, Any]:
    s = view.session
    return {
        "id": str(s.id),
        "movie": s.movie,
        "room": s.room,
        "starts_at": instant(s.starts_at),
        "price": str(s.price),
        "currency": s.price.currency,
        "seat_count": s.seat_count,
        "available": view.available,
    }


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
    }


def seat_map(m: SeatMap) -> dict[str, Any]:
    counts = {"available": 0, "held": 0, "sold": 0}
    seats = []
    for label, status in m.seats:
        counts[status] += 1
        seats.append(
            {"label": str(label), "row": label.row, "number": label.number, "status": str(status)}
        )
    return {"session_id": str(m.session_id), **counts, "seats": seats}


class _SeatFragments(dict[tuple[str, int], tuple[bytes, bytes, bytes]]):
    """Each seat's JSON object, encoded once per label for each status (available, held, sold).

    Labels are the same in every session (at most 26 × 100 of them), so this stays small.
    """

    def __missing__(self, key: tuple[str, int]) -> tuple[bytes, bytes, bytes]:
        row, number = key
        seat = {"label": f"{row}{number}", "row": row, "number": number}
        found = (
            orjson.dumps({**seat, "status": "available"}),
            orjson.dumps({**seat, "status": "held"}),
            orjson.dumps({**seat, "status": "sold"}),
        )
        self[key] = found
        return found


_FRAGMENTS = _SeatFragments()


# The last body made of each session's seat map: the box office hands out the same SeatMap
# object while nothing in it changed, and then its body is the same too.
_BODIES: dict[UUID, tuple[SeatMap, bytes]] = {}
_BODIES_SIZE = 16


def seat_map_json(m: SeatMap) -> bytes:
    """``seat_map(m)`` already encoded, byte for byte what ``orjson.dumps`` makes of it.

    A 2,600-seat map is the API's largest answer: it is spliced from per-label fragments
    encoded once, instead of building and encoding 2,600 dicts per read; and the body of an
    unchanged map is reused.
    """
    last = _BODIES.get(m.session_id)
    if last is not None and last[0] is m:
        return last[1]
    body = _encode_seat_map(m)
    if m.session_id not in _BODIES and len(_BODIES) >= _BODIES_SIZE:
        _BODIES.clear()
    _BODIES[m.session_id] = (m, body)
    return body


def _encode_seat_map(m: SeatMap) -> bytes:
    available, held = SeatStatus.AVAILABLE, SeatStatus.HELD
    fragments = _FRAGMENTS
    statuses = [status for _, status in m.seats]
    seats = b",".join(
        [
            fragments[label.row, label.number][
                0 if status is available else 1 if status is held else 2
            ]
            for label, status in m.seats
        ]
    )
    head = b'{"session_id":"%s","available":%d,"held":%d,"sold":%d,"seats":[' % (
        str(m.session_id).encode(),
        statuses.count(available),
        statuses.count(held),
        statuses.count(SeatStatus.SOLD),
    )
    return head + seats + b"]}"
