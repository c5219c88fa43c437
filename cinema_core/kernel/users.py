"""User ids: whoever the identity provider says holds a reservation or made a sale.

The box office stores them as text, so an id must be text any store can hold: 1–64 printable
characters (no NUL, no control characters, no lone surrogates, which PostgreSQL cannot store
and UTF-8 cannot encode). The in-memory store refuses the same ids, so both modes agree.
"""

from __future__ import annotations

from cinema_core.errors import ValidationFailed

MAX_USER_ID = 64


def user_id_problem(user_id: object) -> str | None:
    """Why ``user_id`` cannot name a user, or ``None`` when it can."""
    if not isinstance(user_id, str) or not 1 <= len(user_id) <= MAX_USER_ID:
        return f"must be 1 to {MAX_USER_ID} characters"
    if not user_id.isprintable():
        # isprintable() is False for control characters and for lone surrogates alike.
        return "must be printable characters only"
    return None


def check_user_id(user_id: object) -> None:
    """Raise ``ValidationFailed`` naming ``user_id`` unless it can name a user."""
    problem = user_id_problem(user_id)
    if problem is not None:
        raise ValidationFailed({"user_id": problem})
