"""The API's own description: ``/openapi.json`` and Swagger UI at ``/api-docs``, with the UI's
assets served from the installed ``swagger_ui_bundle`` (no internet needed)."""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from .operations import Call, Operation, Reply
from .responses import dump, raw_json_response

ASSETS = "/api-docs/assets"
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
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    }});
  </script>
</body>
</html>
"""


def doc_operations(document: dict[str, Any]) -> tuple[Operation, ...]:
    """The two documentation routes; ``document`` is filled in once every route is known."""
    encoded: list[bytes] = []

    def openapi(call: Call) -> Response:
        if not encoded:
            encoded.append(dump(document))
        return raw_json_response(encoded[0])

    def api_docs(call: Call) -> Response:
        return HTMLResponse(_PAGE.format(assets=ASSETS))

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
