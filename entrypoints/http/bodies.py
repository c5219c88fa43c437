"""Request bodies: read with a size cap and parsed as exact JSON; ``shapes.structure`` then
checks them against their declaration."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
from starlette.requests import Request

from cinema_core import ValidationFailed

from .errors import MalformedJson, PayloadTooLarge

MAX_BODY = 64 * 1024


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 413 past ``MAX_BODY`` whether or not Content-Length says so."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _has_float(value: Any) -> bool:
    # A loop, not recursion: orjson reads bodies 1,024 levels deep, and a recursive scan of
    # one runs out of stack (a 500) long before that.
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is float:
            return True
        if kind is dict:
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
    return False


def parse_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object. Numbers with a fraction become ``Decimal``, never float."""
    if not raw.strip():
        raise MalformedJson("The body is empty; a JSON object is expected.")
    # orjson first (a tenth of the json module's time); anything it refuses or reads as a
    # float (fractions, exponents, integers past 64 bits) is read again by the json module,
    # whose answer and error messages are the contract's.
    try:
        fast = orjson.loads(raw)
    except orjson.JSONDecodeError:
        fast = None
    if type(fast) is dict and not _has_float(fast):
        return fast
    try:
        payload = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
    except RecursionError:
        raise MalformedJson("The body is nested too deeply.") from None
    except ValueError as error:
        # JSONDecodeError, bad UTF-8 and numbers too long to read are all ValueErrors.
        raise MalformedJson(f"The body is not valid JSON: {error}.") from None
    if not isinstance(payload, dict):
        raise ValidationFailed({"body": "must be a JSON object"})
    return payload
