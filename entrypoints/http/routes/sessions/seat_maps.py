"""The seat map's answer: its declaration, and its body spliced from per-seat fragments."""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from collections.abc import Sequence
from operator import itemgetter
from typing import Any
from uuid import UUID

import attrs
import orjson

import cinema_core
from cinema_core import Category, RoomSeat, SeatStatus
from cinema_core.rooms.layout import Plan
from entrypoints.http.framework.answers import Answer, out


@attrs.frozen
class Seat(Answer):
    """One seat of a session's map (encoded from a room seat and its status)."""

    label: str = out(lambda s: s[0].label, example="A1")
    row: str = out(lambda s: s[0].label.row, example="A")
    number: int = out(lambda s: s[0].label.number, example=1)
    column: int = out(
        lambda s: s[0].column,
        description="The cell's 1-based place in its layout row (gaps count).",
        example=1,
    )
    category: Category = out(lambda s: s[0].category)
    status: SeatStatus = out(lambda s: s[1])
    pair: str | None = out(
        lambda s: s[0].pair, omit_none=True, description="The other half of a couple seat."
    )


@attrs.frozen
class Quota(Answer):
    """A quota group now: its limit, the seats held (unlapsed) or sold under it, what is left."""

    limit: int = out(example=15)
    used: int = out(example=3)
    left: int = out(example=12)


def _count(status: SeatStatus) -> Any:
    return lambda m: sum(1 for _, found in m.seats if found is status)


def _seats(m: cinema_core.SeatMap) -> Sequence[tuple[RoomSeat, SeatStatus]]:
    return [
        (room_seat, status)
        for (_, status), room_seat in zip(m.seats, m.room.plan.seats, strict=True)
    ]


@attrs.frozen
class SeatMap(Answer):
    """Every seat of a session with its status, and how many are in each status.

    Declared for the document and the event stream's snapshots; ``seat_map_json`` writes the
    same bytes from fragments, for GET .../seats."""

    session_id: UUID = out()
    available: int = out(_count(SeatStatus.AVAILABLE))
    held: int = out(_count(SeatStatus.HELD))
    sold: int = out(_count(SeatStatus.SOLD))
    blocked: int = out(_count(SeatStatus.BLOCKED))
    rows: int = out("room.rows")
    columns: int = out("room.columns")
    seats: list[Seat] = out(_seats)
    quotas: dict[str, Quota] = out(
        description="Each quota group (e.g. meia) with its limit, use and what is left, now."
    )


_COUNTED = (SeatStatus.AVAILABLE, SeatStatus.HELD, SeatStatus.SOLD, SeatStatus.BLOCKED)


class _SeatFragments(dict[RoomSeat, tuple[bytes, ...]]):
    """Each room seat's JSON object, encoded once for each status (in ``_COUNTED``'s order).

    Keyed by the room's seat (label, column, category, pair): rooms share most of them.
    """

    def __missing__(self, key: RoomSeat) -> tuple[bytes, ...]:
        # Copied to bytes of their own size: orjson's answer keeps its 4 KiB buffer, and a
        # 2,600-seat room's fragments would hold 50 MiB instead of 2.
        found = tuple(
            bytes(memoryview(orjson.dumps(Seat.encode((key, status))))) for status in _COUNTED
        )
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


# The last body made of each session's seat map, with its ETag and the seats' fragments it was
# spliced from: the box office hands out the same SeatMap object while nothing in it changed,
# and then its body is the same too; after a sale it hands out a map sharing every (label,
# status) pair that did not change, and only those that did are looked up again.
_BODIES: dict[UUID, tuple[cinema_core.SeatMap, bytes, str, list[bytes]]] = {}
_BODIES_SIZE = 16


def seat_map_json(m: cinema_core.SeatMap) -> tuple[bytes, str]:
    """``SeatMap.json(m)``, byte for byte, with its entity tag (a digest of the body).

    A 2,600-seat map is the API's largest answer: it is spliced from per-seat fragments
    encoded once, instead of building and encoding 2,600 dicts per read; and the body of an
    unchanged map is reused.
    """
    last = _BODIES.get(m.session_id)
    if last is not None and last[0] is m:
        return last[1], last[2]
    parts = _parts(m, last)
    body = _encode_seat_map(m, parts)
    tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    if m.session_id not in _BODIES and len(_BODIES) >= _BODIES_SIZE:
        _BODIES.clear()
    _BODIES[m.session_id] = (m, body, tag, parts)
    return body, tag


# The gzip-coded body of each session's last body, with the plain body's tag: made on the first
# read that accepts gzip, once for each version of the map. Level 1 takes a 2,600-seat map's
# 241 KB to 21 KB in about 0.6 ms: a tenth of the bytes to every browser, on every read.
_GZIPPED: dict[UUID, tuple[str, bytes]] = {}


def gzip_tag(tag: str) -> str:
    """The entity tag of a body's gzip-coded form: a representation of its own."""
    return tag[:-1] + '-gzip"'


def gzipped(session_id: UUID, body: bytes, tag: str) -> bytes:
    """A session's seat-map ``body`` (of entity tag ``tag``, from ``seat_map_json``)
    gzip-coded, made once for each version."""
    kept = _GZIPPED.get(session_id)
    if kept is None or kept[0] != tag:
        kept = (tag, gzip.compress(body, compresslevel=1, mtime=0))
        if session_id not in _GZIPPED and len(_GZIPPED) >= _BODIES_SIZE:
            _GZIPPED.clear()
        _GZIPPED[session_id] = kept
    return kept[1]


def _parts(
    m: cinema_core.SeatMap, last: tuple[cinema_core.SeatMap, bytes, str, list[bytes]] | None
) -> list[bytes]:
    """Each seat's fragment for its status, in the map's order: ``last``'s fragments again
    where its map had the very same (label, status) pair."""
    index = _INDEX
    plan = _plan_fragments(m.room.plan)
    if last is None or last[0].room.plan is not m.room.plan:
        return [
            fragments[index[status]] for (_, status), fragments in zip(m.seats, plan, strict=True)
        ]
    old, parts = last[0].seats, last[3].copy()
    for at, (pair, was) in enumerate(zip(m.seats, old, strict=True)):
        if pair is not was:
            parts[at] = plan[at][index[pair[1]]]
    return parts


def _encode_seat_map(m: cinema_core.SeatMap, parts: list[bytes]) -> bytes:
    counts = Counter(map(itemgetter(1), m.seats))
    seats = b",".join(parts)
    head = (
        b'{"session_id":"%s","available":%d,"held":%d,"sold":%d,"blocked":%d,'
        b'"rows":%d,"columns":%d,"seats":['
        % (
            str(m.session_id).encode(),
            counts[SeatStatus.AVAILABLE],
            counts[SeatStatus.HELD],
            counts[SeatStatus.SOLD],
            counts[SeatStatus.BLOCKED],
            m.room.rows,
            m.room.columns,
        )
    )
    quotas = orjson.dumps({group: Quota.encode(use) for group, use in m.quotas.items()})
    return head + seats + b'],"quotas":' + quotas + b"}"
