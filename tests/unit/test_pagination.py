"""Keyset cursors: opaque, stable as data grows, and garbage is a validation error."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from cinema_core import BoxOffice, ManualClock, SessionView, ValidationFailed
from cinema_core.kernel.pagination import Cursor


def encoded(raw: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def test_a_cursor_reads_back_as_written() -> None:
    """encode then decode gives the same position."""
    cursor = Cursor(datetime(2026, 5, 1, 19, 30, 0, 123456, tzinfo=UTC), uuid4())
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "!!!!",
        "é",
        encoded("just text"),
        encoded(5),
        encoded(["2026-01-01T00:00:00+00:00"]),
        encoded(["not a time", str(uuid4())]),
        encoded(["2026-01-01T00:00:00", str(uuid4())]),  # no timezone
        encoded(["2026-01-01T00:00:00+00:00", "not-a-uuid"]),
        encoded(["2026-01-01T00:00:00+00:00", 5]),
        encoded(["2026-01-01T00:00:00+00:00", None]),
        encoded([5, str(uuid4())]),
        encoded({"at": 1, "id": 2}),
    ],
)
def test_garbage_cursor_is_a_validation_error_on_cursor(text: str) -> None:
    """Whatever the client sends as a cursor, a bad one is 422 naming the field cursor."""
    with pytest.raises(ValidationFailed) as caught:
        Cursor.decode(text)
    assert set(caught.value.fields) == {"cursor"}


def test_listing_with_a_garbage_cursor_is_refused(box: BoxOffice) -> None:
    """The use cases pass cursor errors through as validation errors."""
    with pytest.raises(ValidationFailed):
        box.sessions(cursor="nonsense")
    with pytest.raises(ValidationFailed):
        box.purchases("u1", cursor="nonsense")


def test_purchases_are_newest_first_in_stable_pages(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """A user's sales page newest first; a sale made meanwhile does not shift later pages."""
    sales = []
    for label in ["A1", "A2", "A3", "A4", "B1"]:
        reservation = box.reserve("u1", session.session.id, [label])
        sales.append(box.pay(reservation.id, "u1")[0])
        clock.advance(1)
    box.pay(box.reserve("u2", session.session.id, ["C1"]).id, "u2")  # someone else's
    page = box.purchases("u1", limit=2)
    seen = list(page.items)
    newer = box.reserve("u1", session.session.id, ["D1"])
    box.pay(newer.id, "u1")
    while page.next_cursor:
        page = box.purchases("u1", limit=2, cursor=page.next_cursor)
        seen += page.items
    assert seen == sales[::-1]


def test_purchases_of_a_user_without_sales_are_empty(box: BoxOffice) -> None:
    """No sales: an empty page and no cursor."""
    page = box.purchases("nobody")
    assert (list(page.items), page.next_cursor) == ([], None)


@pytest.mark.parametrize("limit", [0, 201])
def test_purchases_limit_must_be_1_to_200(box: BoxOffice, limit: int) -> None:
    """limit outside 1–200 is a validation error on limit."""
    with pytest.raises(ValidationFailed) as caught:
        box.purchases("u1", limit=limit)
    assert set(caught.value.fields) == {"limit"}
