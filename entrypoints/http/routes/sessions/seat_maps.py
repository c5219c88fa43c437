"""The seat map's answer: its declaration, and its body spliced from per-seat fragments."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from itertools import compress
from operator import is_not, itemgetter
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

    Declared for the document and the event stream's snapshots; ``seat_map_body`` writes the
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
# Seats per chunk of a body: a change re-joins, re-hashes and re-compresses only the chunks its
# seats fall in (a 2,600-seat map is 26 chunks of ~9 KB).
_CHUNK = 100
# gzip's member header (no name, no time, fastest level: RFC 1952) and a last, empty block.
_GZIP_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\xff"
_LAST_BLOCK = zlib.compressobj(1, zlib.DEFLATED, -15).flush()


def _deflate(data: bytes) -> bytes:
    """``data`` as deflate blocks that end on a byte boundary and refer to nothing before
    them: any such runs one after the other make one deflate stream (RFC 1951)."""
    coder = zlib.compressobj(1, zlib.DEFLATED, -15)
    return coder.compress(data) + coder.flush(zlib.Z_SYNC_FLUSH)


class _Chunk:
    """The fragments of a run of seats, joined, with a digest; deflated when first asked."""

    __slots__ = ("_deflated", "data", "digest")

    def __init__(self, data: bytes):
        self.data = data
        self.digest = hashlib.blake2b(data, digest_size=16).digest()
        self._deflated: bytes | None = None

    def deflated(self) -> bytes:
        # Two threads may both make it: the same bytes, so either may be kept.
        if self._deflated is None:
            self._deflated = _deflate(self.data)
        return self._deflated


class SeatMapBody:
    """One version of a session's seat-map answer: its JSON, its entity tag, its gzip form.

    Made of a head (the counts, by status in ``_COUNTED``'s order), chunks of seats and a tail
    (the quotas). The next version of the map shares every chunk whose seats did not change, so
    a change costs only the chunks it touches: the tag is a digest of the head, the chunks'
    digests and the tail, and the gzip form joins each part's deflate blocks, made once per
    chunk. Both depend on the bytes alone, never on the versions before: every process makes
    the same tag for the same map.
    """

    __slots__ = ("_gzipped", "_plain", "chunks", "counts", "head", "map", "parts", "tag", "tail")

    def __init__(
        self,
        m: cinema_core.SeatMap,
        parts: list[bytes],
        counts: list[int],
        chunks: list[_Chunk],
    ):
        self.map, self.parts, self.counts, self.chunks = m, parts, counts, chunks
        self.head = (
            b'{"session_id":"%s","available":%d,"held":%d,"sold":%d,"blocked":%d,'
            b'"rows":%d,"columns":%d,"seats":['
            % (
                str(m.session_id).encode(),
                counts[0],
                counts[1],
                counts[2],
                counts[3],
                m.room.rows,
                m.room.columns,
            )
        )
        quotas = orjson.dumps({group: Quota.encode(use) for group, use in m.quotas.items()})
        self.tail = b'],"quotas":' + quotas + b"}"
        digests = b"".join(chunk.digest for chunk in chunks)
        digest = hashlib.blake2b(self.head + digests + self.tail, digest_size=12)
        self.tag = '"' + digest.hexdigest() + '"'
        self._plain: bytes | None = None
        self._gzipped: bytes | None = None

    @property
    def plain(self) -> bytes:
        if self._plain is None:
            self._plain = b"".join([self.head, *(c.data for c in self.chunks), self.tail])
        return self._plain

    @property
    def gzipped(self) -> bytes:
        """The body gzip-coded (level 1): a tenth of the bytes to every browser."""
        if self._gzipped is None:
            crc = zlib.crc32(self.head)
            for chunk in self.chunks:
                crc = zlib.crc32(chunk.data, crc)
            crc = zlib.crc32(self.tail, crc)
            size = len(self.head) + len(self.tail) + sum(len(c.data) for c in self.chunks)
            self._gzipped = b"".join(
                [
                    _GZIP_HEAD,
                    _deflate(self.head),
                    *(chunk.deflated() for chunk in self.chunks),
                    _deflate(self.tail),
                    _LAST_BLOCK,
                    struct.pack("<II", crc, size & 0xFFFFFFFF),
                ]
            )
        return self._gzipped


# The last body made of each session's seat map: the box office hands out the same SeatMap
# object while nothing in it changed, and then its body is the same too; after a sale it hands
# out a map sharing every (label, status) pair that did not change, and only the chunks of
# those that did are made again.
_BODIES: dict[UUID, SeatMapBody] = {}
_BODIES_SIZE = 16


def seat_map_body(m: cinema_core.SeatMap) -> SeatMapBody:
    """``SeatMap.json(m)``, byte for byte (``plain``), with its entity tag and gzip form.

    A 2,600-seat map is the API's largest answer: it is spliced from per-seat fragments
    encoded once, instead of building and encoding 2,600 dicts per read; the body of an
    unchanged map is reused, and a changed one shares the chunks of the seats that did not
    change.
    """
    last = _BODIES.get(m.session_id)
    if last is not None and last.map is m:
        return last
    if last is not None and last.map.room.plan is m.room.plan:
        body = _patched(m, last)
    else:
        body = _whole(m)
    if m.session_id not in _BODIES and len(_BODIES) >= _BODIES_SIZE:
        _BODIES.clear()
    _BODIES[m.session_id] = body
    return body


def gzip_tag(tag: str) -> str:
    """The entity tag of a body's gzip-coded form: a representation of its own."""
    return tag[:-1] + '-gzip"'


def _whole(m: cinema_core.SeatMap) -> SeatMapBody:
    plan = _plan_fragments(m.room.plan)
    parts = [
        fragments[_INDEX[status]] for (_, status), fragments in zip(m.seats, plan, strict=True)
    ]
    found = Counter(map(itemgetter(1), m.seats))
    counts = [found[status] for status in _COUNTED]
    chunks = [_chunk(parts, start) for start in range(0, len(parts), _CHUNK)]
    return SeatMapBody(m, parts, counts, chunks)


def _patched(m: cinema_core.SeatMap, last: SeatMapBody) -> SeatMapBody:
    """``last``'s parts again where its map had the very same (label, status) pair."""
    old = last.map.seats
    # The changed seats found without a Python loop over all of them (a few of 2,600).
    changed = list(compress(range(len(old)), map(is_not, m.seats, old)))
    if not changed:
        return SeatMapBody(m, last.parts, last.counts, last.chunks)
    plan = _plan_fragments(m.room.plan)
    parts, counts, chunks = last.parts.copy(), last.counts.copy(), last.chunks.copy()
    for at in changed:
        was, now = _INDEX[old[at][1]], _INDEX[m.seats[at][1]]
        counts[was] -= 1
        counts[now] += 1
        parts[at] = plan[at][now]
    for start in {at - at % _CHUNK for at in changed}:
        chunks[start // _CHUNK] = _chunk(parts, start)
    return SeatMapBody(m, parts, counts, chunks)


def _chunk(parts: list[bytes], start: int) -> _Chunk:
    joined = b",".join(parts[start : start + _CHUNK])
    return _Chunk(joined if start == 0 else b"," + joined)
