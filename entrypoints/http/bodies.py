"""Request bodies: read with a size cap, parsed as exact JSON, structured into attrs classes.

Structuring is strict: an int field takes only a JSON integer (not a bool, a string or a
float), a string field only a string, and every bad field is named at once.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import cattrs
import orjson
from cattrs.errors import ClassValidationError
from starlette.requests import Request

from cinema_core import Money, ValidationFailed
from cinema_core.times import parse_iso

from .errors import MalformedJson, PayloadTooLarge

MAX_BODY = 64 * 1024
T = TypeVar("T")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


def _string(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _integer(value: Any, _: Any) -> int:
    if type(value) is not int:
        raise ValueError("must be an integer")
    return value


def _uuid(value: Any, _: Any) -> UUID:
    if not isinstance(value, str):
        raise ValueError("must be a UUID string")
    try:
        return UUID(value)
    except ValueError:
        raise ValueError("must be a UUID") from None


def _instant(value: Any, _: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string such as 2026-12-01T19:00:00Z")
    try:
        return parse_iso(value)
    except (ValueError, OverflowError) as error:
        message = str(error) if "timezone" in str(error) else "is not an ISO 8601 instant"
        raise ValueError(message) from None


def _money(value: Any, _: Any) -> Money:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError('must be a decimal string such as "25.00"')
    try:
        return Money.parse(value)
    except (ValueError, ArithmeticError) as error:
        raise ValueError(str(error)) from None


def _strings(value: Any, _: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("must be an array of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ValueError(f"item {index} must be a string")
    return list(value)


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook(int, _integer)
    converter.register_structure_hook(UUID, _uuid)
    converter.register_structure_hook(datetime, _instant)
    converter.register_structure_hook(Money, _money)
    converter.register_structure_hook_func(lambda t: t == list[str], _strings)
    return converter


_CONVERTER = _converter()


def structure(payload: dict[str, Any], cls: type[T]) -> T:
    """``payload`` as a ``cls``, or ``ValidationFailed`` naming every bad field."""
    try:
        return _CONVERTER.structure(payload, cls)
    except ClassValidationError as group:
        with_notes, without = group.group_exceptions()
        fields = {note.name: _reason(error) for error, note in with_notes}
        if without or not fields:
            fields.setdefault("body", "does not have the expected shape")
        raise ValidationFailed(fields) from None


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return "is required"
    return str(error) or "is invalid"
