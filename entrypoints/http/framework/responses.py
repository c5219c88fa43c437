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


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header lets the answer be gzip-coded: gzip listed with a
    weight above 0, or ``*`` above 0 with gzip not listed. A weight that is no number makes its
    entry not count."""
    if not header:
        return False
    star: bool | None = None
    for entry in header.split(","):
        name, _, params = entry.partition(";")
        coding = name.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = -1.0
        if weight < 0:
            continue
        if coding != "*":
            return weight > 0
        star = weight > 0
    return bool(star)
