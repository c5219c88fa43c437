"""Background loops survive any exception, back off, say so once, and read dead or stuck."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from cinema_core import BackendUnavailable, ManualClock, Outages
from cinema_core.resilience.supervision import Loop, Supervisor


class Flaky:
    """A loop body that raises the errors it is given, one per call, then works."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


class Blocking:
    """A loop body that blocks until released, saying when it has started."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        self.entered.set()
        self.release.wait(10)


@pytest.fixture
def supervisor(clock: ManualClock) -> Iterator[Supervisor]:
    made = Supervisor(clock, Outages())
    yield made
    made.stop(2)


def until(done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.01)


def test_a_failing_loop_backs_off_doubling_and_logs_once_per_run_of_failures(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Each failure waits twice the last (up to the ceiling); one warning when it starts
    failing, one when it works again, none per attempt."""
    body = Flaky(*(RuntimeError(f"boom {n}") for n in range(6)))
    loop = Loop("cinema-test", body, clock=clock, every=0.2, first_backoff=0.5, max_backoff=4.0)
    with caplog.at_level(logging.WARNING, logger="cinema.threads"):
        waits = [loop.attempt() for _ in range(7)]
        assert loop.attempt() == 0.2
        body.errors.append(ValueError("again"))
        assert loop.attempt() == 0.5  # the backoff starts over after a success
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 0.2]
    assert [r.getMessage() for r in caplog.records] == [
        "cinema-test failed; retrying with backoff until it works",
        "cinema-test works again",
        "cinema-test failed; retrying with backoff until it works",
    ]
    assert caplog.records[0].exc_info is not None


def test_a_backend_outage_is_said_once_through_outages(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop naming its backend reports BackendUnavailable as that backend's outage: one
    warning when it goes, one when the loop gets through again."""
    outages = Outages()
    body = Flaky(*(BackendUnavailable("cannot connect to RabbitMQ") for _ in range(4)))
    loop = Loop("cinema-consumers", body, clock=clock, outages=outages, backend="broker")
    with caplog.at_level(logging.WARNING):
        for _ in range(4):
            loop.attempt()
        assert outages.down() == {"broker": "cannot connect to RabbitMQ"}
        loop.attempt()
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("cinema.backends", "broker unreachable; carrying on without it"),
        ("cinema.backends", "broker reachable again"),
    ]
    assert outages.down() == {}


def test_a_long_body_recovers_on_its_first_beat(clock: ManualClock) -> None:
    """A body that runs for long (a consumer) ends its failures by beating, not returning."""
    outages = Outages()
    loop = Loop("cinema-live-feed", Flaky(), clock=clock, outages=outages, backend="broker")
    loop.body = Flaky(BackendUnavailable("stalled"))
    loop.attempt()
    assert outages.down() == {"broker": "stalled"}
    loop.beat()
    assert outages.down() == {}


def test_a_loop_survives_any_exception_on_its_thread(supervisor: Supervisor) -> None:
    """Whatever the body raises (a driver error no one translated included), the thread goes
    on, tries again, and reads ok once an attempt works."""

    class AMQPConnectorStackTimeout(Exception):
        """Like pika's: an Exception outside the driver's usual hierarchy."""

    body = Flaky(AMQPConnectorStackTimeout("handshake stalled"), KeyError("x"), OSError("reset"))
    worked = threading.Event()

    def work() -> None:
        body()
        worked.set()

    loop = supervisor.loop("cinema-flaky", work, every=0.01, first_backoff=0.01)
    loop.start()
    assert worked.wait(10), "the loop never worked again"
    until(lambda: supervisor.problems() == {})
    assert body.calls >= 4


def test_a_loop_that_stops_beating_reads_stuck(supervisor: Supervisor, clock: ManualClock) -> None:
    """No heartbeat for stuck_after seconds: stuck; its next beat makes it ok again."""
    body = Blocking()
    loop = supervisor.loop("cinema-relay", body, stuck_after=60)
    loop.start()
    assert body.entered.wait(10)
    clock.advance(59)
    assert supervisor.problems() == {}
    clock.advance(2)
    assert supervisor.problems() == {"cinema-relay": "stuck"}
    loop.beat()
    assert supervisor.problems() == {}
    body.release.set()


def test_a_loop_waiting_out_its_backoff_reads_failing_not_stuck(
    supervisor: Supervisor, clock: ManualClock
) -> None:
    """While it waits before its next attempt the loop is failing; stuck only once it is
    overdue by stuck_after after that wait."""
    body = Flaky(RuntimeError("down"))
    loop = supervisor.loop("cinema-sweeper", body, first_backoff=100, stuck_after=60)
    loop.start()
    until(lambda: supervisor.problems() != {})
    assert supervisor.problems() == {"cinema-sweeper": "failing"}
    clock.advance(150)
    assert supervisor.problems() == {"cinema-sweeper": "failing"}
    clock.advance(20)
    assert supervisor.problems() == {"cinema-sweeper": "stuck"}


class Crash(BaseException):
    """A thread told to die, not an error a loop may catch."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_loop_whose_thread_ended_reads_dead(supervisor: Supervisor) -> None:
    """A thread that ended without being stopped is dead; a stopped one is no problem."""
    dying = supervisor.loop("cinema-consumers", Flaky(Crash()))
    dying.start()
    until(lambda: supervisor.problems() == {"cinema-consumers": "dead"})
    stopped = supervisor.loop("cinema-retries", Flaky(), every=0.01)
    stopped.start()
    stopped.stop()
    assert supervisor.problems() == {"cinema-consumers": "dead"}
