"""Configuration, read from the environment in one place (the contract's variables)."""

from __future__ import annotations

import os
import sys
import zoneinfo
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import attrs

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Token buckets: sustained requests per second and burst, per user and per client address.
# Generous by default; a rate of 0 switches a limit off (an operator's choice, never a client's).
RATE_PER_USER, BURST_PER_USER = 50.0, 100
RATE_PER_CLIENT, BURST_PER_CLIENT = 500.0, 1000
DATABASE_POOL_SIZE = 10
DATABASE_TIMEOUT = 5.0


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster")


def _redis_url(url: str | None) -> str | None:
    """``CINEMA_REDIS_URL`` if it names one server or a cluster's nodes, else ``ConfigError``."""
    if url is None:
        return None
    scheme = urlsplit(url).scheme
    if scheme not in REDIS_SCHEMES:
        raise ConfigError(
            "CINEMA_REDIS_URL must be redis://host:port/db, rediss://…, unix://… or, for a "
            "Redis Cluster, redis+cluster://host:port (any node)"
        )
    if scheme.endswith("+cluster"):
        # Imported only here: a process without a cluster never loads the driver for this.
        from adapters.redis.cluster import parse_cluster_url

        try:
            parse_cluster_url(url)
        except ValueError as error:
            raise ConfigError(f"CINEMA_REDIS_URL: {error}") from None
    return url


def _namespace(namespace: str | None) -> str:
    if namespace is None:
        return "cinema"
    # Redis Cluster hashes the first {…} of a key: the session's, which a brace here would move.
    if "{" in namespace or "}" in namespace:
        raise ConfigError("CINEMA_NAMESPACE may not contain braces ({ or })")
    return namespace


# prometheus-client's own variable: it reads it on import to choose its multiprocess mode.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


PAYMENT_PROVIDERS = ("instant", "sandbox", "mercadopago")
# The languages the pages and error messages speak (BCP 47 tags, as Accept-Language writes them).
LOCALES = ("pt-BR", "en")


def _locale(value: str | None) -> str:
    if value is None:
        return LOCALES[0]
    for known in LOCALES:
        if value.replace("_", "-").lower() == known.lower():
            return known
    raise ConfigError(f"CINEMA_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}, not {value!r}")


def _time_zone(value: str | None) -> str:
    if value is None:
        return "America/Sao_Paulo"
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"CINEMA_TIME_ZONE must be an IANA time zone such as America/Sao_Paulo, not {value!r}"
        ) from None
    return value


@attrs.frozen
class Variable:
    """One environment variable: what it sets, and what happens when it is unset."""

    name: str
    meaning: str
    unset: str


# Every variable the box office reads, in the order the documentation lists them; the CLI's
# --help and docs/API.md are checked against this table.
VARIABLES = {
    v.name: v
    for v in (
        Variable(
            "CINEMA_DATABASE_URL",
            "PostgreSQL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/cinema",
            "everything in this process's memory",
        ),
        Variable(
            "CINEMA_REDIS_URL",
            "Redis, e.g. redis://127.0.0.1:6379/0, or a Redis Cluster as "
            "redis+cluster://host:port (any node)",
            "seat locks, idempotency keys and rate limits in this process",
        ),
        Variable(
            "CINEMA_AMQP_URL",
            "RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672/%2F",
            "events delivered inside this process",
        ),
        Variable(
            "CINEMA_RESERVATION_TTL_SECONDS", "how long a hold lasts (may be fractional)", "30"
        ),
        Variable(
            "CINEMA_AUTH_SECRET",
            "the HS256 secret bearer tokens are signed with",
            "cinema serve makes one up and prints tokens",
        ),
        Variable(
            "CINEMA_REFUND_CUTOFF_MINUTES",
            "how long before a session starts a buyer may still refund (an admin may until "
            "it ends)",
            "60",
        ),
        Variable(
            "CINEMA_SALES_CLOSE_MINUTES",
            "minutes after a session starts when its sales close (never after it ends)",
            "15",
        ),
        Variable(
            "CINEMA_PAYMENT_PROVIDER",
            "how POST /reservations/{id}/payment takes money: instant, sandbox or mercadopago",
            "instant",
        ),
        Variable("CINEMA_MERCADOPAGO_ACCESS_TOKEN", "Mercado Pago's access token", "—"),
        Variable(
            "CINEMA_MERCADOPAGO_WEBHOOK_SECRET",
            "the secret Mercado Pago signs its notifications with",
            "— (every notification is refused)",
        ),
        Variable(
            "CINEMA_MERCADOPAGO_API_BASE",
            "Mercado Pago's API address",
            "https://api.mercadopago.com",
        ),
        Variable(
            "CINEMA_PUBLIC_URL",
            "the address buyers and providers reach the service at (Mercado Pago's "
            "notification_url is built from it)",
            "http://127.0.0.1:<port>",
        ),
        Variable(
            "CINEMA_PAYMENT_HOLD_SECONDS",
            "how long a hold lasts at least once its payment starts",
            "600",
        ),
        Variable(
            "CINEMA_PAYMENT_RECONCILE_SECONDS",
            "how often pending payments not heard of are read from the provider",
            "60",
        ),
        Variable(
            "CINEMA_WEBHOOK_TIMEOUT_SECONDS",
            "seconds a webhook's receiver has to connect, take the body and answer, per attempt",
            "5",
        ),
        Variable(
            "CINEMA_WEBHOOK_ALLOW_PRIVATE",
            "true lets webhooks point to this machine or a private network",
            "false",
        ),
        Variable(
            "CINEMA_ADMISSION_SECONDS",
            "how long an admission from a session's waiting room lets its buyer reserve",
            "600",
        ),
        Variable(
            "CINEMA_DEFAULT_LOCALE",
            "the pages' and error messages' language when Accept-Language names none of "
            "pt-BR or en",
            "pt-BR",
        ),
        Variable(
            "CINEMA_TIME_ZONE",
            "the cinemas' time zone, in which pages show dates and times (an IANA name)",
            "America/Sao_Paulo",
        ),
        Variable("CINEMA_LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR", "INFO"),
        Variable("CINEMA_LOG_FORMAT", "json or text", "text on a terminal, json otherwise"),
        Variable(
            "CINEMA_RATE_LIMIT_USER_PER_SECOND", "requests a second per user (0: no limit)", "50"
        ),
        Variable("CINEMA_RATE_LIMIT_USER_BURST", "burst allowed per user", "100"),
        Variable(
            "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND",
            "requests a second per client address (0: no limit)",
            "500",
        ),
        Variable("CINEMA_RATE_LIMIT_CLIENT_BURST", "burst allowed per client address", "1000"),
        Variable(
            "CINEMA_DATABASE_POOL_SIZE",
            "database connections per process (it opens up to 1.5 × this)",
            "10",
        ),
        Variable(
            "CINEMA_DATABASE_TIMEOUT_SECONDS",
            "how long the database may take to connect, run a statement or free a connection "
            "before a request is answered 503",
            "5",
        ),
        Variable(
            "CINEMA_NAMESPACE",
            "prefix of this deployment's Redis keys and RabbitMQ names (no braces: they would "
            "move the Redis Cluster hash tag)",
            "cinema",
        ),
        Variable(
            "CINEMA_METRICS",
            "0 switches the Prometheus metrics off (no GET /metrics, nothing counted)",
            "1",
        ),
        Variable(
            "CINEMA_METRICS_TOKEN",
            "the bearer token GET /metrics asks for",
            "— (GET /metrics is open)",
        ),
        Variable(
            "CINEMA_OTEL_ENDPOINT",
            "OpenTelemetry collector (OTLP over HTTP, e.g. http://127.0.0.1:4318) that traces "
            "go to: one per request, across PostgreSQL, Redis, the broker and the consumers",
            "— (no tracing)",
        ),
        Variable("CINEMA_OTEL_SERVICE_NAME", "the service name the traces carry", "cinema"),
        Variable(
            "CINEMA_RUN_WORKER",
            "0 keeps the sweeper and relay out of the API processes (cinema serve --no-worker "
            "sets it for its worker processes)",
            "1",
        ),
    )
}
_SCHEMES = {
    "CINEMA_DATABASE_URL": ("postgresql", "postgresql+psycopg"),
    "CINEMA_AMQP_URL": ("amqp", "amqps"),
}


def _url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    scheme = urlsplit(value).scheme
    if scheme not in _SCHEMES[name]:
        raise ConfigError(
            f"{name} must be a URL starting {' or '.join(s + '://' for s in _SCHEMES[name])}, "
            f"not {scheme + '://' if scheme else repr(value)}"
        )
    return value


def _otel_endpoint(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            "CINEMA_OTEL_ENDPOINT must be an OTLP/HTTP collector's address, "
            "http://host:4318 or https://…"
        )
    return url


def terminal_log_format() -> str:
    """``text`` when logs go to a terminal (a person reads them), ``json`` otherwise."""
    isatty = getattr(sys.stderr, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def _flag(name: str, text: Callable[[str], str | None], default: bool) -> bool:
    raw = text(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


@attrs.frozen
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    amqp_url: str | None = None
    hold_seconds: float = 30.0
    auth_secret: str | None = None
    log_level: str = "INFO"
    log_format: str = "json"
    rate_per_user: float = RATE_PER_USER
    burst_per_user: int = BURST_PER_USER
    rate_per_client: float = RATE_PER_CLIENT
    burst_per_client: int = BURST_PER_CLIENT
    # Connections each process may hold: PostgreSQL's max_connections (100 by default) must
    # cover processes × (pool + overflow), or the excess requests fail instead of waiting.
    database_pool_size: int = DATABASE_POOL_SIZE
    # How long before a session starts a buyer may still refund (admins may until it ends).
    refund_cutoff_minutes: float = 60.0
    # Minutes after a session starts when its sales close (never after it ends).
    sales_close_minutes: float = 15.0
    # Seconds the database may take to connect, to run one statement, or to free a pooled
    # connection, before a request is answered 503: a stalled database never hangs a request.
    database_timeout: float = DATABASE_TIMEOUT
    # Prefix for every Redis key and RabbitMQ queue this deployment owns (tests give each run one).
    namespace: str = "cinema"
    # Whether an API process built from the environment runs the sweeper and relay itself.
    run_worker: bool = True
    # Who takes the money: instant (pay sells at once), sandbox or mercadopago.
    payment_provider: str = "instant"
    mercadopago_access_token: str | None = None
    mercadopago_webhook_secret: str | None = None
    mercadopago_api_base: str = "https://api.mercadopago.com"
    # Where buyers and providers reach this service (None: the address it listens on).
    public_url: str | None = None
    payment_hold_seconds: float = 600.0
    payment_reconcile_seconds: float = 60.0
    # The pages' language unless the browser asks for another we speak; the cinemas' zone.
    default_locale: str = "pt-BR"
    time_zone: str = "America/Sao_Paulo"
    # Seconds a webhook's receiver has to connect, take the body and answer, per attempt.
    webhook_timeout_seconds: float = 5.0
    # Whether webhooks may point to this machine or a private network (refused by default).
    webhook_allow_private: bool = False
    # How long an admission from a session's waiting room lets its buyer reserve.
    admission_seconds: float = 600.0
    # Prometheus metrics (GET /metrics), and the bearer token it asks for when set.
    metrics: bool = True
    metrics_token: str | None = None
    # Where each process of ``cinema serve --workers N`` writes its metrics for the others to
    # sum (prometheus-client's multiprocess mode; the CLI makes and sets it, not an operator).
    metrics_dir: str | None = None
    # OpenTelemetry traces to this OTLP/HTTP collector (None: no tracing, nothing imported).
    otel_endpoint: str | None = None
    otel_service_name: str = "cinema"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default: float, *, minimum: float = 0.0) -> float:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a number, not {raw!r}") from None
            if not value >= minimum or value != value or value == float("inf"):
                raise ConfigError(f"{name} must be a finite number ≥ {minimum}, not {raw!r}")
            return value

        hold = number("CINEMA_RESERVATION_TTL_SECONDS", 30.0)
        if hold <= 0:
            raise ConfigError("CINEMA_RESERVATION_TTL_SECONDS must be greater than 0")
        level = (text("CINEMA_LOG_LEVEL") or "INFO").upper()
        if level not in LOG_LEVELS:
            raise ConfigError(f"CINEMA_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        log_format = (text("CINEMA_LOG_FORMAT") or terminal_log_format()).lower()
        if log_format not in ("json", "text"):
            raise ConfigError("CINEMA_LOG_FORMAT must be json or text")
        provider = (text("CINEMA_PAYMENT_PROVIDER") or "instant").lower()
        if provider not in PAYMENT_PROVIDERS:
            raise ConfigError(
                f"CINEMA_PAYMENT_PROVIDER must be one of {', '.join(PAYMENT_PROVIDERS)}"
            )
        token = text("CINEMA_MERCADOPAGO_ACCESS_TOKEN")
        if provider == "mercadopago" and token is None:
            raise ConfigError(
                "CINEMA_PAYMENT_PROVIDER=mercadopago needs CINEMA_MERCADOPAGO_ACCESS_TOKEN"
            )
        reconcile = number("CINEMA_PAYMENT_RECONCILE_SECONDS", 60.0, minimum=0.1)
        admission = number("CINEMA_ADMISSION_SECONDS", 600.0, minimum=1.0)
        return cls(
            webhook_timeout_seconds=number("CINEMA_WEBHOOK_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            webhook_allow_private=_flag("CINEMA_WEBHOOK_ALLOW_PRIVATE", text, False),
            default_locale=_locale(text("CINEMA_DEFAULT_LOCALE")),
            time_zone=_time_zone(text("CINEMA_TIME_ZONE")),
            payment_provider=provider,
            mercadopago_access_token=token,
            mercadopago_webhook_secret=text("CINEMA_MERCADOPAGO_WEBHOOK_SECRET"),
            mercadopago_api_base=text("CINEMA_MERCADOPAGO_API_BASE")
            or "https://api.mercadopago.com",
            public_url=text("CINEMA_PUBLIC_URL"),
            payment_hold_seconds=number("CINEMA_PAYMENT_HOLD_SECONDS", 600.0),
            payment_reconcile_seconds=reconcile,
            admission_seconds=admission,
            refund_cutoff_minutes=number("CINEMA_REFUND_CUTOFF_MINUTES", 60.0),
            sales_close_minutes=number("CINEMA_SALES_CLOSE_MINUTES", 15.0),
            database_url=_url("CINEMA_DATABASE_URL", text("CINEMA_DATABASE_URL")),
            redis_url=_redis_url(text("CINEMA_REDIS_URL")),
            amqp_url=_url("CINEMA_AMQP_URL", text("CINEMA_AMQP_URL")),
            hold_seconds=hold,
            auth_secret=text("CINEMA_AUTH_SECRET"),
            log_level=level,
            log_format=log_format,
            rate_per_user=number("CINEMA_RATE_LIMIT_USER_PER_SECOND", RATE_PER_USER),
            burst_per_user=int(number("CINEMA_RATE_LIMIT_USER_BURST", BURST_PER_USER, minimum=1)),
            rate_per_client=number("CINEMA_RATE_LIMIT_CLIENT_PER_SECOND", RATE_PER_CLIENT),
            burst_per_client=int(
                number("CINEMA_RATE_LIMIT_CLIENT_BURST", BURST_PER_CLIENT, minimum=1)
            ),
            namespace=_namespace(text("CINEMA_NAMESPACE")),
            run_worker=(text("CINEMA_RUN_WORKER") or "1").lower() not in ("0", "false", "no"),
            metrics=(text("CINEMA_METRICS") or "1").lower() not in ("0", "false", "no"),
            metrics_token=text("CINEMA_METRICS_TOKEN"),
            metrics_dir=text(MULTIPROCESS_DIR),
            otel_endpoint=_otel_endpoint(text("CINEMA_OTEL_ENDPOINT")),
            otel_service_name=text("CINEMA_OTEL_SERVICE_NAME") or "cinema",
            database_pool_size=int(
                number("CINEMA_DATABASE_POOL_SIZE", DATABASE_POOL_SIZE, minimum=1)
            ),
            database_timeout=number(
                "CINEMA_DATABASE_TIMEOUT_SECONDS", DATABASE_TIMEOUT, minimum=0.1
            ),
        )
