"""A RabbitMQ node of the test's own, started from the machine's ``rabbitmq-server`` on ports
nobody else uses, so a test may stop and restart it; the machine's shared broker is never touched.

Everything the node writes (its database, logs, its Erlang cookie) lives in a temporary
directory: ``HOME`` points there for the node and for ``rabbitmqctl``, so they share a cookie of
their own. Plugins are off and the machine's configuration files are not read. Booting takes a
few seconds here; without the binaries the tests that need a node skip, or fail under
``CINEMA_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import pika
import pika.exceptions
import pytest

from tests import services
from tests.redis_cluster import free_ports

BIN = Path("/usr/lib/rabbitmq/bin")
BOOT_TIMEOUT = 60.0
# Erlang's distribution port is the AMQP port + 10000 here (free_ports checks both).


def _binary(name: str) -> str | None:
    # PATH decides whether it is installed (so a PATH without it skips); the package's own
    # script is preferred to Debian's /usr/sbin wrapper, which switches to the rabbitmq user.
    on_path = shutil.which(name)
    packaged = BIN / name
    return str(packaged) if on_path is not None and packaged.exists() else on_path


def need_binaries() -> None:
    """Skip (or, when services are required, fail) unless rabbitmq-server and rabbitmqctl exist."""
    missing = [name for name in ("rabbitmq-server", "rabbitmqctl") if _binary(name) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not found: no RabbitMQ node of the test's own can be started"
    if services.services_required():
        pytest.fail(f"{reason}, and CINEMA_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(f"{reason} (set CINEMA_REQUIRE_SERVICES=1 to make this a failure)")


class BrokerNode:
    """One RabbitMQ node, ``cinema-test-<port>@localhost``; ``start``, ``stop``, ``start`` again."""

    def __init__(self, first_port: int = 17672):
        need_binaries()
        (self.port,) = free_ports(first_port, 1)
        self.name = f"cinema-test-{self.port}@localhost"
        self._dir = Path(tempfile.mkdtemp(prefix="cinema-rabbitmq-"))
        home = self._dir / "home"
        home.mkdir()
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16))
        cookie.chmod(0o400)
        (self._dir / "enabled_plugins").write_text("[].\n")
        (self._dir / "rabbitmq.conf").write_text("")
        (self._dir / "rabbitmq-env.conf").write_text("")
        self._env = {
            key: value for key, value in os.environ.items() if not key.startswith("RABBITMQ_")
        } | {
            "HOME": str(home),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.port + 10000),
            "RABBITMQ_MNESIA_BASE": str(self._dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self._dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self._dir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self._dir / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self._dir / "rabbitmq-env.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self._dir / "advanced.config"),
            "RABBITMQ_PID_FILE": str(self._dir / "node.pid"),
        }
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def start(self) -> float:
        """Boot the node (again, on the same database); returns how long it took."""
        started = time.monotonic()
        with (self._dir / "server.log").open("ab") as log:
            self._process = subprocess.Popen(
                [_binary("rabbitmq-server") or "rabbitmq-server"],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + BOOT_TIMEOUT
        while not self._answers():
            if self._process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited while booting: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"rabbitmq-server did not boot in {BOOT_TIMEOUT} s")
            time.sleep(0.2)
        return time.monotonic() - started

    def stop(self) -> None:
        """A clean stop (``rabbitmqctl stop``), as an operator restarting a node does."""
        if self._process is None or self._process.poll() is not None:
            return
        self.ctl("stop")
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)

    def ctl(self, *args: str) -> str:
        done = subprocess.run(
            [_binary("rabbitmqctl") or "rabbitmqctl", "-n", self.name, *args],
            env=self._env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr!r}")
        return done.stdout.decode()

    def queues(self) -> dict[str, dict[str, Any]]:
        """Every queue by name: its ``type``, ``durable`` and ``messages`` (ready + unacked)."""
        listed = self.ctl(
            "list_queues", "name", "type", "durable", "messages", "--formatter", "json", "-q"
        )
        return {queue["name"]: queue for queue in json.loads(listed)}

    def close(self) -> None:
        try:
            self.stop()
        finally:
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> BrokerNode:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _answers(self) -> bool:
        try:
            # A bare socket first: pika logs every refused connection as an error.
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        try:
            connection = pika.BlockingConnection(
                pika.URLParameters(self.url + "?connection_attempts=1&socket_timeout=1")
            )
        except pika.exceptions.AMQPError:
            return False
        connection.close()
        return True

    def _log_tail(self) -> str:
        return (self._dir / "server.log").read_text(errors="replace")[-3000:]
