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

``structure(payload, CreateRoom)`` returns a ``CreateRoom`` or raises ``ValidationFailed``
naming every bad top-level field (the message says where inside it); ``components(CreateRoom)``
gives its JSON schema, and those of the classes nested in it, for ``/openapi.json``. Both read
the same declarations and the same type table (``SCALARS``), so what the document promises and
what the server accepts cannot drift; ``tests/contract/test_http_shapes.py`` checks them against
each other on boundary values for every operation's body.

Types: ``str``, ``int``, ``bool``, ``UUID``, ``datetime``, ``Money``; ``Literal[...]`` and
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
optional). Every string refuses control characters and text that is not valid Unicode; an int
is a JSON integer (not a bool, a fraction or a string); unknown fields are ignored.
"""

from __future__ import annotations

import enum
import functools
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import attrs

from cinema_core import Money, ValidationFailed
from cinema_core.times import parse_iso

_RULES = "cinema.rules"

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
# At least one character that is not whitespace, and no control characters.
NOT_BLANK = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
MONEY = r"^0*[0-9]{1,13}(\.[0-9]{1,2})?$"
POSITIVE_MONEY = r"^(?=[0-9.]*[1-9])0*[0-9]{1,13}(\.[0-9]{1,2})?$"
UUID_TEXT = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
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


class _Bad(Exception):
    """A value that does not fit: the message, or the bad fields of an object."""

    def __init__(self, message: str = "", fields: Mapping[str, str] | None = None):
        self.fields = dict(fields or {})
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in self.fields.items()))


# -- scalars: the schema each type shows, and how the server reads it --------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad("must be valid Unicode text") from None
    if not re.search(NO_CONTROL, value):
        raise _Bad("must not contain control characters")
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise _Bad("must be an integer")
    return value


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise _Bad("must be true or false")
    return value


def _uuid(value: Any) -> UUID:
    if not isinstance(value, str) or not re.search(UUID_TEXT, value):
        raise _Bad("must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6")
    return UUID(value)


def _instant(value: Any) -> datetime:
    example = "2026-12-01T19:00:00Z"
    if not isinstance(value, str):
        raise _Bad(f"must be an ISO 8601 string such as {example}")
    try:
        instant = parse_iso(value)
    except ValueError as error:
        if "timezone" in str(error):
            raise _Bad(str(error)) from None
        raise _Bad(f"is not an ISO 8601 instant such as {example}") from None
    except OverflowError:
        raise _Bad("is out of range") from None
    if not re.search(INSTANT, value):
        raise _Bad(f"must be written as {example} (or with an offset such as -03:00)")
    return instant


def _money(value: Any) -> Money:
    if not isinstance(value, str):
        raise _Bad('must be a decimal string such as "25.00"')
    try:
        money = Money.parse(value)
    except ValueError as error:
        raise _Bad(str(error)) from None
    if value.startswith("-"):  # "-0.00" too: the pattern has no sign
        raise _Bad("must not be negative")
    return money


@attrs.frozen
class Scalar:
    """A leaf type: its JSON schema and the function that reads it (raising ``_Bad``)."""

    schema: Mapping[str, Any]
    read: Callable[[Any], Any]


SCALARS: dict[object, Scalar] = {
    str: Scalar({"type": "string", "pattern": NO_CONTROL}, _text),
    int: Scalar({"type": "integer"}, _integer),
    bool: Scalar({"type": "boolean"}, _boolean),
    UUID: Scalar({"type": "string", "format": "uuid", "pattern": UUID_TEXT}, _uuid),
    datetime: Scalar({"type": "string", "format": "date-time", "pattern": INSTANT}, _instant),
    Money: Scalar({"type": "string", "pattern": MONEY}, _money),
}
# Which rules apply to which kind of type: anything else is a mistake in the declaration.
_APPLIES = {
    str: {"min_length", "max_length", "pattern"},
    int: {"minimum", "maximum", "positive"},
    Money: {"positive"},
    list: {"min_items", "max_items", "unique", "each"},
    dict: {"min_items", "max_items", "each"},
}
_CHECKED = {
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


# -- reading a payload ------------------------------------------------------------------


def structure(payload: dict[str, Any], body: Any) -> Any:
    """``payload`` (a parsed JSON object) as ``body``, or ``ValidationFailed`` naming every bad
    top-level field."""
    try:
        return _read(body, NO_RULES, payload)
    except _Bad as bad:
        raise ValidationFailed(bad.fields or {"body": str(bad)}) from None


def _read(tp: Any, rules: Rules, value: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        return _read_union(args, rules, value)
    scalar = SCALARS.get(tp)
    if scalar is not None:
        read = scalar.read(value)
        _check(tp, rules, read)
        return read
    if attrs.has(tp):
        return _read_object(tp, value)
    values = _choices(tp)
    if values is not None:
        chosen = _read_choice(values, value)
        return tp(chosen) if isinstance(tp, type) else chosen
    if origin is list:
        return _read_list(args[0], rules, value)
    if origin is dict:
        return _read_map(args[0], args[1], rules, value)
    raise TypeError(f"no shape for {tp!r}: declare it in SCALARS or as an attrs class")


def _check(tp: Any, rules: Rules, value: Any) -> None:
    if tp is str:
        if rules.min_length is not None and len(value) < rules.min_length:
            raise _Bad(f"must be at least {rules.min_length} characters")
        if rules.max_length is not None and len(value) > rules.max_length:
            raise _Bad(f"must be at most {rules.max_length} characters")
        if rules.pattern is not None and not re.search(rules.pattern, value):
            raise _Bad(f"must match {rules.pattern}")
    elif tp is int:
        low = _minimum(rules)
        if low is not None and value < low:
            raise _Bad(f"must be at least {low}")
        if rules.maximum is not None and value > rules.maximum:
            raise _Bad(f"must be at most {rules.maximum}")
    elif tp is Money and rules.positive and value.cents <= 0:
        raise _Bad("must be greater than zero")


def _minimum(rules: Rules) -> int | None:
    if rules.positive:
        return max(1, rules.minimum if rules.minimum is not None else 1)
    return rules.minimum


def _read_object(cls: type, value: Any) -> Any:
    if type(value) is not dict:
        raise _Bad("must be a JSON object")
    hints = _hints(cls)
    bad: dict[str, str] = {}
    given: dict[str, Any] = {}
    for f in attrs.fields(cls):
        if f.name not in value:
            if f.default is attrs.NOTHING:
                bad[f.name] = "is required"
            continue
        try:
            given[f.alias] = _read(hints[f.name], _rules(f), value[f.name])
        except _Bad as error:
            bad[f.name] = str(error)
    if bad:
        raise _Bad(fields=bad)
    return cls(**given)


def _read_union(args: tuple[Any, ...], rules: Rules, value: Any) -> Any:
    if value is None and type(None) in args:
        return None
    choices = [arg for arg in args if arg is not type(None)]
    failures: list[_Bad] = []
    for choice in choices:
        try:
            return _read(choice, rules, value)
        except _Bad as error:
            failures.append(error)
    if len(failures) == 1:
        raise failures[0]
    # Of several shapes, say what is wrong with the one the payload came closest to.
    objects = [f for f in failures if f.fields]
    if objects:
        raise min(objects, key=lambda f: len(f.fields))
    raise _Bad(" or ".join(dict.fromkeys(str(f) for f in failures)))


def _read_choice(values: list[Any], value: Any) -> Any:
    for allowed in values:
        if type(value) is type(allowed) and value == allowed:
            return value
    raise _Bad(f"must be one of {', '.join(map(str, values))}")


def _read_list(item: Any, rules: Rules, value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Bad("must be an array")
    _check_count(rules, len(value), "items")
    read = []
    for index, raw in enumerate(value):
        try:
            read.append(_read(item, rules.each or NO_RULES, raw))
        except _Bad as error:
            raise _Bad(f"item {index}: {error}") from None
    # Compared as JSON, as uniqueItems does; only once every item has its declared shape, so
    # no item is nested deeper than the declaration.
    if rules.unique and len({_canonical(x) for x in value}) != len(value):
        raise _Bad("must not repeat an item")
    return read


def _read_map(key: Any, item: Any, rules: Rules, value: Any) -> dict[Any, Any]:
    if type(value) is not dict:
        raise _Bad("must be a JSON object")
    _check_count(rules, len(value), "entries")
    read = {}
    for name, raw in value.items():
        try:
            # Keys of a dict[str, T] are any text (the schema cannot constrain them further).
            chosen = name if key is str else _read(key, NO_RULES, name)
            read[chosen] = _read(item, rules.each or NO_RULES, raw)
        except _Bad as error:
            raise _Bad(f"{name}: {error}") from None
    return read


def _check_count(rules: Rules, count: int, what: str) -> None:
    if rules.min_items is not None and count < rules.min_items:
        raise _Bad(f"must have at least {rules.min_items} {what}")
    if rules.max_items is not None and count > rules.max_items:
        raise _Bad(f"must have at most {rules.max_items} {what}")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _rules(f: attrs.Attribute) -> Rules:  # type: ignore[type-arg]
    found: Rules = f.metadata.get(_RULES, NO_RULES)
    return found


# -- the schema ---------------------------------------------------------------------------


def name_of(body: Any) -> str:
    """The component name of a body: its class name, or its alternatives' joined by Or."""
    if attrs.has(body):
        return str(body.__name__)
    return "Or".join(name_of(arg) for arg in typing.get_args(body))


def reference(body: Any) -> dict[str, Any]:
    """The schema of ``body`` as a request body refers to it."""
    return {"$ref": f"#/components/schemas/{name_of(body)}"}


def components(body: Any) -> dict[str, dict[str, Any]]:
    """The component schemas ``body`` needs: its own and every nested class's, by name."""
    found: dict[str, dict[str, Any]] = {}
    if attrs.has(body):
        _object_schema(body, found)
    else:
        found[name_of(body)] = _schema(body, NO_RULES, found)
    return found


def _object_schema(cls: type, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    name = cls.__name__
    if name not in found:
        found[name] = {}  # claimed first, so that a class nested in itself terminates
        hints = _hints(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for f in attrs.fields(cls):
            rules = _rules(f)
            schema = _schema(hints[f.name], rules, found)
            if f.default is attrs.NOTHING:
                required.append(f.name)
            elif not isinstance(f.default, attrs.Factory):  # type: ignore[arg-type]
                schema = _annotated(schema, {"default": _json(f.default)})
            properties[f.name] = schema
        schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        if cls.__doc__:
            schema["description"] = cls.__doc__.strip().splitlines()[0]
        found[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def _schema(tp: Any, rules: Rules, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    extra: dict[str, Any] = {}
    if rules.example is not NO_EXAMPLE:
        example = rules.example() if callable(rules.example) else rules.example
        extra["example"] = _json(example)
    if rules.description:
        extra["description"] = rules.description
    if origin in (types.UnionType, typing.Union):
        inner = attrs.evolve(rules, example=NO_EXAMPLE, description=None)
        choices = [_schema(arg, inner, found) for arg in args if arg is not type(None)]
        schema = choices[0] if len(choices) == 1 else {"anyOf": choices}
        if type(None) in args:
            if "enum" in schema:
                schema = {**schema, "enum": [*schema["enum"], None]}
            schema = _annotated(schema, {"nullable": True})
        return _annotated(schema, extra)
    if tp in SCALARS:
        return {**_scalar_schema(tp, rules), **extra}
    if attrs.has(tp):
        _applicable(tp, rules, set())
        return _annotated(_object_schema(tp, found), extra)
    values = _choices(tp)
    if values is not None:
        _applicable(tp, rules, set())
        return {**_enum(values), **extra}
    if origin is list:
        _applicable(tp, rules, _APPLIES[list])
        items = _schema(args[0], rules.each or NO_RULES, found)
        schema = {"type": "array", "items": items}
        _put(schema, "minItems", rules.min_items)
        _put(schema, "maxItems", rules.max_items)
        if rules.unique:
            schema["uniqueItems"] = True
        return {**schema, **extra}
    if origin is dict:
        _applicable(tp, rules, _APPLIES[dict])
        values = _schema(args[1], rules.each or NO_RULES, found)
        schema = {"type": "object"}
        keys = _choices(args[0])
        if keys is None:
            schema["additionalProperties"] = values
        else:
            schema["properties"] = {str(key): values for key in keys}
            schema["additionalProperties"] = False
        _put(schema, "minProperties", rules.min_items)
        _put(schema, "maxProperties", rules.max_items)
        return {**schema, **extra}
    raise TypeError(f"no shape for {tp!r}: declare it in SCALARS or as an attrs class")


def _scalar_schema(tp: Any, rules: Rules) -> dict[str, Any]:
    _applicable(tp, rules, _APPLIES.get(tp, set()))
    schema = dict(SCALARS[tp].schema)
    if tp is str:
        _put(schema, "minLength", rules.min_length)
        _put(schema, "maxLength", rules.max_length)
        if rules.pattern is not None:
            schema["pattern"] = rules.pattern
    elif tp is int:
        _put(schema, "minimum", _minimum(rules))
        _put(schema, "maximum", rules.maximum)
    elif tp is Money and rules.positive:
        schema["pattern"] = POSITIVE_MONEY
    return schema


def _choices(tp: Any) -> list[Any] | None:
    """The values a Literal or an Enum allows; None for any other type."""
    if typing.get_origin(tp) is Literal:
        return list(typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [member.value for member in tp]
    return None


def _enum(values: list[Any]) -> dict[str, Any]:
    kinds = {type(value) for value in values}
    schema: dict[str, Any] = {"enum": values}
    if len(kinds) == 1:
        kind = {str: "string", int: "integer", bool: "boolean"}.get(kinds.pop())
        if kind is not None:
            schema["type"] = kind
    return schema


def _applicable(tp: Any, rules: Rules, allowed: set[str]) -> None:
    given = {name for name in _CHECKED if getattr(rules, name) not in (None, False)}
    wrong = given - allowed
    if wrong:
        raise TypeError(f"rules {sorted(wrong)} do not apply to {tp!r}")


def _annotated(schema: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    if not extra:
        return schema
    if "$ref" in schema:
        # OpenAPI 3.0 ignores whatever sits beside a $ref: wrap it to say more.
        return {"allOf": [schema], **extra}
    return {**schema, **extra}


def _put(schema: dict[str, Any], key: str, value: int | None) -> None:
    if value is not None:
        schema[key] = value


def _json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Money | UUID):
        return str(value)
    return value
