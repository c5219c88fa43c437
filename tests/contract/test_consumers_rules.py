"""The Consumer's own rules: what it accepts, which types it wants, how long it waits."""

from __future__ import annotations

import pytest

from cinema_core.events.consumers import Consumer, failure_reason, topic_matches


def _noop(event: object) -> None:
    return None


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("seat.released", "seat.released", True),
        ("seat.released", "seat.held", False),
        ("reservation.*", "reservation.created", True),
        ("reservation.*", "reservation", False),
        ("*.released", "seat.released", True),
        ("#", "payment.confirmed", True),
        ("reservation.#", "reservation", True),
        ("#.confirmed", "payment.confirmed", True),
        ("*", "payment.confirmed", False),
    ],
)
def test_types_match_as_rabbitmq_topics_do(pattern: str, key: str, matches: bool) -> None:
    """``*`` is one word and ``#`` any number, as RabbitMQ binds them."""
    assert topic_matches(pattern, key) is matches


def test_a_consumer_needs_one_handler_a_plain_name_and_types() -> None:
    """Exactly one of handle / handle_batch; a name usable in a queue name; some types."""
    with pytest.raises(ValueError, match="exactly one"):
        Consumer("x", ["#"])
    with pytest.raises(ValueError, match="exactly one"):
        Consumer("x", ["#"], handle=_noop, handle_batch=lambda events: None)
    with pytest.raises(ValueError, match="plain word"):
        Consumer("two words", ["#"], handle=_noop)
    with pytest.raises(ValueError, match="event type"):
        Consumer("x", [], handle=_noop)
    with pytest.raises(ValueError, match="max_attempts"):
        Consumer("x", ["#"], handle=_noop, max_attempts=0)
    with pytest.raises(ValueError, match="backoff schedule"):
        Consumer("x", ["#"], handle=_noop, backoff=())
    with pytest.raises(ValueError, match="negative"):
        Consumer("x", ["#"], handle=_noop, backoff=(1, -1))


def test_backoff_defaults_to_five_attempts_growing_fivefold() -> None:
    """Defaults: 5 attempts, waiting 1, 5, 25 and 125 s between them; the last step repeats."""
    consumer = Consumer("mailer", ["payment.confirmed"], handle=_noop)
    assert consumer.max_attempts == 5
    assert consumer.retry_delays == (1.0, 5.0, 25.0, 125.0)
    assert [consumer.delay_after(n) for n in (1, 2, 3, 4, 5)] == [1.0, 5.0, 25.0, 125.0, 125.0]
    assert Consumer("once", ["#"], handle=_noop, max_attempts=1, backoff=()).retry_delays == ()


def test_a_dead_letter_reason_names_the_error() -> None:
    """The reason is the exception's type and text (the type alone when it has no text)."""
    assert failure_reason(ValueError("bad seat")) == "ValueError: bad seat"
    assert failure_reason(KeyError()) == "KeyError"
