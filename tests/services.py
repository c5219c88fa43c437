"""Finding the real services for tests: each run gets its own database, key prefix and vhost-free
queue names, so runs never see each other's data.

Without a service a test that needs it is skipped with the reason; with
``CINEMA_REQUIRE_SERVICES=1`` (as CI sets) it fails instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "CINEMA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("CINEMA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("CINEMA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def services_required() -> bool:
    return os.environ.get("CINEMA_REQUIRE_SERVICES", "") not in ("", "0", "false", "no")


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1.0
        ):
            return True
    except OSError:
        return False


def need(name: str, url: str, default_port: int) -> None:
    """Skip (or, when services are required, fail) unless the service answers."""
    if reachable(url, default_port):
        return
    reason = f"{name} is not reachable at {urlsplit(url).netloc}"
    if services_required():
        pytest.fail(f"{reason}, and CINEMA_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(f"{reason} (set CINEMA_REQUIRE_SERVICES=1 to make this a failure)")


def missing(reason: str) -> NoReturn:
    """Skip with ``reason`` (or, when services are required, fail with it)."""
    if services_required():
        pytest.fail(f"{reason}, and CINEMA_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(f"{reason} (set CINEMA_REQUIRE_SERVICES=1 to make this a failure)")


def program(name: str, how: str) -> str:
    """The path of the program ``name`` on PATH; without it, ``missing`` saying ``how`` to get
    it. PATH alone decides: a fixed fallback location would find a program the caller hid."""
    found = shutil.which(name)
    if found is None:
        missing(f"{name} is not on PATH ({how})")
    return found


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def database(prefix: str, template: str | None = None) -> Iterator[tuple[str, str]]:
    """A new PostgreSQL database (a copy of ``template`` if given), dropped on exit, even with
    connections still open. Yields its name and its URL."""
    import sqlalchemy as sa

    name = unique(prefix)
    copy = f' TEMPLATE "{template}"' if template else ""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def drop_amqp_namespace(url: str, name: str) -> None:
    """Delete the exchange and the webhooks consumer's queues a run made under ``name``."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    for consumer in ("webhooks",):
        for suffix in ("", ".dead", ".retry.1s", ".retry.5s", ".retry.25s", ".retry.125s"):
            channel.queue_delete(f"{name}.{consumer}{suffix}")
    channel.exchange_delete(f"{name}.events")
    connection.close()


def drop_redis_keys(url: str, prefix: str) -> None:
    """Delete every Redis key that contains ``prefix`` (``url`` a node or a cluster)."""
    from adapters.redis import connect

    client = connect(url)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            # On a cluster the client splits this by slot.
            client.delete(*keys)
    finally:
        client.close()
