"""Contract fixtures: every port's suite runs against every implementation registered here.

How an adapter joins its port's suite
-------------------------------------
Add ONE entry to that port's registry below, for instance in ``REPO_FACTORIES``::

    "postgres": Impl(make_postgres_repo, manual_clock=False, marks=(pytest.mark.postgres,)),

``Impl.make`` is called as ``make(request, clock)`` and returns a ready implementation:

- ``request`` is the pytest ``FixtureRequest``: take service fixtures from it with
  ``request.getfixturevalue("postgres_url")`` (or ``"redis_url"``, ``"redis_prefix"``, their
  ``"redis_cluster_…"`` twins for the run's Redis Cluster,
  ``"amqp_url"``); their teardown (dropping the database, deleting the keys) runs after the
  test. Register closing with ``request.addfinalizer(thing.close)``.
- ``clock`` is the test's ``ManualClock``. ``manual_clock=True`` says the implementation measures
  time on it (TTL checks then turn the clock); ``False`` says it uses real time (Redis TTLs), and
  those checks then use short real TTLs (``TimePasses.SHORT_TTL``, via the ``time_passes``
  fixture) and sleep, for that implementation only.
- ``marks`` tags the generated tests (``-m "not redis"``); the service fixtures themselves skip,
  or fail under ``CINEMA_REQUIRE_SERVICES=1``, when the service is missing.

A plain function is accepted in place of ``Impl`` (manual clock, no marks). Define the factory
just above the registries (or import it from your adapter's test module) and import drivers
inside it, so a memory-only run needs none of them. For example::

    def make_postgres_repo(request, clock):
        from adapters.postgres import ...  # your constructor
        repo = ...(request.getfixturevalue("postgres_url"))
        request.addfinalizer(repo.close)
        return repo

Port-specific agreements:

- ``IDEMPOTENCY_FACTORIES``: build the store so that a duplicate waits at most
  ``IDEMPOTENCY_WAIT`` seconds for the first request's answer.
- ``EVENT_BUS_FACTORIES``: return a ``BusUnderTest``: the publishing side (the port) plus a
  way to see what a subscriber received (for RabbitMQ: a queue bound to the exchange).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import pytest

from cinema_core import Event, ManualClock
from cinema_core.memory import (
    InMemoryEventBus,
    InMemoryIdempotencyStore,
    InMemoryRateLimiter,
    InMemoryReservationRepo,
    InMemorySeatLock,
)
from cinema_core.memory.waiting import InMemoryWaitingLines
from cinema_core.ports import EventBus

IDEMPOTENCY_WAIT = 0.5

Factory = Callable[[pytest.FixtureRequest, ManualClock], Any]


@attrs.frozen
class Impl:
    """One implementation of a port, as the suites need to know it."""

    make: Factory
    manual_clock: bool = True
    marks: tuple[pytest.MarkDecorator, ...] = ()


@attrs.define
class BusUnderTest:
    """An event bus's publishing side, and what a subscriber of it has received."""

    bus: EventBus
    # received(count, timeout): the events received so far, once there are ``count`` of them
    # or ``timeout`` seconds have passed.
    received: Callable[[int, float], list[Event]]


def _memory_bus(request: pytest.FixtureRequest, clock: ManualClock) -> BusUnderTest:
    bus = InMemoryEventBus()
    got: list[Event] = []
    bus.subscribe(got.append)
    return BusUnderTest(bus, lambda count, timeout: list(got))


def _redis(request: pytest.FixtureRequest, cluster: bool) -> tuple[Any, str]:
    """A client of the single Redis or of the run's Redis Cluster, and a key prefix no other
    test uses (deleted afterwards)."""
    from adapters.redis import connect

    where = "redis_cluster" if cluster else "redis"
    client = connect(request.getfixturevalue(f"{where}_url"))
    request.addfinalizer(client.close)
    return client, request.getfixturevalue(f"{where}_prefix")


def make_redis_seat_lock(
    request: pytest.FixtureRequest, clock: ManualClock, cluster: bool = False
) -> Any:
    from adapters.redis import RedisSeatLock

    return RedisSeatLock(*_redis(request, cluster))


def make_redis_idempotency(
    request: pytest.FixtureRequest, clock: ManualClock, cluster: bool = False
) -> Any:
    from adapters.redis import RedisIdempotencyStore

    return RedisIdempotencyStore(*_redis(request, cluster), wait=IDEMPOTENCY_WAIT)


def make_redis_rate_limiter(
    request: pytest.FixtureRequest, clock: ManualClock, cluster: bool = False
) -> Any:
    from adapters.redis import RedisRateLimiter

    return RedisRateLimiter(*_redis(request, cluster))


def make_redis_waiting_lines(
    request: pytest.FixtureRequest, clock: ManualClock, cluster: bool = False
) -> Any:
    from adapters.redis import RedisWaitingLines

    return RedisWaitingLines(*_redis(request, cluster))


def _on_cluster(make: Callable[..., Any]) -> Factory:
    return lambda request, clock: make(request, clock, cluster=True)


def make_postgres_repo(request: pytest.FixtureRequest, clock: ManualClock) -> Any:
    from adapters.postgres import PostgresReservationRepo

    repo = PostgresReservationRepo(request.getfixturevalue("clean_postgres_url"))
    request.addfinalizer(repo.close)
    return repo


def make_postgres_idempotency(request: pytest.FixtureRequest, clock: ManualClock) -> Any:
    from adapters.postgres import PostgresIdempotencyStore

    store = PostgresIdempotencyStore(
        request.getfixturevalue("clean_postgres_url"), clock, wait=IDEMPOTENCY_WAIT
    )
    request.addfinalizer(store.close)
    return store


def make_rabbit_bus(request: pytest.FixtureRequest, clock: ManualClock) -> BusUnderTest:
    from tests.contract.test_event_bus_rabbitmq import make_rabbit_bus as make

    return make(request, clock)


_ON_POSTGRES = {"marks": (pytest.mark.postgres,)}
_ON_REDIS = {"manual_clock": False, "marks": (pytest.mark.redis,)}


REPO_FACTORIES: dict[str, Impl | Factory] = {
    "memory": lambda request, clock: InMemoryReservationRepo(),
    "postgres": Impl(make_postgres_repo, **_ON_POSTGRES),
}
SEAT_LOCK_FACTORIES: dict[str, Impl | Factory] = {
    "memory": lambda request, clock: InMemorySeatLock(clock),
    "redis": Impl(make_redis_seat_lock, **_ON_REDIS),
    "redis-cluster": Impl(_on_cluster(make_redis_seat_lock), **_ON_REDIS),
}
IDEMPOTENCY_FACTORIES: dict[str, Impl | Factory] = {
    "memory": lambda request, clock: InMemoryIdempotencyStore(clock, wait=IDEMPOTENCY_WAIT),
    "redis": Impl(make_redis_idempotency, **_ON_REDIS),
    "redis-cluster": Impl(_on_cluster(make_redis_idempotency), **_ON_REDIS),
    "postgres": Impl(make_postgres_idempotency, **_ON_POSTGRES),
}
RATE_LIMITER_FACTORIES: dict[str, Impl | Factory] = {
    "memory": lambda request, clock: InMemoryRateLimiter(clock),
    "redis": Impl(make_redis_rate_limiter, **_ON_REDIS),
    "redis-cluster": Impl(_on_cluster(make_redis_rate_limiter), **_ON_REDIS),
}
# The queues are timed by the clock their callers pass: the manual clock serves Redis too.
_QUEUE_ON_REDIS = {"manual_clock": True, "marks": (pytest.mark.redis,)}
WAITING_LINES_FACTORIES: dict[str, Impl | Factory] = {
    "memory": lambda request, clock: InMemoryWaitingLines(),
    "redis": Impl(make_redis_waiting_lines, **_QUEUE_ON_REDIS),
    "redis-cluster": Impl(_on_cluster(make_redis_waiting_lines), **_QUEUE_ON_REDIS),
}
EVENT_BUS_FACTORIES: dict[str, Impl | Factory] = {
    "memory": _memory_bus,
    "rabbitmq": Impl(make_rabbit_bus, manual_clock=False, marks=(pytest.mark.rabbitmq,)),
}


class TimePasses:
    """How a suite lets time pass for the implementation under test: by turning the test's
    ``ManualClock`` when the implementation reads it, else by sleeping (briefly) for real."""

    SHORT_TTL = 0.15
    MARGIN = 0.05

    def __init__(self, clock: ManualClock):
        self.clock = clock
        self.manual = True

    @property
    def short_ttl(self) -> float:
        """A TTL a test can wait out: long on a manual clock (it costs nothing), else short."""
        return 30.0 if self.manual else self.SHORT_TTL

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass (and, on real time, a little more: servers expire keys late)."""
        if self.manual:
            self.clock.advance(seconds)
        else:
            time.sleep(seconds + self.MARGIN)


def _impl(entry: Impl | Factory) -> Impl:
    return entry if isinstance(entry, Impl) else Impl(entry)


def _params(registry: Mapping[str, Impl | Factory]) -> list[Any]:
    return [
        pytest.param(name, id=name, marks=_impl(entry).marks) for name, entry in registry.items()
    ]


def _build(
    registry: Mapping[str, Impl | Factory],
    request: pytest.FixtureRequest,
    clock: ManualClock,
    time_passes: TimePasses,
) -> Any:
    impl = _impl(registry[request.param])
    time_passes.manual = impl.manual_clock
    return impl.make(request, clock)


@pytest.fixture
def time_passes(clock: ManualClock) -> TimePasses:
    """Lets time pass for whichever implementation the test runs against."""
    return TimePasses(clock)


@pytest.fixture(params=_params(REPO_FACTORIES))
def repo(request: pytest.FixtureRequest, clock: ManualClock, time_passes: TimePasses) -> Any:
    return _build(REPO_FACTORIES, request, clock, time_passes)


@pytest.fixture(params=_params(SEAT_LOCK_FACTORIES))
def seat_lock(request: pytest.FixtureRequest, clock: ManualClock, time_passes: TimePasses) -> Any:
    return _build(SEAT_LOCK_FACTORIES, request, clock, time_passes)


@pytest.fixture(params=_params(IDEMPOTENCY_FACTORIES))
def idempotency_store(
    request: pytest.FixtureRequest, clock: ManualClock, time_passes: TimePasses
) -> Any:
    return _build(IDEMPOTENCY_FACTORIES, request, clock, time_passes)


@pytest.fixture(params=_params(RATE_LIMITER_FACTORIES))
def rate_limiter(
    request: pytest.FixtureRequest, clock: ManualClock, time_passes: TimePasses
) -> Any:
    return _build(RATE_LIMITER_FACTORIES, request, clock, time_passes)


@pytest.fixture(params=_params(WAITING_LINES_FACTORIES))
def waiting_lines(
    request: pytest.FixtureRequest, clock: ManualClock, time_passes: TimePasses
) -> Any:
    return _build(WAITING_LINES_FACTORIES, request, clock, time_passes)


@pytest.fixture(params=_params(EVENT_BUS_FACTORIES))
def event_bus(
    request: pytest.FixtureRequest, clock: ManualClock, time_passes: TimePasses
) -> BusUnderTest:
    bus = _build(EVENT_BUS_FACTORIES, request, clock, time_passes)
    assert isinstance(bus, BusUnderTest), "EVENT_BUS_FACTORIES entries return a BusUnderTest"
    return bus


__all__ = ["IDEMPOTENCY_WAIT", "BusUnderTest", "Impl", "TimePasses"]


# -- the HTTP app in memory (tests/contract/test_http_*.py) ---------------------------------


@pytest.fixture
def api(clock: ManualClock) -> Iterator[Any]:
    """The HTTP app over a fresh in-memory box office on the test's clock; no worker."""
    from tests.contract.http_app import open_api

    with open_api(clock) as client:
        yield client


@pytest.fixture
def open_http_api(clock: ManualClock) -> Iterator[Callable[..., Any]]:
    """Open an app with other settings (``open_http_api(rate_per_user=1)``); closed after."""
    from contextlib import ExitStack

    from tests.contract.http_app import open_api

    with ExitStack() as stack:
        yield lambda **settings: stack.enter_context(open_api(clock, **settings))


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_api(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[Any]:
    """The HTTP app in memory, and on PostgreSQL."""
    from tests.contract.http_app import open_api

    settings: dict[str, Any] = {}
    if request.param == "postgres":
        settings["database_url"] = request.getfixturevalue("clean_postgres_url")
    with open_api(clock, **settings) as api:
        yield api


# -- which operations the HTTP contract suite exercised (tests/contract/exercised.py) -------


def pytest_deselected(items: list[pytest.Item]) -> None:
    from tests.contract.exercised import HTTP_TESTS, WHOLE_SUITE

    if any(item.path in HTTP_TESTS for item in items):
        items[0].config.stash[WHOLE_SUITE] = False


@pytest.hookimpl(trylast=True)  # after -k, -m and --deselect have had their say
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The coverage check runs last, and judges only a run of every HTTP contract test."""
    from tests.contract.exercised import HTTP_TESTS, WHOLE_SUITE

    last = [item for item in items if item.path.name == "test_http_coverage.py"]
    items[:] = [item for item in items if item not in last] + last
    # A test named on the command line (file::test) leaves the rest of its file out.
    named = any("::" in arg and "test_http_" in arg for arg in config.args)
    whole = {item.path for item in items} >= HTTP_TESTS and not named
    config.stash[WHOLE_SUITE] = config.stash.get(WHOLE_SUITE, True) and whole
