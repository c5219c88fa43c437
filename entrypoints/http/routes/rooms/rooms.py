"""Routes of rooms: create one (admin), list a chain's rooms, read one."""

from __future__ import annotations

from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import Category, RoomNotFound
from cinema_core.rooms.layout import MAX_NAME
from cinema_core.rooms.seats import MAX_ROWS, MAX_SEATS_PER_ROW
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Param, Reply
from entrypoints.http.framework.shapes import NOT_BLANK, Rules, field

EXAMPLE_LAYOUT = ["ssss_ssss", "ssss_ssss", "pppp_pppp", "cc_ssss_cc", "wxss_ssww"]


@attrs.frozen
class CreateRoom:
    """Body of ``POST /rooms``: a room of a cinema and its layout, front row first."""

    cinema: str = field(min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, example="Centro")
    name: str = field(min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, example="Sala 1")
    layout: list[str] = field(
        min_items=1,
        max_items=MAX_ROWS,
        each=Rules(pattern=f"^[spcwx_]{{1,{MAX_SEATS_PER_ROW}}}$"),
        description=(
            "One string per row, front first: s standard, p premium, c couple (runs of even "
            "length, paired from the left), w wheelchair space, x blocked, _ gap."
        ),
        example=EXAMPLE_LAYOUT,
    )


@attrs.frozen
class Room(Answer):
    """A room of a cinema: its layout, front row first, and its seats for sale."""

    id: UUID = out()
    cinema: str = out(example="Centro")
    name: str = out(example="Sala 1")
    layout: list[str] = out(example=EXAMPLE_LAYOUT)
    seat_count: int = out(description="Seats for sale (not blocked).", example=39)
    categories: dict[Category, int] = out(
        description="Seats for sale of each category the room has (a couple seat counts 2).",
        example={"standard": 24, "premium": 8, "couple": 4, "accessible": 3},
    )


@attrs.frozen
class RoomList(Answer):
    """Rooms of the chain."""

    items: list[Room] = out(lambda found: found)


def create_room(call: Call) -> Response:
    body: CreateRoom = call.body
    room = call.services.box.create_room(cinema=body.cinema, name=body.name, layout=body.layout)
    return Room.response(room, 201, {"Location": f"/rooms/{room.id}"})


CINEMA = Param.of("cinema", "Only this cinema's rooms (exact name).", str, max_length=MAX_NAME)


def list_rooms(call: Call) -> Response:
    cinema = call.params(CINEMA)["cinema"]
    return RoomList.response(call.services.box.rooms(cinema))


def get_room(call: Call) -> Response:
    room_id = call.path_uuid("room_id", RoomNotFound)
    return Room.response(call.services.box.room(room_id))


OPERATIONS = (
    Operation(
        "POST",
        "/rooms",
        create_room,
        "Create a room of a cinema from its layout (admin)",
        {
            201: Reply("The new room.", Room, headers=("Location",)),
            409: Reply("room_exists: the cinema has a room of that name", "Error"),
        },
        tag="rooms",
        access="admin",
        body=CreateRoom,
        description=(
            "Seats are numbered from the left within their row, gaps skipped. 1–26 rows, 1–100 "
            "cells a row, at least 16 seats for sale (else 422 too_few_seats)."
        ),
    ),
    Operation(
        "GET",
        "/rooms",
        list_rooms,
        "The chain's rooms, by cinema and name",
        {200: Reply("Every room (of one cinema if asked).", RoomList)},
        tag="rooms",
        query=(CINEMA,),
    ),
    Operation(
        "GET",
        "/rooms/{room_id}",
        get_room,
        "Read a room",
        {200: Reply("The room.", Room), 404: Reply("room_not_found", "Error")},
        tag="rooms",
    ),
)
