"""What a run owns on the shared services, made and removed: its database (PostgreSQL), its
keys (Redis) and its exchange and queues (RabbitMQ), all named after the run's namespace."""

from __future__ import annotations


class ResourceError(RuntimeError):
    """A service would not give the run what it needs; the message says which and why."""


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def server_url(admin_url: str, database: str) -> str:
    base = _libpq(admin_url).rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{database}"


def database_dsn(admin_url: str, database: str) -> str:
    """A libpq URL of the bench's database, for the SQL side of the invariant check."""
    return _libpq(admin_url).rsplit("/", 1)[0] + f"/{database}"


def create_database(admin_url: str, namespace: str) -> str:
    import psycopg

    try:
        with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{namespace}"')
    except psycopg.Error as error:
        raise ResourceError(f"cannot create the bench database at {admin_url}: {error}") from error
    return namespace


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def forget_rabbitmq(env: dict[str, str], url: str, namespace: str, notes: list[str]) -> None:
    """Delete the exchange and queues the run declared (they are named after its namespace)."""
    try:
        import pika

        from adapters.rabbitmq.topology import Topology
        from entrypoints.bootstrap import bootstrap
        from entrypoints.config import Settings

        services = bootstrap(Settings.from_env(env))
        consumers = list(services.events.consumers) if services.events else []
        services.close()
        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            Topology(namespace=namespace).delete(connection.channel(), consumers)
        finally:
            connection.close()
    except Exception as error:  # cleaning up must not hide the run's results
        notes.append(f"could not delete the run's RabbitMQ queues ({namespace}.*): {error}")


def forget_redis_keys(url: str, namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"*{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # Nothing to clean if Redis is gone; the keys carry TTLs anyway.
    finally:
        client.close()
