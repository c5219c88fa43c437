"""Opening connections to RabbitMQ, and turning pika's errors into the core's.

Timeouts are short on purpose: the relay and the consumers run in loops that must notice an
outage in seconds, report it, and try again, rather than hang on a dead socket.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pika
import pika.exceptions
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from cinema_core.errors import BackendUnavailable

CONNECT_TIMEOUT = 2.0
# Seconds between heartbeats: a silent, half-open connection is found dead within about twice
# this, even while waiting for the commit of a batch.
HEARTBEAT = 10

DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPError,
    pika.exceptions.ChannelError,
    pika.exceptions.ReentrancyError,
    # Not an AMQPError: a handshake that stalls (the socket accepted, nothing answers) raises
    # AMQPConnectorStackTimeout, wrapped in AMQPConnectionWorkflowFailed, from this branch.
    AMQPConnectorException,
    OSError,
    socket.timeout,
    # pika raises these on a channel or connection it already knows to be closed.
    AssertionError,
    ValueError,
)


def parameters(url: str, *, heartbeat: int = HEARTBEAT) -> pika.URLParameters:
    """Connection parameters for ``url`` with the short timeouts the loops rely on."""
    params = pika.URLParameters(url)
    params.socket_timeout = CONNECT_TIMEOUT
    params.stack_timeout = CONNECT_TIMEOUT * 2
    params.blocked_connection_timeout = 10.0
    params.connection_attempts = 1
    params.retry_delay = 0
    params.heartbeat = heartbeat
    params.client_properties = {"connection_name": "cinema"}
    return params


def connect(url: str, *, heartbeat: int = HEARTBEAT) -> pika.BlockingConnection:
    """A new blocking connection, or ``BackendUnavailable``."""
    with translated("cannot connect to RabbitMQ"):
        return pika.BlockingConnection(parameters(url, heartbeat=heartbeat))


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """Raise ``BackendUnavailable`` in place of any driver or socket error inside."""
    try:
        yield
    except BackendUnavailable:
        raise
    except DRIVER_ERRORS as error:
        raise BackendUnavailable(f"{what}: {type(error).__name__}: {error}") from error


def close_quietly(connection: pika.BlockingConnection | None) -> None:
    """Close a connection that may already be broken, ignoring why it cannot be."""
    if connection is None:
        return
    with contextlib.suppress(Exception):
        if connection.is_open:
            connection.close()
