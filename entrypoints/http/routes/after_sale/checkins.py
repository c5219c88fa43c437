"""The door: staff scan a ticket's code and the holder is let in, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import ValidationFailed
from cinema_core.after_sale.admissions import MAX_CODE
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.shapes import field


@attrs.frozen
class CheckIn:
    """Body of ``POST /checkins``: the code scanned, and the door's session if it has one."""

    code: str = field(
        min_length=1, max_length=MAX_CODE, example="kq3Xb9…", description="What the QR code holds."
    )
    session_id: UUID | None = field(
        default=None,
        example="3fa85f64-5717-4562-b3fc-2c963f66afa6",
        description="The door's session: tickets of others are refused.",
    )


def _checked_in_at(admission: Any) -> datetime:
    assert admission.ticket.checked_in_at is not None
    return admission.ticket.checked_in_at  # type: ignore[no-any-return]


@attrs.frozen
class DoorChecks(Answer):
    """What the door must check of the holder before letting them in."""

    document: str | None = out(
        example="Carteira de Identificação Estudantil (CIE)",
        description="The proof of the right to the ticket's type (null: none).",
    )
    age: str | None = out(
        example="16", description="The least age the session's rating asks for (null: L)."
    )


@attrs.frozen
class CheckedIn(Answer):
    """A ticket let in at the door, with what to check of its holder."""

    ticket_id: UUID = out(lambda admission: admission.ticket.id)
    session_id: UUID = out(lambda admission: admission.ticket.session_id)
    seat: str = out(lambda admission: str(admission.ticket.seat), example="A1")
    # The door screen says the type ("Meia-entrada") beside the document it asks for.
    ticket: str = out(
        "ticket.ticket", example="half", description="The ticket type's code the seat was sold as."
    )
    checked_in_at: datetime = out(_checked_in_at)
    checks: DoorChecks = out()


def check_in(call: Call) -> Response:
    body: CheckIn = call.body
    if not 1 <= len(body.code) <= MAX_CODE:
        raise ValidationFailed({"code": f"must be 1 to {MAX_CODE} characters"})
    admission = call.services.box.admit(body.code, body.session_id)
    return CheckedIn.response(admission, 201)


OPERATIONS = (
    Operation(
        "POST",
        "/checkins",
        check_in,
        "Check a ticket in at the door (staff or admin)",
        {
            201: Reply("The holder is in.", CheckedIn),
            404: Reply("ticket_not_found: no ticket has this code", "Error"),
            409: Reply(
                "already_checked_in (details.checked_in_at), ticket_refunded, or "
                "wrong_session (details.session_id: the ticket's own)",
                "Error",
            ),
        },
        tag="door",
        access="staff",
        body=CheckIn,
        description=(
            "A ticket checks in exactly once, however many scanners send its code at once "
            "through however many processes."
        ),
    ),
)
