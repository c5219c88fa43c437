"""Configuration, read from the environment in one place (the contract's variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping

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
    # Seconds the database may take to connect, to run one statement, or to free a pooled
    # connection, before a request is answered 503: a stalled database never hangs a request.
    database_timeout: float = DATABASE_TIMEOUT
    # Prefix for every Redis key and RabbitMQ queue this deployment owns (tests give each run one).
    namespace: str = "cinema"

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
        log_format = (text("CINEMA_LOG_FORMAT") or "json").lower()
        if log_format not in ("json", "text"):
            raise ConfigError("CINEMA_LOG_FORMAT must be json or text")
        return cls(
            database_url=text("CINEMA_DATABASE_URL"),
            redis_url=text("CINEMA_REDIS_URL"),
            amqp_url=text("CINEMA_AMQP_URL"),
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
            namespace=text("CINEMA_NAMESPACE") or "cinema",
            database_pool_size=int(
                number("CINEMA_DATABASE_POOL_SIZE", DATABASE_POOL_SIZE, minimum=1)
            ),
            database_timeout=number(
                "CINEMA_DATABASE_TIMEOUT_SECONDS", DATABASE_TIMEOUT, minimum=0.1
            ),
        )
