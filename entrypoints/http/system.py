"""Liveness and readiness, for load balancers and orchestrators (never rate limited)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .operations import Call, Operation, Reply
from .responses import json_response

_CHECK = {"type": "string", "enum": ["ok", "down"]}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}},
    },
    "Readiness": {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
            "checks": {
                "type": "object",
                "required": ["database", "redis", "broker"],
                "properties": {"database": _CHECK, "redis": _CHECK, "broker": _CHECK},
            },
        },
    },
}


def health(call: Call) -> Response:
    return json_response({"status": "ok"})


def ready(call: Call) -> Response:
    status, checks = call.services.readiness()
    return json_response(
        {"status": status, "checks": checks}, 503 if status == "unavailable" else 200
    )


OPERATIONS = (
    Operation(
        "GET",
        "/health",
        health,
        "The process is up",
        {200: Reply("Always ok while the process serves.", "Health")},
        tag="system",
        limited=False,
        blocking=False,
    ),
    Operation(
        "GET",
        "/ready",
        ready,
        "The backends answer",
        {
            200: Reply("ok, or degraded naming Redis or the broker as down.", "Readiness"),
            503: Reply("The database cannot serve.", "Readiness"),
        },
        tag="system",
        limited=False,
    ),
)
