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
# The byte order marks of UTF-8, UTF-16 and UTF-32 (UTF-32's begin with UTF-16's).
_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 413 past ``MAX_BODY`` whether or not Content-Length says so."""
    charset = _charset(request.headers.get("content-type", ""))
    if charset is not None and charset not in ("utf-8", "utf8"):
        raise MalformedJson(f"The body must be JSON in UTF-8, not {charset[:40]}.")
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


def _charset(content_type: str) -> str | None:
    """The charset a Content-Type names, in lower case, or ``None``."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


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
    # JSON is UTF-8 (RFC 8259, and the contract). The json module would guess UTF-16 or -32
    # from a byte order mark or from NULs and read such a body, so it is only ever given text
    # decoded here, strictly, with no mark in front.
    if raw.startswith(_MARKS):
        raise MalformedJson("The body must be JSON in UTF-8, without a byte order mark.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson("The body must be JSON in UTF-8; it is not valid UTF-8.") from None
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
        payload = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except RecursionError:
        raise MalformedJson("The body is nested too deeply.") from None
    except ValueError as error:
        # JSONDecodeError and numbers too long to read are both ValueErrors.
        raise MalformedJson(f"The body is not valid JSON: {error}.") from None
    if not isinstance(payload, dict):
        raise ValidationFailed({"body": "must be a JSON object"})
    return payload
