"""The WaitingLines port, over memory, one Redis server and a Redis Cluster: arrival order,
admission at the set rate within the cap, lapses and leaving freeing places, joining twice."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

from cinema_core import ManualClock
from cinema_core.waiting.room import PlaceStatus, RoomSettings
from tests.concurrency import run_together

LASTS = timedelta(seconds=60)
# One a second: the clock is turned by whole seconds below.
ONE_A_SECOND = RoomSettings(True, 60, 1000)


def ticket(session_id: UUID) -> str:
    return session_id.hex + secrets.token_hex(16)


def opened(lines: Any, clock: ManualClock, settings: RoomSettings = ONE_A_SECOND) -> UUID:
    session_id = uuid.uuid4()
    lines.configure(session_id, settings, clock.now())
    return session_id


def join(lines: Any, clock: ManualClock, session_id: UUID, user: str) -> Any:
    return lines.join(session_id, user, ticket(session_id), clock.now(), LASTS)


def status(lines: Any, clock: ManualClock, session_id: UUID, place: Any) -> PlaceStatus:
    return lines.look(session_id, place.ticket, clock.now(), LASTS).status


def test_a_room_never_set_has_no_settings_and_takes_no_one(
    waiting_lines: Any, clock: ManualClock
) -> None:
    """No settings, joining gives None, figures are empty."""
    session_id = uuid.uuid4()
    assert waiting_lines.settings(session_id) is None
    assert join(waiting_lines, clock, session_id, "u") is None
    assert waiting_lines.figures(session_id, clock.now(), LASTS).settings is None


def test_settings_read_back_as_set(waiting_lines: Any, clock: ManualClock) -> None:
    """What configure wrote is what settings reads; a room switched off takes no one."""
    session_id = opened(waiting_lines, clock, RoomSettings(True, 600, 200))
    assert waiting_lines.settings(session_id) == RoomSettings(True, 600, 200)
    waiting_lines.configure(session_id, RoomSettings(False, 600, 200), clock.now())
    assert waiting_lines.settings(session_id) == RoomSettings(False, 600, 200)
    assert join(waiting_lines, clock, session_id, "u") is None


def test_every_room_ever_set_is_listed(waiting_lines: Any, clock: ManualClock) -> None:
    """rooms() names each session whose room was set, on or off, once however often set."""
    assert waiting_lines.rooms() == []
    first = opened(waiting_lines, clock)
    second = opened(waiting_lines, clock, RoomSettings(False, 600, 200))
    waiting_lines.configure(first, RoomSettings(True, 60, 10), clock.now())
    assert sorted(waiting_lines.rooms()) == sorted([first, second])


def test_the_first_arrival_is_admitted_at_once_the_rest_at_the_rate(
    waiting_lines: Any, clock: ManualClock
) -> None:
    """At one a second, the first is in at once; each second one more, in arrival order."""
    session_id = opened(waiting_lines, clock)
    places = [join(waiting_lines, clock, session_id, f"u{i}") for i in range(4)]
    assert [p.status for p in places] == [PlaceStatus.ADMITTED] + [PlaceStatus.WAITING] * 3
    assert [p.position for p in places[1:]] == [1, 2, 3]
    assert places[0].expires_at == clock.now() + LASTS
    for second in range(1, 4):
        clock.advance(1)
        seen = [status(waiting_lines, clock, session_id, p) for p in places]
        assert seen.count(PlaceStatus.ADMITTED) == second + 1
        assert seen[: second + 1] == [PlaceStatus.ADMITTED] * (second + 1)


def test_admissions_owed_are_made_however_rarely_anyone_asks(
    waiting_lines: Any, clock: ManualClock
) -> None:
    """Ten seconds with no question: the next question admits the ten due since."""
    session_id = opened(waiting_lines, clock)
    places = [join(waiting_lines, clock, session_id, f"u{i}") for i in range(20)]
    clock.advance(10)
    figures = waiting_lines.figures(session_id, clock.now(), LASTS)
    assert (figures.waiting, figures.active) == (9, 11)
    assert status(waiting_lines, clock, session_id, places[10]) is PlaceStatus.ADMITTED
    assert status(waiting_lines, clock, session_id, places[11]) is PlaceStatus.WAITING


def test_a_quiet_spell_is_not_saved_up_as_a_burst(waiting_lines: Any, clock: ManualClock) -> None:
    """A minute with nobody queued, then five arrive: one is in, not all five."""
    session_id = opened(waiting_lines, clock)
    clock.advance(60)
    places = [join(waiting_lines, clock, session_id, f"u{i}") for i in range(5)]
    seen = [status(waiting_lines, clock, session_id, p) for p in places]
    assert seen.count(PlaceStatus.ADMITTED) == 1


def test_the_cap_holds_and_leaving_or_lapsing_frees_a_place(
    waiting_lines: Any, clock: ManualClock
) -> None:
    """Two active at most: a third waits past its slot until one leaves; a lapse frees too."""
    session_id = opened(waiting_lines, clock, RoomSettings(True, 60, 2))
    a, b, c, d = (join(waiting_lines, clock, session_id, user) for user in "abcd")
    clock.advance(5)
    assert status(waiting_lines, clock, session_id, b) is PlaceStatus.ADMITTED
    assert status(waiting_lines, clock, session_id, c) is PlaceStatus.WAITING
    assert waiting_lines.leave(session_id, a.ticket) is True
    assert waiting_lines.look(session_id, a.ticket, clock.now(), LASTS) is None
    assert status(waiting_lines, clock, session_id, c) is PlaceStatus.ADMITTED
    assert status(waiting_lines, clock, session_id, d) is PlaceStatus.WAITING
    clock.advance(LASTS.total_seconds())
    assert status(waiting_lines, clock, session_id, b) is PlaceStatus.LAPSED
    assert status(waiting_lines, clock, session_id, d) is PlaceStatus.ADMITTED


def test_joining_twice_gives_the_same_place(waiting_lines: Any, clock: ManualClock) -> None:
    """Waiting or admitted, a user who joins again keeps the ticket and the position."""
    session_id = opened(waiting_lines, clock)
    first = join(waiting_lines, clock, session_id, "a")
    second = join(waiting_lines, clock, session_id, "b")
    again = join(waiting_lines, clock, session_id, "b")
    assert (again.ticket, again.position, again.new) == (second.ticket, 1, False)
    assert join(waiting_lines, clock, session_id, "a").ticket == first.ticket


def test_after_a_lapse_joining_again_goes_to_the_back(
    waiting_lines: Any, clock: ManualClock
) -> None:
    """A lapsed admission is no place: joining again is a new ticket behind those waiting."""
    session_id = opened(waiting_lines, clock, RoomSettings(True, 1, 1000))
    first = join(waiting_lines, clock, session_id, "a")
    join(waiting_lines, clock, session_id, "b")  # admitted a minute later
    join(waiting_lines, clock, session_id, "c")
    clock.advance(LASTS.total_seconds() + 1)
    again = join(waiting_lines, clock, session_id, "a")
    assert again.ticket != first.ticket
    assert (again.status, again.position) == (PlaceStatus.WAITING, 2)


def test_an_admission_is_active_for_its_own_user_only(
    waiting_lines: Any, clock: ManualClock
) -> None:
    """active_until names the lapse for the ticket's user, nothing for another or after it."""
    session_id = opened(waiting_lines, clock)
    place = join(waiting_lines, clock, session_id, "a")
    until = waiting_lines.active_until(session_id, place.ticket, "a", clock.now())
    assert until == place.expires_at
    assert waiting_lines.active_until(session_id, place.ticket, "b", clock.now()) is None
    clock.advance(LASTS.total_seconds())
    assert waiting_lines.active_until(session_id, place.ticket, "a", clock.now()) is None


def test_users_with_any_text_queue(waiting_lines: Any, clock: ManualClock) -> None:
    """A user id with a lone surrogate and non-ASCII letters reads back as given."""
    session_id = opened(waiting_lines, clock)
    user = "joão\udc80"
    place = join(waiting_lines, clock, session_id, user)
    assert place.user_id == user
    assert waiting_lines.active_until(session_id, place.ticket, user, clock.now()) is not None


def test_simultaneous_arrivals_each_get_one_distinct_place(
    waiting_lines: Any, clock: ManualClock
) -> None:
    """Twenty users joining at once (each twice): twenty places, positions 1…19 behind the
    first, and the same place for a user's second join."""
    session_id = opened(waiting_lines, clock, RoomSettings(True, 1, 1000))

    def arrive(i: int) -> tuple[str, str]:
        user = f"u{i // 2}"
        return user, join(waiting_lines, clock, session_id, user).ticket

    joined = run_together(40, arrive)
    by_user: dict[str, set[str]] = {}
    for user, got in joined:
        by_user.setdefault(user, set()).add(got)
    assert all(len(tickets) == 1 for tickets in by_user.values())
    positions = sorted(
        waiting_lines.look(session_id, next(iter(t)), clock.now(), LASTS).position
        for t in by_user.values()
    )
    assert positions == [0, *range(1, 20)]
