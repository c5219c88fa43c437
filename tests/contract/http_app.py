"""The HTTP app in memory for contract tests: a client whose every JSON answer is checked
against the app's own ``/openapi.json`` (status declared, body conforming to its schema)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
import httpx2 as httpx
from starlette.testclient import TestClient

from cinema_core import ManualClock
from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from entrypoints.http.framework.auth import issue_token
from tests.contract.exercised import SEEN

SECRET = "contract-tests-secret-that-is-long-enough-for-hs256"
STARTS_AT = "2026-12-01T19:00:00Z"
NEW_SESSION: dict[str, Any] = {
    "movie": "Filme X",
    "room": "Sala 1",
    "starts_at": STARTS_AT,
    "price": "25.00",
    "rows": 4,
    "seats_per_row": 4,
}


def conforms(value: Any, schema: Mapping[str, Any], doc: Mapping[str, Any], at: str = "$") -> None:
    """Raise AssertionError unless ``value`` fits ``schema`` (the OpenAPI 3.0 subset we use)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        conforms(value, doc["components"]["schemas"][name], doc, at)
        return
    if value is None:
        assert schema.get("nullable"), f"{at} is null but not nullable"
        return
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }
    if kind is not None:
        assert checks[kind](value), f"{at} = {value!r} is not of type {kind}"
    if "enum" in schema:
        assert value in schema["enum"], f"{at} = {value!r} not in {schema['enum']}"
    if "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{at} = {value!r} !~ {schema['pattern']}"
    if schema.get("format") == "date-time":
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", value), f"{at} = {value!r}"
    if schema.get("format") == "uuid":
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", value), f"{at}"
    if kind == "object":
        for name in schema.get("required", ()):
            assert name in value, f"{at}.{name} is missing"
        properties = schema.get("properties", {})
        if properties and not schema.get("additionalProperties"):
            extra = set(value) - set(properties)
            assert not extra, f"{at} has undocumented fields {extra}"
        for name, sub in properties.items():
            if name in value:
                conforms(value[name], sub, doc, f"{at}.{name}")
    if kind == "array":
        for index, item in enumerate(value):
            conforms(item, schema.get("items", {}), doc, f"{at}[{index}]")


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"{[a-z_]+}", "[^/]+", path) + "$")


def _route(doc: Mapping[str, Any], method: str, path: str) -> str | None:
    """The documented route template that answers ``method`` on ``path``: of those matching,
    the one with the fewest parameters (``/sessions/mine`` before ``/sessions/{id}``)."""
    matching = [
        template
        for template, operations in doc["paths"].items()
        if method in operations and _template(template).match(path)
    ]
    return min(matching, key=lambda template: template.count("{"), default=None)


def check(response: httpx.Response) -> bool:
    """Every answer carries X-Request-Id; a JSON answer of a documented route has a
    documented status and conforms to the schema declared for it (True when it was one), any
    other JSON answer is an Error. Every answer of a documented route is recorded in
    ``exercised.SEEN``. Api checks each of its answers; a test with a client of its own (a real
    server) hands them here."""
    assert response.headers.get("x-request-id"), "X-Request-Id missing"
    doc = openapi_document()
    # The path as sent (a user id's %2F still encoded), as a route template matches it.
    path = response.request.url.raw_path.decode("ascii").split("?", 1)[0]
    method = response.request.method.lower()
    template = _route(doc, method, path)
    if template is not None:
        SEEN.add((method.upper(), template, response.status_code))
    if response.headers.get("content-type") != "application/json":
        return False
    body = response.json()
    if template is None:
        conforms(body, {"$ref": "#/components/schemas/Error"}, doc)
        return False
    replies = doc["paths"][template][method]["responses"]
    assert str(response.status_code) in replies, (
        f"{method.upper()} {template} answered {response.status_code}, not documented: {body}"
    )
    conforms(body, replies[str(response.status_code)]["content"]["application/json"]["schema"], doc)
    return True


@attrs.define
class Api:
    """A test client over a fresh in-memory box office, with tokens at hand."""

    client: TestClient
    services: Services
    clock: ManualClock
    # How many JSON answers were checked against a route's schema.
    checked: int = 0

    def token(self, user: str = "alice", role: str = "customer") -> str:
        return issue_token(SECRET, user, role)  # type: ignore[arg-type]

    def auth(self, user: str = "alice", role: str = "customer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, role)}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.auth("root", "admin")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, url, **kwargs)
        self.check(response)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def check(self, response: httpx.Response) -> None:
        if check(response):
            self.checked += 1

    # -- shortcuts ----------------------------------------------------------------------

    def create_session(self, **overrides: Any) -> dict[str, Any]:
        response = self.post("/sessions", json={**NEW_SESSION, **overrides}, headers=self.admin)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def reserve(
        self, session_id: str, seats: list[str], user: str = "alice", key: str | None = None
    ) -> httpx.Response:
        headers = self.auth(user)
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.post(
            "/reservations", json={"session_id": session_id, "seats": seats}, headers=headers
        )

    def pay(self, reservation_id: str, user: str = "alice") -> httpx.Response:
        return self.post(f"/reservations/{reservation_id}/payment", headers=self.auth(user))


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def bad_fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    return set(response.json()["error"]["details"]["fields"])


_DOCUMENT: dict[str, Any] = {}


def openapi_document() -> dict[str, Any]:
    """The app's /openapi.json, fetched once from an app of its own (so that fetching it
    never spends a rate-limit token of the app under test)."""
    if not _DOCUMENT:
        app = create_app(bootstrap(Settings(auth_secret=SECRET)), run_worker=False)
        _DOCUMENT.update(TestClient(app).get("/openapi.json").json())
    return _DOCUMENT


@contextmanager
def open_api(clock: ManualClock, *, run_worker: bool = False, **settings: Any) -> Iterator[Api]:
    """A running app (lifespan included) over a fresh in-memory box office; rate limits are
    off unless the settings given switch them on."""
    settings = {"rate_per_user": 0.0, "rate_per_client": 0.0, **settings}
    services = bootstrap(Settings(auth_secret=SECRET, **settings), clock)
    app = create_app(services, run_worker=run_worker)
    with TestClient(app, raise_server_exceptions=False) as client:
        # The contract tests read English messages unless they ask otherwise (the default
        # language, pt-BR, is test_http_languages.py's).
        client.headers["Accept-Language"] = "en"
        yield Api(client, services, clock)
