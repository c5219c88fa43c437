"""Every error answer in one place: domain errors, HTTP-layer errors and the unexpected."""

from __future__ import annotations

import logging
import math
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cinema_core import CinemaError, RateLimited, StoreUnavailable
from cinema_core.payments.errors import PaymentProviderUnavailable

from .responses import dump, json_response

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
    return json_response(
        {"error": _error(error.code, error.message, error.details)}, error.status, headers
    )


def _error(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return error


def server_error_body() -> bytes:
    message = "Something went wrong on our side; it has been logged."
    return dump({"error": _error("internal_error", message, {})})


_HTTP_CODES = {
    400: ("bad_request", "The request is malformed."),
    404: ("not_found", "Nothing is here."),
    405: ("method_not_allowed", "This route does not answer that method."),
}


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no route, wrong method, missing asset) in the contract's shape."""
    assert isinstance(exc, HTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("error", exc.detail))
    return json_response({"error": _error(code, message, {})}, exc.status_code, exc.headers)
