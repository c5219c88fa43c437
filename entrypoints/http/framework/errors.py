"""Every error answer in one place: domain errors, HTTP-layer errors and the unexpected, all
written by one declaration of the contract's error shape (``Error``), which the OpenAPI
document publishes too."""

from __future__ import annotations

import logging
import math
from typing import Any

import attrs
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cinema_core import CinemaError, RateLimited, StoreUnavailable
from cinema_core.payments.errors import PaymentProviderUnavailable

from . import languages
from .answers import Answer, out
from .languages import N_

log = logging.getLogger("cinema.http")


class MalformedJson(CinemaError):
    code, status, default_message = "malformed_json", 400, "The body is not valid JSON."


class PayloadTooLarge(CinemaError):
    code, status = "payload_too_large", 413
    default_message = "The body is larger than 64 KiB."


class Unauthorized(CinemaError):
    code, status = "unauthorized", 401
    default_message = "A valid bearer token is needed."


class MethodNotAllowed(CinemaError):
    code, status = "method_not_allowed", 405
    default_message = "This route does not answer that method."


@attrs.frozen
class Failure:
    """An error the HTTP layer answers without a domain error to show (Starlette's own 404 and
    405, the unexpected 500): what ``Error`` writes, as a ``CinemaError`` would give it."""

    code: str
    message: str
    details: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Problem(Answer):
    """What went wrong: a code to act on, a message for people, and what more there is to say."""

    code: str = out(example="validation_error", description="snake_case; see the API's codes.")
    message: str = out(example="The request has invalid fields.")
    # Left out, not written empty, when there is nothing more to say.
    details: dict[str, Any] | None = out(
        source=lambda error: error.details or None,
        omit_none=True,
        description="fields (422: bad field → reason) or seats (409/422).",
        example={"fields": {"price": "must have at most two decimal places"}},
    )


@attrs.frozen
class Error(Answer):
    """Every error answer, in one shape: {"error": {"code", "message", "details"}}."""

    # The error (a CinemaError or a Failure) is the whole of what ``error`` writes.
    error: Problem = out(source=lambda error: error)


def error_response(error: CinemaError) -> Response:
    """The contract's error shape for a domain or HTTP-layer error, with the headers it needs."""
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    elif isinstance(error, PaymentProviderUnavailable):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        log.warning("answered 503: %s", error)
    elif isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(error, StoreUnavailable):
        headers["Retry-After"] = "1"
        # The client is only told to retry; the operator needs the driver's reason.
        log.error("answered 503: %s", error.message, exc_info=error)
    return Error.response(spoken(error), error.status, headers)


def spoken(error: CinemaError) -> Failure:
    """``error`` with its message in the request's language; the code never changes. The core
    writes English; a message of its own (with figures in it) that the catalog does not hold
    falls back to the translation of its class's default message (``details`` keep the
    figures), and English keeps the core's exact words."""
    locale = languages.current()
    message = error.message
    if locale != "en":
        found = languages.translate(message, locale)
        if found == message:
            found = languages.translate(type(error).default_message, locale)
        message = found
    return Failure(error.code, message, error.details)


def server_error_body() -> bytes:
    message = languages.translate(N_("Something went wrong on our side; it has been logged."))
    return Error.json(Failure("internal_error", message))


_HTTP_CODES = {
    400: ("bad_request", N_("The request is malformed.")),
    404: ("not_found", N_("Nothing is here.")),
    405: ("method_not_allowed", N_("This route does not answer that method.")),
}


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no route, wrong method, missing asset) in the contract's shape."""
    assert isinstance(exc, HTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("error", exc.detail))
    return Error.response(Failure(code, languages.translate(message)), exc.status_code, exc.headers)
