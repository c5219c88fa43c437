"""The purchase history of a user: that user's own, or anyone's for an admin."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from cinema_core import Forbidden, NotFound
from cinema_core.users import user_id_problem

from . import views
from .operations import Call, Operation, Reply
from .responses import json_response
from .sessions import PAGE

SCHEMAS: dict[str, dict[str, Any]] = {
    "SalePage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Sale"}},
            "next_cursor": {"type": "string", "nullable": True},
        },
    },
}


def purchases(call: Call) -> Response:
    user_id = call.request.path_params["user_id"]
    if user_id_problem(user_id) is not None:
        # No user can have this id (a NUL, a control character, too long): nothing is here.
        raise NotFound("No user has this id.")
    if not (call.user.is_admin or call.user.user_id == user_id):
        raise Forbidden("Only that user or an admin may read these purchases.")
    page = call.services.box.purchases(user_id, call.limit(), call.cursor())
    return json_response(
        {"items": [views.sale(sale) for sale in page.items], "next_cursor": page.next_cursor}
    )


OPERATIONS = (
    Operation(
        "GET",
        # A path convertor: a user id may hold a slash (sent as %2F, which arrives decoded).
        "/users/{user_id:path}/purchases",
        purchases,
        "A user's purchases, newest first (that user or an admin)",
        {200: Reply("A page of sales.", "SalePage"), 403: Reply("forbidden", "Error")},
        tag="purchases",
        access="user",
        query=PAGE,
    ),
)
