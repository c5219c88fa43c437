"""Routes of shifts: an operator opens one with a float, reads it, closes it with the cash
counted (each only by its operator or an admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import Money
from cinema_core.counter.shifts import Shift as ShiftModel
from cinema_core.counter.shifts import ShiftStatement
from cinema_core.errors import ShiftNotFound
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.shapes import days_from_now, field


@attrs.frozen
class OpenShift:
    """Body of ``POST /shifts``: the cash put in the drawer to give change from."""

    float: Money = field(example="100.00", description="The drawer's float (≥ 0).")


@attrs.frozen
class CloseShift:
    """Body of ``POST /shifts/{id}/close``: the cash counted in the drawer."""

    counted_cash: Money = field(example="245.00", description="The cash counted (≥ 0).")


@attrs.frozen
class ByMethod(Answer):
    """Money kept by method: sold minus refunded."""

    cash: Money = out(lambda by: by["cash"], example="125.00")
    card: Money = out(lambda by: by["card"], example="50.00")
    pix: Money = out(lambda by: by["pix"], example="25.00")


def _statement(pair: tuple[ShiftModel, ShiftStatement]) -> ShiftStatement:
    return pair[1]


def _shift(pair: tuple[ShiftModel, ShiftStatement]) -> ShiftModel:
    return pair[0]


def _by_method(pair: tuple[ShiftModel, ShiftStatement]) -> dict[str, Money]:
    return {method.value: money for method, money in pair[1].by_method.items()}


@attrs.frozen
class Shift(Answer):
    """An operator's shift and its statement: running while open, final once closed. Every
    figure counts exactly the counter sales of the shift, net of their refunds."""

    id: UUID = out(lambda pair: _shift(pair).id)
    operator: str = out(lambda pair: _shift(pair).operator, example="ana")
    status: str = out(lambda pair: "open" if _shift(pair).is_open else "closed", example="open")
    float: Money = out(lambda pair: _shift(pair).float_, example="100.00")
    currency: str = out(lambda pair: _shift(pair).float_.currency, example="BRL")
    opened_at: datetime = out(
        lambda pair: _shift(pair).opened_at, example=days_from_now(0, hour=13)
    )
    closed_at: datetime | None = out(lambda pair: _shift(pair).closed_at)
    sales: int = out(
        lambda pair: _statement(pair).sales, example=3, description="Counter sales made."
    )
    gross: Money = out(lambda pair: _statement(pair).gross, example="225.00")
    refunds: int = out(
        lambda pair: _statement(pair).refunds, example=1, description="Tickets refunded."
    )
    refunded: Money = out(lambda pair: _statement(pair).refunded, example="25.00")
    net: Money = out(lambda pair: _statement(pair).net, example="200.00")
    by_method: ByMethod = out(_by_method)
    expected_cash: Money = out(
        lambda pair: _statement(pair).expected_cash,
        example="225.00",
        description="The float plus the cash taken minus the cash given back.",
    )
    counted_cash: Money | None = out(
        lambda pair: _statement(pair).counted_cash, example=None, description="Once closed."
    )
    difference: Money | None = out(
        lambda pair: _statement(pair).difference,
        example=None,
        description="Once closed: counted minus expected (negative when cash is missing).",
    )


@attrs.frozen
class ShiftList(Answer):
    """The caller's open shift, as a list (empty or one)."""

    items: list[Shift] = out(lambda found: found)


def _shift_id(call: Call) -> Any:
    return call.path_uuid("shift_id", ShiftNotFound)


def open_shift(call: Call) -> Response:
    body: OpenShift = call.body
    box = call.services.box
    shift = box.open_shift(call.user.user_id, body.float)
    return Shift.response(box.shift(shift.id, call.user.user_id), 201)


def open_shifts(call: Call) -> Response:
    box, user_id = call.services.box, call.user.user_id
    return ShiftList.response([box.shift(s.id, user_id) for s in box.open_shifts(user_id)])


def get_shift(call: Call) -> Response:
    user = call.user
    found = call.services.box.shift(_shift_id(call), user.user_id, admin=user.is_admin)
    return Shift.response(found)


def close_shift(call: Call) -> Response:
    body: CloseShift = call.body
    user = call.user
    closed = call.services.box.close_shift(
        _shift_id(call), user.user_id, body.counted_cash, admin=user.is_admin
    )
    return Shift.response(closed)


_OWN = "Only the shift's operator or an admin; anyone else's shift is 404 shift_not_found."

OPERATIONS = (
    Operation(
        "POST",
        "/shifts",
        open_shift,
        "Open a shift at the counter with a cash float (staff or admin)",
        {
            201: Reply("The open shift, with its (empty) running statement.", Shift),
            409: Reply("shift_open: the operator has an open shift (details.shift_id)", "Error"),
        },
        tag="counter",
        access="staff",
        body=OpenShift,
        description=(
            "One open shift per operator at a time, however many opens race. Counter sales "
            "(POST /counter/sales) are taken into it until it is closed."
        ),
    ),
    Operation(
        "GET",
        "/shifts",
        open_shifts,
        "The caller's open shift, as a list (staff or admin)",
        {200: Reply("Empty, or the one open shift with its running statement.", ShiftList)},
        tag="counter",
        access="staff",
    ),
    Operation(
        "GET",
        "/shifts/{shift_id}",
        get_shift,
        "Read a shift with its statement (running while open, final once closed)",
        {200: Reply("The shift.", Shift), 404: Reply("shift_not_found", "Error")},
        tag="counter",
        access="staff",
        description=_OWN,
    ),
    Operation(
        "POST",
        "/shifts/{shift_id}/close",
        close_shift,
        "Close a shift with the cash counted: its final statement",
        {
            200: Reply("The closed shift and its final statement.", Shift),
            404: Reply("shift_not_found", "Error"),
            409: Reply("shift_closed: it is closed already (details.shift_id)", "Error"),
        },
        tag="counter",
        access="staff",
        body=CloseShift,
        description=(
            "The statement counts every counter sale committed in the shift, net of its "
            "refunds; a sale racing the close either lands in it or is refused no_open_shift. "
            "Once closed it is final: refunds of its sales are 409 shift_closed. " + _OWN
        ),
    ),
)
