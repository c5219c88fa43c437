"""Idempotency-Key: a retried request gets the first answer again, byte for byte."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.responses import Response

from cinema_core import BackendUnavailable, CinemaError, ValidationFailed
from cinema_core.ports import StoredAnswer

from .errors import error_response
from .responses import raw_json_response

if TYPE_CHECKING:
    from .operations import Call

log = logging.getLogger("cinema.http")
HEADER = "Idempotency-Key"
MAX_KEY = 255
# Printable ASCII: the key is kept as text by every store (PostgreSQL refuses a NUL), and a
# header's other bytes reach the app as Latin-1 guesses, not as the client's characters.
KEY_PATTERN = f"^[\\x20-\\x7e]{{1,{MAX_KEY}}}$"


def fingerprint(*parts: str) -> str:
    """A short, stable digest of a request's canonical form."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def answer_once(
    call: Call, route: str, request_fingerprint: str, produce: Callable[[], Response]
) -> Response:
    """Run ``produce`` once per (user, route, key); replay its answer to every retry. The
    routing calls it for each operation declared idempotent, ``route`` being its ``key``.

    Answers the use case gave (successes and domain errors) are remembered; an unexpected
    failure forgets the key so that a retry runs afresh.
    """
    key = call.request.headers.get(HEADER.lower())
    if key is None:
        return _run(produce)
    if not re.fullmatch(KEY_PATTERN, key):
        raise ValidationFailed({HEADER: f"must be 1 to {MAX_KEY} printable ASCII characters"})
    store = call.services.idempotency
    scope = f"{call.user.user_id}\x1f{route}"
    try:
        stored = store.begin(scope, key, request_fingerprint)
    except BackendUnavailable as error:
        # Without the store the request still runs: a retry then meets its own hold (409) or
        # the sale already made (200), so nothing is sold twice.
        call.services.outages.failed("redis", error)
        return _run(produce)
    if stored is not None:
        return raw_json_response(stored.body, stored.status, {"Idempotent-Replayed": "true"})
    try:
        response = _run(produce)
    except BaseException:
        store.abandon(scope, key)
        raise
    if response.status_code < 500:
        try:
            # A copy of its own size: orjson's bytes keep a 4 KiB buffer, which an in-process
            # store would hold for each remembered answer until it lapses.
            body = bytes(memoryview(response.body))
            store.finish(scope, key, request_fingerprint, StoredAnswer(response.status_code, body))
        except BackendUnavailable as error:
            call.services.outages.failed("redis", error)
    else:
        store.abandon(scope, key)
    return response


def _run(produce: Callable[[], Response]) -> Response:
    try:
        return produce()
    except CinemaError as error:
        return error_response(error)
