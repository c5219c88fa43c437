"""OpenTelemetry traces on PostgreSQL, Redis and RabbitMQ: a request's trace holds its handler
span, its statements and commands, the relay's publish of the event it recorded, and the
consumer that handled that event, which continues the trace from the message's traceparent."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.testclient import TestClient

from adapters.otel import Tracing
from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from entrypoints.http.framework.auth import issue_token
from tests import services as test_services
from tests.conftest import new_session

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]

SECRET = "trace-tests-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def traced(
    clean_postgres_url: str, redis_url: str, amqp_url: str, namespace: str
) -> Iterator[tuple[Services, InMemorySpanExporter]]:
    spans = InMemorySpanExporter()
    settings = Settings(
        database_url=clean_postgres_url,
        redis_url=redis_url,
        amqp_url=amqp_url,
        namespace=namespace,
        auth_secret=SECRET,
        rate_per_user=0.0,
        rate_per_client=0.0,
    )
    services = bootstrap(settings, tracing=Tracing("cinema-test", SimpleSpanProcessor(spans)))
    try:
        yield services, spans
    finally:
        services.close()
        test_services.drop_redis_keys(redis_url, namespace)


def of_trace(spans: Sequence[ReadableSpan], trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans if s.context is not None and s.context.trace_id == trace_id]


def test_a_payment_is_one_trace_from_the_handler_to_the_consumer(
    traced: tuple[Services, InMemorySpanExporter],
) -> None:
    """The payment's trace: its server span named by route, PostgreSQL and Redis spans under
    it, the publish of payment.confirmed, and the webhooks consumer's span after it."""
    services, exporter = traced
    token = issue_token(SECRET, "alice", "customer")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "pay-once"}
    with TestClient(create_app(services, run_worker=False)) as client:
        session = new_session(services.box, days=1).session
        held = client.post(
            "/reservations",
            json={"session_id": str(session.id), "seats": ["A1", "A2"]},
            headers=headers,
        )
        assert held.status_code == 201, held.text
        exporter.clear()
        paid = client.post(f"/reservations/{held.json()['id']}/payment", headers=headers)
        assert paid.status_code == 201, paid.text

        handler = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
        assert [s.name for s in handler] == ["POST /reservations/{reservation_id}/payment"]
        trace_id = handler[0].context.trace_id
        assert handler[0].attributes["http.response.status_code"] == 201

        assert services.relay.run_once() == 3  # session, hold and payment
        assert services.events is not None
        services.events.start_consumers()
        deadline = time.monotonic() + 15
        while not any(
            s.name == "process webhooks" for s in of_trace(exporter.get_finished_spans(), trace_id)
        ):
            assert time.monotonic() < deadline, "the webhooks consumer never continued the trace"
            time.sleep(0.05)

    spans = of_trace(exporter.get_finished_spans(), trace_id)
    by_name = {s.name: s for s in spans}
    systems = {s.attributes.get("db.system.name") or s.attributes.get("db.system") for s in spans}
    assert {"postgresql", "redis"} <= systems
    request_span = handler[0].context.span_id
    children = {
        s.attributes.get("db.system.name") or s.attributes.get("db.system")
        for s in spans
        if s.parent is not None and s.parent.span_id == request_span
    }
    assert {"postgresql", "redis"} <= children, "the statements and commands are the handler's"
    publish = by_name["publish payment.confirmed"]
    assert publish.kind is SpanKind.PRODUCER
    consumer = by_name["process webhooks"]
    assert consumer.kind is SpanKind.CONSUMER
    assert consumer.parent is not None
    assert consumer.parent.span_id in {
        s.context.span_id for s in spans if s.name.startswith("publish ")
    }


def test_no_endpoint_installs_no_tracer(clean_postgres_url: str) -> None:
    """Without CINEMA_OTEL_ENDPOINT nothing traces: no provider, no traceparent on events."""
    services = bootstrap(Settings(database_url=clean_postgres_url))
    try:
        assert services.tracing is None
        assert services.box.repo.traceparent is None
    finally:
        services.close()
