"""Request shapes: one declaration per body, read by the validator and by the OpenAPI document.

A body is an attrs class whose fields say what they accept, with ``field(...)``::

    @attrs.frozen
    class CreateRoom:
        cinema: str = field(min_length=1, max_length=200, example="Centro")
        layout: list[str] = field(
            min_items=1, max_items=26, each=Rules(pattern=r"^[spcwx_]{1,100}$"),
            example=["ssss_ssss", "pppp_pppp"],
        )
        prices: dict[Category, Money] = field(each=Rules(positive=True), example={...})
        starts_at: datetime = field(example=days_from_now(7))
        forbid_single_gaps: bool = field(default=False, example=False)

Give the class to an ``Operation`` as its ``body`` and that is all: ``structuring.structure``
turns each request's JSON into a ``CreateRoom`` or refuses it with ``ValidationFailed`` naming
every bad top-level field (the message says where inside it), and ``body_schemas.components``
publishes its JSON schema, and those of the classes nested in it, in ``/openapi.json``. Both
read the same declarations and this module's type table (``SCALARS``), so what the document
promises and what the server accepts cannot drift; ``tests/contract/test_http_shapes.py``
checks them against each other on boundary values for every operation's body.

Types: ``str``, ``int``, ``bool``, ``UUID``, ``datetime``, ``date``, ``Money``; ``Literal[...]`` and
``Enum`` subclasses (an enum); ``list[T]``; ``dict[str, T]`` and ``dict[Literal[...], T]``
(only those keys); ``T | None`` (null accepted); ``A | B`` (``anyOf``: the first that fits
wins); nested attrs classes (each its own component, by class name).

Rules (``field`` keyword → JSON schema keyword), each checked by the server as documented:

- ``min_length`` / ``max_length`` → ``minLength`` / ``maxLength`` (str, in code points)
- ``pattern`` → ``pattern`` (str): anchored ``^…$``, written so that ECMA and Python read it
  alike (``[0-9]``, not ``\\d``), and refusing control characters itself
- ``minimum`` / ``maximum`` → ``minimum`` / ``maximum`` (int)
- ``positive`` → an int ≥ 1, or Money > 0 (in Money's pattern)
- ``min_items`` / ``max_items`` → ``minItems`` / ``maxItems`` (list), ``minProperties`` /
  ``maxProperties`` (dict)
- ``unique`` → ``uniqueItems`` (list)
- ``each=Rules(...)`` → the rules of every item of a list, every value of a dict

Annotations: ``example`` (a value, or a callable giving one when the document is built, for
instants relative to now), ``description``, and ``default`` / ``factory`` (the field is then
optional). Every string refuses control characters (C0, DEL, C1) and text that is not valid
Unicode; an instant lies in ``[times.EARLIEST, times.LATEST)`` (years 0001–8999); an int
is a JSON integer (not a bool, a fraction or a string); unknown fields are ignored.
"""

from __future__ import annotations

import enum
import functools
import re
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import attrs

from cinema_core import Money
from cinema_core.kernel.times import EARLIEST, LATEST, in_range, parse_iso

_RULES = "cinema.rules"

# No control character: Unicode's Cc, that is C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F,
# NEL U+0085 among them). Lone surrogates (Cs) are refused apart, as text UTF-8 cannot encode.
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
# At least one character that is not whitespace, and no control characters.
NOT_BLANK = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
MONEY = r"^0*[0-9]{1,13}(\.[0-9]{1,2})?$"
POSITIVE_MONEY = r"^(?=[0-9.]*[1-9])0*[0-9]{1,13}(\.[0-9]{1,2})?$"
UUID_TEXT = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DAY = r"^[0-8][0-9]{3}-[0-9]{2}-[0-9]{2}$"
# Years 0000–8999 (0000 no reader takes): an instant ends before times.LATEST.
INSTANT = (
    r"^[0-8][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)


class _NoExample:
    def __repr__(self) -> str:
        return "NO_EXAMPLE"


NO_EXAMPLE: Any = _NoExample()


@attrs.frozen
class Rules:
    """What a field (or, under ``each``, every item of it) accepts, and how it is shown."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    positive: bool = False
    min_items: int | None = None
    max_items: int | None = None
    unique: bool = False
    each: Rules | None = None
    example: Any = attrs.field(default=attrs.Factory(lambda: NO_EXAMPLE))
    description: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.pattern is not None and not (
            self.pattern.startswith("^") and self.pattern.endswith("$")
        ):
            raise ValueError(f"a pattern must be anchored with ^…$: {self.pattern!r}")


NO_RULES = Rules()


def field(
    *, default: Any = attrs.NOTHING, factory: Callable[[], Any] | None = None, **rules: Any
) -> Any:
    """An attrs field with these ``Rules`` (see the module docstring)."""
    return attrs.field(default=default, factory=factory, metadata={_RULES: Rules(**rules)})


def days_from_now(days: int, hour: int = 19) -> Callable[[], str]:
    """An example instant ``days`` from today at ``hour``:00 UTC, computed when asked."""

    def example() -> str:
        day = datetime.now(UTC) + timedelta(days=days)
        return day.strftime(f"%Y-%m-%dT{hour:02d}:00:00Z")

    return example


class Unfit(Exception):
    """A value that does not fit its declaration: why, or (for an object) its bad fields."""

    def __init__(self, message: str = "", fields: Mapping[str, str] | None = None):
        self.fields = dict(fields or {})
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in self.fields.items()))


# The leaf types: the schema each one shows, and how the server reads it.


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Unfit("must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Unfit("must be valid Unicode text") from None
    if not re.search(NO_CONTROL, value):
        raise Unfit("must not contain control characters")
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise Unfit("must be an integer")
    return value


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise Unfit("must be true or false")
    return value


def _uuid(value: Any) -> UUID:
    if not isinstance(value, str) or not re.search(UUID_TEXT, value):
        raise Unfit("must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6")
    return UUID(value)


def _instant(value: Any) -> datetime:
    example = "2026-12-01T19:00:00Z"
    if not isinstance(value, str):
        raise Unfit(f"must be an ISO 8601 string such as {example}")
    try:
        instant = parse_iso(value)
    except ValueError as error:
        if "timezone" in str(error):
            raise Unfit(str(error)) from None
        raise Unfit(f"is not an ISO 8601 instant such as {example}") from None
    except OverflowError:
        raise Unfit("is out of range") from None
    if not in_range(instant):
        raise Unfit(f"must be from {EARLIEST.date()} to before {LATEST.date()} (UTC)")
    if not re.search(INSTANT, value):
        raise Unfit(f"must be written as {example} (or with an offset such as -03:00)")
    return instant


def _day(value: Any) -> date:
    example = "2026-12-01"
    if not isinstance(value, str) or not re.search(DAY, value):
        raise Unfit(f"must be a day such as {example}, before {LATEST.date()}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Unfit(f"is not a day such as {example}") from None


def _money(value: Any) -> Money:
    if not isinstance(value, str):
        raise Unfit('must be a decimal string such as "25.00"')
    try:
        money = Money.parse(value)
    except ValueError as error:
        raise Unfit(str(error)) from None
    if value.startswith("-"):  # "-0.00" too: the pattern has no sign
        raise Unfit("must not be negative")
    return money


@attrs.frozen
class Scalar:
    """A leaf type: its JSON schema and the function that reads it (raising ``Unfit``)."""

    schema: Mapping[str, Any]
    read: Callable[[Any], Any]


SCALARS: dict[object, Scalar] = {
    str: Scalar({"type": "string", "pattern": NO_CONTROL}, _text),
    int: Scalar({"type": "integer"}, _integer),
    bool: Scalar({"type": "boolean"}, _boolean),
    UUID: Scalar({"type": "string", "format": "uuid", "pattern": UUID_TEXT}, _uuid),
    datetime: Scalar({"type": "string", "format": "date-time", "pattern": INSTANT}, _instant),
    date: Scalar({"type": "string", "format": "date", "pattern": DAY}, _day),
    Money: Scalar({"type": "string", "pattern": MONEY}, _money),
}
# Which rules apply to which kind of type: anything else is a mistake in the declaration.
APPLIES = {
    str: {"min_length", "max_length", "pattern"},
    int: {"minimum", "maximum", "positive"},
    Money: {"positive"},
    list: {"min_items", "max_items", "unique", "each"},
    dict: {"min_items", "max_items", "each"},
}
CHECKED = {
    "min_length",
    "max_length",
    "pattern",
    "minimum",
    "maximum",
    "positive",
    "min_items",
    "max_items",
    "unique",
    "each",
}


@functools.cache
def hints(cls: type) -> dict[str, Any]:
    """The resolved type of each field of ``cls``."""
    return typing.get_type_hints(cls)


def rules_of(f: attrs.Attribute) -> Rules:  # type: ignore[type-arg]
    """The rules ``field`` gave this attribute (none for a plain attrs field)."""
    found: Rules = f.metadata.get(_RULES, NO_RULES)
    return found


def choices(tp: Any) -> list[Any] | None:
    """The values a Literal or an Enum allows; None for any other type."""
    if typing.get_origin(tp) is Literal:
        return list(typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [member.value for member in tp]
    return None


def minimum(rules: Rules) -> int | None:
    """The least int these rules admit (``positive`` means at least 1)."""
    if rules.positive:
        return max(1, rules.minimum if rules.minimum is not None else 1)
    return rules.minimum
