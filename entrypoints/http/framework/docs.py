"""The API's own description: ``/openapi.json`` and Swagger UI at ``/api-docs``, with the UI's
assets served from the installed ``swagger_ui_bundle`` (no internet needed)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from .operations import Call, Operation, Reply
from .responses import dump, raw_json_response

ASSETS = "/api-docs/assets"
# The one inline script: its hash is in the policy, so nothing else inline may run.
_START = """
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    });
  """
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Cinema box office API</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="{assets}/swagger-ui-standalone-preset.js"></script>
  <script>{start}</script>
</body>
</html>
"""
_HASH = base64.b64encode(hashlib.sha256(_START.encode()).digest()).decode()
# Only this app's assets and the inline start above: Swagger UI styles through the CSSOM (which
# style-src leaves alone), shows its icons as data: images, and "Try it out" calls this origin.
# tests/flow/browser/test_api_docs.py renders the page under it.
POLICY = (
    f"default-src 'none'; script-src 'self' 'sha256-{_HASH}'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def doc_operations(build: Callable[[], dict[str, Any]]) -> tuple[Operation, ...]:
    """The two documentation routes; ``build`` makes the document (once every route is known).

    The document is made again each UTC day: its examples hold instants relative to now
    (a session starting next week), which must still be ahead when Swagger UI sends them.
    """
    encoded: dict[date, bytes] = {}

    def openapi(call: Call) -> Response:
        today = datetime.now(UTC).date()
        body = encoded.get(today)
        if body is None:
            body = dump(build())
            encoded.clear()
            encoded[today] = body
        return raw_json_response(body)

    def api_docs(call: Call) -> Response:
        return HTMLResponse(
            _PAGE.format(assets=ASSETS, start=_START),
            headers={"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff"},
        )

    return (
        Operation(
            "GET",
            "/openapi.json",
            openapi,
            "This document",
            {200: Reply("The OpenAPI 3.0 description of every route.")},
            tag="system",
            blocking=False,
        ),
        Operation(
            "GET",
            "/api-docs",
            api_docs,
            "Swagger UI for this API",
            {200: Reply("An HTML page.", media="text/html")},
            tag="system",
            blocking=False,
        ),
    )


def assets() -> Mount:
    return Mount(ASSETS, app=StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
