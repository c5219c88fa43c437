"""The purchase history of a user: that user's own, or anyone's for an admin."""

from __future__ import annotations

import attrs
from starlette.responses import Response

from cinema_core import Forbidden, NotFound
from cinema_core.kernel.users import user_id_problem
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.routes.selling.reservations import Sale
from entrypoints.http.routes.sessions.sessions import PAGE


@attrs.frozen
class SalePage(Answer):
    """A page of a user's sales; next_cursor asks for the next one (null on the last)."""

    items: list[Sale] = out()
    next_cursor: str | None = out()


def purchases(call: Call) -> Response:
    user_id = call.request.path_params["user_id"]
    if user_id_problem(user_id) is not None:
        # No user can have this id (a NUL, a control character, too long): nothing is here.
        raise NotFound("No user has this id.")
    if not (call.user.is_admin or call.user.user_id == user_id):
        raise Forbidden("Only that user or an admin may read these purchases.")
    page = call.services.box.purchases(user_id, call.limit(), call.cursor())
    return SalePage.response(page)


OPERATIONS = (
    Operation(
        "GET",
        # A path convertor: a user id may hold a slash (sent as %2F, which arrives decoded).
        "/users/{user_id:path}/purchases",
        purchases,
        "A user's purchases, newest first (that user or an admin)",
        {200: Reply("A page of sales.", SalePage), 403: Reply("forbidden", "Error")},
        tag="purchases",
        access="user",
        query=PAGE,
    ),
)
