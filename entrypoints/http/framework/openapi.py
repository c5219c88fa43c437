"""The OpenAPI 3.0 document, built from the operations themselves and their attrs bodies."""

from __future__ import annotations

from collections.abc import Collection
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from cinema_core.kernel.users import MAX_USER_ID

from . import answers, body_schemas
from .errors import Error
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import KEY_PATTERN, MAX_KEY
from .operations import Operation, Reply, documented_path, path_params

__all__ = ["document", "documented_path", "package_version"]

# The answers every operation of a kind can give, besides its own.
_COMMON = {
    400: "malformed_json: the body is not JSON",
    401: "unauthorized: missing, malformed, badly signed or expired token",
    403: "forbidden",
    404: "not_found (session_not_found, reservation_not_found); a malformed id too",
    413: "payload_too_large: the body is over 64 KiB",
    422: "validation_error: details.fields names each bad field",
    429: "rate_limited: retry after Retry-After seconds",
    500: "internal_error: something unexpected went wrong on our side (logged)",
    503: "unavailable: the store cannot serve right now; nothing was changed",
}
_HEADERS = {
    "X-Request-Id": {
        "description": "The client's X-Request-Id when sane, else one made up.",
        "schema": {"type": "string"},
    },
    "Location": {"description": "Where the new resource lives.", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
    "ETag": {"description": "The entity tag of this version.", "schema": {"type": "string"}},
    "Vary": {
        "description": "The request headers the answer depends on.",
        "schema": {"type": "string"},
    },
    "Content-Encoding": {
        "description": "gzip when the body is gzip-coded (Accept-Encoding allowed it).",
        "schema": {"type": "string"},
    },
}


def package_version() -> str:
    """The installed package's version, which is the API's."""
    try:
        return version("cinema-box-office")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def document(operations: Collection[Operation]) -> dict[str, Any]:
    """The whole OpenAPI document for these operations."""
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = answers.components(Error)
    for op in operations:
        for reply in op.replies.values():
            if not isinstance(reply.schema, str | None):
                components.update(answers.components(reply.schema))
        if op.body is not None:
            components.update(body_schemas.components(op.body))
        paths.setdefault(documented_path(op.path), {})[op.method.lower()] = _operation(op)
    named = {r.schema for op in operations for r in op.replies.values()}
    undeclared = {name for name in named if isinstance(name, str)} - set(components)
    if undeclared:  # a reply naming a shape nothing declares
        raise TypeError(f"replies name undeclared answers: {sorted(undeclared)}")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Cinema box office",
            "version": package_version(),
            "description": (
                "Sells seats for screenings without ever selling a seat twice. Errors are "
                '{"error": {"code", "message", "details"}}; every response carries X-Request-Id.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "headers": dict(_HEADERS),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _operation(op: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.handler.__name__,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": _responses(op),
    }
    if op.description:
        spec["description"] = op.description
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
        for name in path_params(op.path)
    ]
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": p.description,
            "schema": dict(p.schema),
        }
        for p in op.query
    ]
    parameters += [
        {
            "name": p.name,
            "in": "header",
            "required": False,
            "description": p.description,
            "schema": dict(p.schema),
        }
        for p in op.headers
    ]
    if op.idempotent:
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Retry safely: the same key and body get the first answer again.",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY,
                    "pattern": KEY_PATTERN,
                },
            }
        )
    if parameters:
        spec["parameters"] = parameters
    if op.access != "public":
        spec["security"] = [{"bearer": []}]
    if op.body is not None:
        spec["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": body_schemas.reference(op.body)}},
        }
    return spec


def _path_schema(name: str) -> dict[str, Any]:
    if name == "user_id":
        return {"type": "string", "minLength": 1, "maxLength": MAX_USER_ID}
    if name == "ticket":
        return {"type": "string", "minLength": 1, "maxLength": 200}
    # Ids are UUIDs; a malformed one is answered 404 like an unknown one.
    return {"type": "string", "format": "uuid"}


def _responses(op: Operation) -> dict[str, Any]:
    replies: dict[int, Reply] = dict(op.replies)
    common: list[int] = []
    if op.body is not None:
        common += [400, 413, 422]
    if op.query or op.idempotent:
        common.append(422)
    if "{" in op.path:
        common.append(404)
    if op.access != "public":
        common.append(401)
    if op.access in ("admin", "staff"):
        common.append(403)
    if op.limited:
        common.append(429)
    common.append(500)
    if op.tag != "system":
        common.append(503)
    for status in common:
        replies.setdefault(status, Reply(_COMMON[status], Error))
    return {str(status): _reply(status, reply) for status, reply in sorted(replies.items())}


def _reply(status: int, reply: Reply) -> dict[str, Any]:
    headers = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    for name in reply.headers:
        headers[name] = {"$ref": f"#/components/headers/{name}"}
    if status == 429:
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    answer: dict[str, Any] = {"description": reply.description, "headers": headers}
    if status == 304:
        pass  # no body
    elif reply.schema is not None:
        name = reply.schema if isinstance(reply.schema, str) else reply.schema.__name__
        schema = {"$ref": f"#/components/schemas/{name}"}
        answer["content"] = {reply.media: {"schema": schema}}
        for media in reply.also:
            answer["content"][media] = {"schema": {"type": "string"}}
    else:
        kind = "object" if reply.media == "application/json" else "string"
        answer["content"] = {reply.media: {"schema": {"type": kind}}}
    return answer
