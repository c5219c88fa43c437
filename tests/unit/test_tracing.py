"""Tracing in memory: off (and OpenTelemetry never imported) without CINEMA_OTEL_ENDPOINT; on,
a request's span is named by its route and the events it records carry its traceparent."""

from __future__ import annotations

import subprocess
import sys

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.testclient import TestClient

from adapters.otel import Tracing
from adapters.otel.tracing import exporter_url
from entrypoints.bootstrap import bootstrap
from entrypoints.config import ConfigError, Settings
from entrypoints.http.app import create_app
from entrypoints.http.framework.auth import issue_token
from tests.conftest import new_session

SECRET = "unit-trace-secret-that-is-long-enough-for-hs256"


def test_no_endpoint_never_imports_opentelemetry() -> None:
    """A box office built and serving a request without the setting loads no OpenTelemetry."""
    script = (
        "import sys\n"
        "from starlette.testclient import TestClient\n"
        "from entrypoints.bootstrap import bootstrap\n"
        "from entrypoints.config import Settings\n"
        "from entrypoints.http.app import create_app\n"
        "services = bootstrap(Settings.from_env({}))\n"
        "assert services.tracing is None\n"
        "with TestClient(create_app(services, run_worker=False)) as client:\n"
        "    assert client.get('/health').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert ran.stdout.strip() == "[]"


def test_the_endpoint_is_an_http_address() -> None:
    """Anything but http(s)://host… stops the start, naming the variable."""
    settings = Settings.from_env({"CINEMA_OTEL_ENDPOINT": "http://collector:4318"})
    assert (settings.otel_endpoint, settings.otel_service_name) == (
        "http://collector:4318",
        "cinema",
    )
    assert Settings.from_env({}).otel_endpoint is None
    with pytest.raises(ConfigError, match="CINEMA_OTEL_ENDPOINT"):
        Settings.from_env({"CINEMA_OTEL_ENDPOINT": "collector:4318"})
    assert exporter_url("http://c:4318/") == "http://c:4318/v1/traces"
    assert exporter_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


def test_a_hold_is_a_span_by_route_and_its_events_carry_its_trace() -> None:
    """In memory: the server span is named by the route template, continues the caller's
    traceparent, and the hold's reservation.created carries the span's traceparent."""
    exporter = InMemorySpanExporter()
    tracing = Tracing("cinema-test", SimpleSpanProcessor(exporter))
    services = bootstrap(Settings(auth_secret=SECRET), tracing=tracing)
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with TestClient(create_app(services, run_worker=False)) as client:
        session = new_session(services.box, days=1).session
        held = client.post(
            "/reservations",
            json={"session_id": str(session.id), "seats": ["A1"]},
            headers={
                "Authorization": f"Bearer {issue_token(SECRET, 'ana', 'customer')}",
                "traceparent": caller,
            },
        )
        assert held.status_code == 201, held.text
        client.get(f"/sessions/{session.id}/nope")
    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == ["POST /reservations", "GET"]
    span = servers[0]
    assert span.context.trace_id == int("0af7651916cd43dd8448eb211c80319c", 16)
    recorded = [
        e for _, e in services.box.repo.events(type=None, session_id=None, before=None, limit=10)
    ]
    created = next(e for e in recorded if e.type == "reservation.created")
    assert created.traceparent == f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-01"
    assert next(e for e in recorded if e.type == "session.created").traceparent is None
    services.close()
