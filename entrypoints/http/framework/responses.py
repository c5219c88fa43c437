"""JSON responses encoded with orjson: one encoder for every answer the API gives."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

JSON = "application/json"


def dump(payload: Any) -> bytes:
    """Encode to JSON bytes; strings orjson refuses (lone surrogates) fall back to ASCII escapes."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, ensure_ascii=True, default=str).encode()


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(dump(payload), status, headers, JSON)


def raw_json_response(
    body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An answer already encoded (a replayed idempotent answer: byte for byte the first)."""
    return Response(body, status, headers, JSON)
