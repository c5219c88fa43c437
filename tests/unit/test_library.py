"""The core as a library: one call builds a working box office; errors carry their API codes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from cinema_core import (
    CinemaError,
    ManualClock,
    Money,
    RateLimited,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    SeatsUnavailable,
    StoreUnavailable,
    ValidationFailed,
    in_memory_box_office,
)
from tests.conftest import new_session


def test_an_in_memory_box_office_sells_end_to_end(clock: ManualClock) -> None:
    """in_memory_box_office() needs nothing else: create, reserve, pay, and read the sale."""
    box = in_memory_box_office(clock, hold=timedelta(seconds=5))
    view = box.create_session(
        movie="M",
        room="R",
        starts_at=clock.now() + timedelta(hours=2),
        price=Money.parse("12.50"),
        rows=4,
        seats_per_row=4,
    )
    reservation = box.reserve("u1", view.session.id, ["A1", "A2"])
    assert reservation.expires_at - reservation.created_at == timedelta(seconds=5)
    sale, _ = box.pay(reservation.id, "u1")
    assert box.sale(sale.id) == sale
    assert str(sale.amount) == "25.00"
    assert box.sale(uuid4()) is None


def test_the_default_box_office_runs_on_the_system_clock() -> None:
    """Without a clock, the box office reads real time and holds for 30 s."""
    box = in_memory_box_office()
    assert box.hold == timedelta(seconds=30)
    assert box.clock.now().tzinfo is not None


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (SeatsUnavailable(["A2", "A10", "A1"]), "seats_unavailable", 409),
        (ReservationExpired(), "reservation_expired", 410),
        (ReservationCancelled(), "reservation_cancelled", 409),
        (ReservationConfirmed(), "reservation_confirmed", 409),
        (StoreUnavailable(), "unavailable", 503),
        (RateLimited(2.5), "rate_limited", 429),
    ],
)
def test_errors_carry_their_api_code_and_status(error: CinemaError, code: str, status: int) -> None:
    """Each domain error knows the code and HTTP status the API answers with, and a message."""
    assert (error.code, error.status) == (code, status)
    assert error.message


def test_seat_errors_name_seats_in_label_order() -> None:
    """details.seats lists each seat once, A2 before A10."""
    error = SeatsUnavailable(["A10", "A2", "A2", "B1"])
    assert error.details == {"seats": ["A2", "A10", "B1"]}


def test_rate_limited_says_when_to_retry() -> None:
    """A 429 carries the seconds to wait, for the Retry-After header."""
    error = RateLimited(1.5)
    assert error.retry_after == 1.5
    assert error.details == {"retry_after_seconds": 1.5}


def test_the_readme_library_example_prints_what_its_comments_say(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The README's Python example runs as written and prints what its comments promise."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(example, "README.md", "exec"), {})
    promised = [line.split("# ", 1)[1] for line in example.splitlines() if "print(" in line]
    assert capsys.readouterr().out.splitlines() == promised


@pytest.mark.parametrize("user_id", ["", "a\x00b", "\ud800x", "tab\there", "u" * 65])
def test_the_box_office_refuses_user_ids_no_store_could_keep(user_id: str) -> None:
    """reserve and purchases refuse an id with a NUL, a control character or a lone surrogate
    (PostgreSQL could not store it) with validation_error naming user_id, in memory too."""
    box = in_memory_box_office()
    show = new_session(box, days=1).session
    with pytest.raises(ValidationFailed) as refused:
        box.reserve(user_id, show.id, ["A1"])
    assert set(refused.value.fields) == {"user_id"}
    with pytest.raises(ValidationFailed):
        box.purchases(user_id)
    assert box.seat_map(show.id).count("available") == 16
