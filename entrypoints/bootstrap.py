"""The composition root: builds the box office from settings. Nothing here connects at import."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

import attrs

from cinema_core import BoxOffice, Clock, Outages, Relay, SystemClock
from cinema_core.kernel.metrics import NO_METRICS
from cinema_core.memory import (
    InMemoryEventBus,
    InMemoryIdempotencyStore,
    InMemoryRateLimiter,
    InMemoryReservationRepo,
    InMemorySeatLock,
    InMemoryWebhookStore,
)
from cinema_core.memory.waiting import InMemoryWaitingLines
from cinema_core.payments import Charge, PaymentProvider, SandboxProvider
from cinema_core.payments.instant import InstantProvider
from cinema_core.ports import (
    EventBus,
    IdempotencyStore,
    RateLimiter,
    ReservationRepo,
    SeatLock,
    WaitingLines,
    WebhookStore,
)
from cinema_core.resilience.fallbacks import (
    ForgivingSeatLock,
    IdempotencyWithFallback,
    RateLimiterWithFallback,
    SeatLockWithPause,
    WaitingLinesFailingClosed,
)
from cinema_core.resilience.supervision import Supervisor
from cinema_core.waiting.room import RoomFigures
from cinema_core.waiting.tokens import admission_key
from cinema_core.webhooks.use_cases import Webhooks, webhook_consumer

from .config import ConfigError, Settings
from .events import BrokerEvents, Events, build_events
from .logs import LoggedBus
from .readiness import CHECK_TIMEOUT, CHECKS, Probe, verdict

if TYPE_CHECKING:
    from adapters.otel import Tracing
    from adapters.prometheus import PrometheusMetrics

NoticeVerifier = Callable[[Mapping[str, str], Mapping[str, str]], str | None]


@attrs.define
class Services:
    """Everything a process of the box office runs on, built once, closed once."""

    settings: Settings
    box: BoxOffice
    relay: Relay
    bus: EventBus
    # Events published by this process's relay, or received from the broker, reach these.
    local_events: InMemoryEventBus
    idempotency: IdempotencyStore
    rate_limiter: RateLimiter
    outages: Outages
    closers: list[object] = attrs.Factory(list)
    # Readiness pings by check name (``database``, ``redis``, ``broker``), one per configured
    # backend: each raises if its backend cannot answer. A check without one is in-process.
    pings: dict[str, Callable[[], None]] = attrs.Factory(dict)
    # The consumers and what runs them (entrypoints/events.py): the worker starts them, each
    # API process starts its live feed. GET /admin/events reads the outbox (``box.repo``).
    events: Events | None = None
    # This process's background loops (sweeper, relay, consumers, live feed …): readiness
    # names those that are dead, stuck or failing.
    supervisor: Supervisor = attrs.Factory(Supervisor)
    # Mercado Pago's webhook: a delivery's query and headers → the charge id it proves it
    # names (``None``: about nothing of ours), or ``BadSignature``. None: not the provider.
    notices: NoticeVerifier | None = None
    # The sandbox provider when it is the one taking money (its admin routes play the bank).
    sandbox: SandboxProvider | None = None
    # Webhooks: the admin's registrations, fed by the ``webhooks`` consumer, sent by the worker.
    webhooks: Webhooks | None = None
    # What GET /metrics answers with (None: metrics switched off, CINEMA_METRICS=0).
    metrics: PrometheusMetrics | None = None
    # Where this process's spans go (None: tracing off, CINEMA_OTEL_ENDPOINT unset); the HTTP
    # app wraps itself in its request spans.
    tracing: Tracing | None = None
    _probes: dict[str, Probe] = attrs.Factory(dict)

    @property
    def backends(self) -> dict[str, str]:
        """Which backends this process uses: ``database``, ``redis``, ``broker`` → url or memory."""
        s = self.settings
        return {
            "database": "postgresql" if s.database_url else "memory",
            "redis": _redis_kind(s.redis_url),
            "broker": "rabbitmq" if s.amqp_url else "memory",
        }

    def start_checks(self) -> dict[str, Future[None] | None]:
        """Ping every configured backend (``None`` for one that runs in this process)."""
        started: dict[str, Future[None] | None] = {}
        for name in CHECKS:
            ping = self.pings.get(name)
            if ping is None:
                started[name] = None
                continue
            probe = self._probes.get(name)
            if probe is None or probe.ping is not ping:
                probe = self._probes[name] = Probe(name, ping)
            started[name] = probe.start()
        return started

    def readiness(self, timeout: float = CHECK_TIMEOUT) -> tuple[str, dict[str, str]]:
        """``(status, checks)`` within ``timeout`` seconds, whatever hangs (see readiness.py):
        each check ``ok``, ``down``, ``timeout`` or ``in-process``."""
        started = self.start_checks()
        wait([f for f in started.values() if f is not None], timeout)
        return verdict(started, self.supervisor.problems())

    def close(self) -> None:
        for closer in reversed(self.closers):
            close = getattr(closer, "close", None) or getattr(closer, "dispose", None)
            if close is not None:
                close()


def _redis_kind(url: str | None) -> str:
    if url is None:
        return "memory"
    return "redis-cluster" if url.split(":", 1)[0].endswith("+cluster") else "redis"


def bootstrap(
    settings: Settings, clock: Clock | None = None, tracing: Tracing | None = None
) -> Services:
    """Wire the adapters the settings name; whatever is not configured runs in memory.

    ``tracing`` stands in for the one ``CINEMA_OTEL_ENDPOINT`` names (tests hand one that keeps
    its spans in memory)."""
    clock = clock or SystemClock()
    outages = Outages()
    # Heartbeats on a monotonic clock of their own, not ``clock``: a test's manual clock moved
    # on by hours must not make every loop read stuck.
    supervisor = Supervisor(outages=outages)
    local_events = InMemoryEventBus()

    closers: list[object] = []
    if tracing is None and settings.otel_endpoint:
        # Imported here so that a process without tracing never loads OpenTelemetry.
        try:
            from adapters.otel import Tracing
        except ImportError as error:
            raise ConfigError(
                "CINEMA_OTEL_ENDPOINT needs OpenTelemetry: pip install 'cinema-box-office[otel]'"
                f" ({error.name} is missing)"
            ) from None

        tracing = Tracing.to_collector(settings.otel_endpoint, settings.otel_service_name)
    if tracing is not None:
        closers.append(tracing)  # first: closed last, once nothing makes spans any more
    repo: ReservationRepo = InMemoryReservationRepo()
    seat_lock: SeatLock = InMemorySeatLock(clock)
    idempotency: IdempotencyStore = InMemoryIdempotencyStore(clock)
    if settings.database_url:
        repo, idempotency = _postgres(settings, clock, closers)
    if tracing is not None:
        _trace_store(repo, tracing)
    rate_limiter: RateLimiter = InMemoryRateLimiter(clock)
    waiting_lines: WaitingLines = InMemoryWaitingLines()
    events = build_events(
        settings,
        clock,
        outages,
        local_events,
        getattr(repo, "engine", None),
        supervisor,
        None if tracing is None else tracing.broker,
    )
    closers.append(events)
    # With a broker the relay publishes there only, and the live feed brings the seat events
    # back into local_events: feeding both would show SSE clients every change twice.
    bus: EventBus = events.bus

    redis_ping: Callable[[], None] | None = None
    if settings.redis_url:
        # Imported here so that a process without Redis never loads the driver.
        from adapters.redis import (
            RedisIdempotencyStore,
            RedisRateLimiter,
            RedisSeatLock,
            RedisWaitingLines,
            connect,
            ping,
        )
        from adapters.redis.idempotency import RENEW_EVERY as REDIS_RENEW

        # A cluster's client learns the slot map on first use, so Redis being away at start
        # degrades the process instead of stopping it, as with one server.
        redis_client = connect(settings.redis_url)
        closers.append(redis_client)
        if tracing is not None:
            tracing.commands(redis_client)
        redis_ping = partial(ping, redis_client)
        # Redis' outages stop here: while it is down the lock filters nothing (the store alone
        # judges), tells Outages (the WARNING, /ready), and rests between probes.
        seat_lock = ForgivingSeatLock(
            SeatLockWithPause(RedisSeatLock(redis_client, settings.namespace), outages), outages
        )
        # While Redis is down, keys go to the store built above (the database's when one is
        # configured, so still shared by every process) and buckets to this process's memory.
        # Claims renewed while their request runs: a dead process's lapse within seconds.
        redis_keys = RedisIdempotencyStore(
            redis_client, settings.namespace, renew_every=REDIS_RENEW
        )
        closers.append(redis_keys)  # after its client: closed before it, stops the renewals
        idempotency = IdempotencyWithFallback(redis_keys, idempotency, outages)
        rate_limiter = RateLimiterWithFallback(
            RedisRateLimiter(redis_client, settings.namespace), rate_limiter, outages
        )
        # The queue has no stand-in: one process's memory cannot keep every process's order,
        # so while Redis is down admissions stop (503) rather than go unchecked.
        waiting_lines = WaitingLinesFailingClosed(
            RedisWaitingLines(redis_client, settings.namespace), outages
        )

    metrics = _metrics(settings) if settings.metrics else None
    if metrics is not None:
        closers.append(metrics)
    provider, notices, sandbox = _payment_provider(settings, clock, closers)
    public_url = (settings.public_url or "http://127.0.0.1:8000").rstrip("/")
    box = BoxOffice(
        repo,
        seat_lock,
        clock,
        timedelta(seconds=settings.hold_seconds),
        outages,
        refund_cutoff=timedelta(minutes=settings.refund_cutoff_minutes),
        sales_close=timedelta(minutes=settings.sales_close_minutes),
        provider=provider,
        payment_hold=timedelta(seconds=settings.payment_hold_seconds),
        notification_url=(
            f"{public_url}/payments/mercadopago/notifications" if notices is not None else None
        ),
        reconcile_quiet=timedelta(seconds=settings.payment_reconcile_seconds),
        waiting_lines=waiting_lines,
        admission=timedelta(seconds=settings.admission_seconds),
        # Without a secret no token is accepted anyway: a key of this process's own.
        admission_key=admission_key(settings.auth_secret or secrets.token_hex(32)),
        metrics=metrics or NO_METRICS,
    )
    if sandbox is not None:
        # In place of a webhook: every change of a sandbox charge reaches the one settle path
        # (which reads the charge again), through whatever the box office is composed of now.
        def heard(charge: Charge) -> None:
            box.settle_payment(charge.charge_id)

        sandbox.subscribe(heard)
    relay = Relay(repo, LoggedBus(bus), outages)
    webhooks = _webhooks(settings, clock, getattr(repo, "engine", None), closers)
    # Registered before anything runs it: on a broker its queue is declared at once, so the
    # events published before a worker first runs wait for it there.
    events.register(webhook_consumer(webhooks))
    services = Services(
        settings,
        box,
        relay,
        bus,
        local_events,
        idempotency,
        rate_limiter,
        outages,
        closers,
        events=events,
        supervisor=supervisor,
        notices=notices,
        sandbox=sandbox,
        webhooks=webhooks,
        metrics=metrics,
        tracing=tracing,
    )
    if metrics is not None:
        _read_at_scrape(metrics, box, events, clock)
    if settings.database_url:
        services.pings["database"] = repo.ping
    if isinstance(events, BrokerEvents):
        services.pings["broker"] = events.bus.ping
    if redis_ping is not None:
        services.pings["redis"] = redis_ping
    return services


def _webhooks(settings: Settings, clock: Clock, engine: object, closers: list[object]) -> Webhooks:
    """Webhooks kept where the box office keeps its data, sent over HTTP by the worker."""
    from adapters.webhooks import HttpWebhookSender

    store: WebhookStore = InMemoryWebhookStore()
    if engine is not None:
        from adapters.postgres.webhooks import PostgresWebhookStore

        store = PostgresWebhookStore(engine)  # type: ignore[arg-type]
    sender = HttpWebhookSender(settings.webhook_timeout_seconds)
    closers.append(sender)
    return Webhooks(
        store,
        sender,
        clock,
        timeout=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private,
    )


def _trace_store(repo: ReservationRepo, tracing: Tracing) -> None:
    """Spans for the database's statements; the events a transaction records carry its trace."""
    engine = getattr(repo, "engine", None)
    if engine is not None:
        tracing.statements(engine)
    repo.traceparent = tracing.traceparent


def _metrics(settings: Settings) -> PrometheusMetrics:
    # Imported here: prometheus-client picks its multiprocess mode when first imported, which
    # must be after `cinema serve` has set PROMETHEUS_MULTIPROC_DIR for its workers.
    from adapters.prometheus import PrometheusMetrics, forget_dead_processes

    if settings.metrics_dir is not None:
        forget_dead_processes(settings.metrics_dir)
    return PrometheusMetrics(settings.metrics_dir)


def _read_at_scrape(
    metrics: PrometheusMetrics, box: BoxOffice, events: Events, clock: Clock
) -> None:
    """The gauges of shared state, read by whichever process is scraped."""
    repo = box.repo

    def backlog() -> dict[tuple[str, ...], float]:
        return {(): repo.outbox_backlog().count}

    def oldest() -> dict[tuple[str, ...], float]:
        waiting = repo.outbox_backlog().oldest_at
        age = 0.0 if waiting is None else (clock.now() - waiting).total_seconds()
        return {(): max(0.0, age)}

    def lag() -> dict[tuple[str, ...], float]:
        return {(name,): count for name, count in events.lag().items()}

    metrics.gauge("cinema_outbox_backlog", "Events recorded and not yet published.", backlog)
    metrics.gauge(
        "cinema_outbox_oldest_age_seconds",
        "How long the oldest unpublished event has waited (0: none waits).",
        oldest,
    )
    metrics.gauge(
        "cinema_consumer_lag_messages",
        "Events waiting in each consumer's queue on the broker.",
        lag,
        ("consumer",),
    )

    def rooms(
        count: Callable[[RoomFigures], int],
    ) -> Callable[[], dict[tuple[str, ...], float]]:
        return lambda: {(str(r.session_id),): count(r) for r in box.open_waiting_rooms()}

    metrics.gauge(
        "cinema_waiting_room_waiting",
        "Buyers waiting in each session's waiting room that is on.",
        rooms(lambda room: room.waiting),
        ("session_id",),
    )
    metrics.gauge(
        "cinema_waiting_room_active",
        "Buyers admitted and not yet lapsed in each session's waiting room that is on.",
        rooms(lambda room: room.active),
        ("session_id",),
    )


def _payment_provider(
    settings: Settings, clock: Clock, closers: list[object]
) -> tuple[PaymentProvider, NoticeVerifier | None, SandboxProvider | None]:
    """The provider the settings name (``InstantProvider`` for instant), the verifier of its
    webhook's notices, and the sandbox when it is the one."""
    if settings.payment_provider == "sandbox":
        sandbox = SandboxProvider(clock)
        return sandbox, None, sandbox
    if settings.payment_provider != "mercadopago":
        return InstantProvider(), None, None
    # Imported here so that a process without Mercado Pago never loads httpx.
    from adapters.mercadopago import MercadoPagoProvider, read_notice, verified_charge_id

    provider = MercadoPagoProvider(
        settings.mercadopago_access_token or "", settings.mercadopago_api_base
    )
    closers.append(provider)
    secret = settings.mercadopago_webhook_secret or ""

    def verify(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
        # The signature first, on every delivery: an unsigned one changes nothing (401).
        charge_id = verified_charge_id(secret, query, headers)
        return charge_id if read_notice(query).about_a_payment else None

    return provider, verify, None


def _postgres(
    settings: Settings, clock: Clock, closers: list[object]
) -> tuple[ReservationRepo, IdempotencyStore]:
    """The PostgreSQL store and idempotency keys on one pooled engine; refuses to run on a
    schema that is not current (``SchemaNotCurrent`` says to run ``cinema migrate``)."""
    from adapters.postgres import (
        PostgresIdempotencyStore,
        PostgresReservationRepo,
        require_current_schema,
    )
    from adapters.postgres.engine import create_engine
    from adapters.postgres.idempotency import RENEW_EVERY

    assert settings.database_url is not None
    pool = settings.database_pool_size
    engine = create_engine(
        settings.database_url,
        pool_size=pool,
        max_overflow=max(1, pool // 2),
        timeout=settings.database_timeout,
    )
    closers.append(engine)
    repo = PostgresReservationRepo(engine)
    try:
        require_current_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    keys = PostgresIdempotencyStore(engine, clock, renew_every=RENEW_EVERY)
    closers.append(keys)  # after its engine: closed before it, stops the renewals
    return repo, keys
