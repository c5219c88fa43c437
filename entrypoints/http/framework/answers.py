"""Answers: one declaration per response body, from which its JSON, its OpenAPI schema and
its example all come (as ``shapes`` does for request bodies).

An answer is an attrs class deriving from ``Answer`` whose fields say what each value of the
JSON is and where it comes from on the domain object, with ``out(...)``::

    @attrs.frozen
    class Line(Answer):
        \"\"\"One seat of a reservation or sale, with its ticket and price.\"\"\"

        seat: str = out(example="A1")
        category: Category = out()
        ticket: str = out(example="half")
        price: Money = out()

``Line.encode(line)`` is the JSON-ready dict of a domain ``Line`` (``Line.response(line)`` the
HTTP answer); ``Reply("...", Line)`` on an ``Operation`` publishes ``components(Line)`` in
``/openapi.json``, with an example made of the fields' examples. The encoder is compiled once
per class into plain Python (one dict display, no loop over fields): the answers on the hot
path cost what a hand-written dict builder costs.

Types, and how a value is written: ``str`` (``str(value)``: a seat label too), ``int``,
``bool``, ``UUID`` and ``Money`` (their text), ``datetime`` (ISO 8601 UTC with ``Z``, whole
seconds without a fraction), ``date``; an ``Enum`` (its value) or ``Literal[...]``;
``list[T]``; ``dict[K, V]`` (keys as text); ``T | None``; another ``Answer`` (its own component,
by class name); ``Any`` (as it is).

``out`` takes ``source`` (where the value is: an attribute path such as ``"session.room.name"``,
or a function of the object; by default the attribute of the field's name), ``description``,
``example`` (a value, or a callable giving one when the document is built), ``omit_none`` (the
field is left out, and not required, when its value is None) and further OpenAPI schema
keywords (``minimum=0``, ``format="date-time"``).
"""

from __future__ import annotations

import enum
import itertools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import Money

from .responses import dump, json_response
from .shapes import NO_EXAMPLE, choices, hints

_OUT = "cinema.answer"
# Money as the API writes it: always two decimals.
MONEY = r"^-?[0-9]+\.[0-9]{2}$"
# What an example shows for a field that gives none, by type.
_EXAMPLES: dict[object, Any] = {
    str: "string",
    int: 0,
    bool: False,
    UUID: "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    datetime: "2026-12-01T19:00:00Z",
    date: "2026-12-01",
    Money: "25.00",
}
_SCHEMAS: dict[object, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    bool: {"type": "boolean"},
    UUID: {"type": "string", "format": "uuid"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    Money: {"type": "string", "pattern": MONEY},
}


def instant(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``; whole seconds are written without a fraction."""
    moment = moment.astimezone(UTC)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


@attrs.frozen
class Out:
    """What ``out`` declared of one field of an answer."""

    source: str | Callable[[Any], Any] | None
    description: str | None
    example: Any
    omit_none: bool
    schema: Mapping[str, Any]


def out(
    source: str | Callable[[Any], Any] | None = None,
    *,
    description: str | None = None,
    example: Any = NO_EXAMPLE,
    omit_none: bool = False,
    **schema: Any,
) -> Any:
    """A field of an answer (see the module docstring)."""
    return attrs.field(metadata={_OUT: Out(source, description, example, omit_none, schema)})


class Answer:
    """The base of every answer class: its encoder, its HTTP answer."""

    _encoder: ClassVar[Callable[[Any], dict[str, Any]] | None] = None

    @classmethod
    def encode(cls, value: Any) -> dict[str, Any]:
        """The JSON-ready dict of the domain object ``value`` in this shape."""
        encoder = cls.__dict__.get("_encoder")
        if encoder is None:
            encoder = _compile(cls)
        return encoder(value)

    @classmethod
    def json(cls, value: Any) -> bytes:
        """``value`` in this shape, encoded."""
        return dump(cls.encode(value))

    @classmethod
    def response(
        cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        """The HTTP answer whose body is ``value`` in this shape."""
        return json_response(cls.encode(value), status, headers)


def is_answer(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Answer) and attrs.has(tp)


def names(cls: Any) -> tuple[str, ...]:
    """The JSON names of an answer's fields, in order (a CSV's columns)."""
    return tuple(f.name for f in attrs.fields(cls))


# -- the encoder ---------------------------------------------------------------------------


def _compile(cls: Any) -> Callable[[Any], dict[str, Any]]:
    """Write the encoder of ``cls`` as Python source, once, and keep it on the class."""
    env: dict[str, Any] = {"_instant": instant}
    temps = itertools.count()
    shown: list[str] = []
    omitted: list[str] = []
    types_of = hints(cls)
    for f in attrs.fields(cls):
        spec = _spec(cls, f)
        value = _source(f.name, spec.source, env, temps)
        if spec.omit_none:
            t = f"_t{next(temps)}"
            inner = _convert(_optional_inner(types_of[f.name]), t, env, temps)
            omitted.append(
                f"    {t} = {value}\n    if {t} is not None:\n        d[{f.name!r}] = {inner}"
            )
        else:
            shown.append(f"{f.name!r}: {_convert(types_of[f.name], value, env, temps)}")
    body = "    d = {" + ", ".join(shown) + "}\n"
    body += "".join(line + "\n" for line in omitted)
    source = f"def encode(o):\n{body}    return d\n"
    exec(compile(source, f"<answer {cls.__name__}>", "exec"), env)
    encoder: Callable[[Any], dict[str, Any]] = env["encode"]
    cls._encoder = encoder
    return encoder


def _spec(cls: type, f: attrs.Attribute) -> Out:  # type: ignore[type-arg]
    spec = f.metadata.get(_OUT)
    if not isinstance(spec, Out):
        raise TypeError(f"{cls.__name__}.{f.name}: declare it with answers.out(...)")
    return spec


def _source(
    name: str,
    source: str | Callable[[Any], Any] | None,
    env: dict[str, Any],
    temps: itertools.count[int],
) -> str:
    if source is None:
        return f"o.{name}"
    if isinstance(source, str):
        if not all(part.isidentifier() for part in source.split(".")):
            raise TypeError(f"{name}: a source is an attribute path, not {source!r}")
        return f"o.{source}"
    function = f"_s{next(temps)}"
    env[function] = source
    return f"{function}(o)"


def _optional_inner(tp: Any) -> Any:
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    return args[0] if _is_optional(tp) and len(args) == 1 else tp


def _is_optional(tp: Any) -> bool:
    union = typing.get_origin(tp) in (types.UnionType, typing.Union)
    return union and type(None) in typing.get_args(tp)


def _convert(tp: Any, value: str, env: dict[str, Any], temps: itertools.count[int]) -> str:
    """The Python expression that writes ``value`` (an expression) as ``tp`` in JSON."""
    if tp is Any or (choices(tp) is not None and not isinstance(tp, type)):  # Any, Literal
        return value
    if _is_optional(tp):
        t = f"_t{next(temps)}"
        inner = _convert(_optional_inner(tp), t, env, temps)
        return f"(None if ({t} := {value}) is None else {inner})"
    if tp in (int, bool):
        return value
    if tp in (str, UUID, Money) or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        return f"str({value})"
    if tp is datetime:
        return f"_instant({value})"
    if tp is date:
        return f"{value}.isoformat()"
    if is_answer(tp):
        encoder = f"_e{next(temps)}"
        env[encoder] = tp.__dict__.get("_encoder") or _compile(tp)
        return f"{encoder}({value})"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list:
        item = f"_i{next(temps)}"
        return f"[{_convert(args[0], item, env, temps)} for {item} in {value}]"
    if origin is dict:
        key, item = f"_k{next(temps)}", f"_v{next(temps)}"
        written = _convert(args[1], item, env, temps)
        return f"{{str({key}): {written} for {key}, {item} in {value}.items()}}"
    raise TypeError(f"no answer for {tp!r}: see entrypoints.http.answers")


# -- the schema and its example ------------------------------------------------------------


def components(cls: Any) -> dict[str, dict[str, Any]]:
    """The component schemas ``cls`` needs: its own and every nested answer's, by name."""
    found: dict[str, dict[str, Any]] = {}
    _component(cls, found)
    return found


def reference(cls: Any) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{cls.__name__}"}


def _component(cls: Any, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    name = cls.__name__
    if name not in found:
        found[name] = {}  # claimed first, so that an answer nested in itself terminates
        types_of = hints(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for f in attrs.fields(cls):
            spec = _spec(cls, f)
            tp = _optional_inner(types_of[f.name]) if spec.omit_none else types_of[f.name]
            schema = {**_schema(tp, found), **spec.schema}
            extra: dict[str, Any] = {}
            if spec.description:
                extra["description"] = spec.description
            if spec.example is not NO_EXAMPLE:
                extra["example"] = _example_value(spec.example)
            if extra and "$ref" in schema:
                # OpenAPI 3.0 ignores whatever sits beside a $ref: wrap it to say more.
                schema = {"allOf": [schema]}
            properties[f.name] = {**schema, **extra}
            if not spec.omit_none:
                required.append(f.name)
        schema = {"type": "object", "required": required, "properties": properties}
        if cls.__doc__ and cls.__doc__ is not Answer.__doc__:
            schema["description"] = cls.__doc__.strip().splitlines()[0]
        schema["example"] = example(cls)
        found[name] = schema
    return reference(cls)


def _schema(tp: Any, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if tp is Any:
        return {}
    if _is_optional(tp):
        inner = _schema(_optional_inner(tp), found)
        if "$ref" in inner:
            return {"allOf": [inner], "nullable": True}
        return {**inner, "nullable": True}
    if tp in _SCHEMAS:
        return dict(_SCHEMAS[tp])
    if is_answer(tp):
        return _component(tp, found)
    values = choices(tp)
    if values is not None:
        return {"type": "string", "enum": [str(value) for value in values]}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list:
        return {"type": "array", "items": _schema(args[0], found)}
    if origin is dict:
        values_schema = _schema(args[1], found)
        return {"type": "object", "additionalProperties": values_schema or True}
    raise TypeError(f"no answer for {tp!r}: see entrypoints.http.answers")


def example(cls: Any) -> dict[str, Any]:
    """An example of ``cls``: each field's own example, or one its type suggests."""
    types_of = hints(cls)
    found: dict[str, Any] = {}
    for f in attrs.fields(cls):
        spec = _spec(cls, f)
        if spec.example is not NO_EXAMPLE:
            found[f.name] = _example_value(spec.example)
        elif not spec.omit_none:
            found[f.name] = _example_of(types_of[f.name], spec)
    return found


def _example_of(tp: Any, spec: Out) -> Any:
    if tp is Any:
        return {}
    if _is_optional(tp):
        return _example_of(_optional_inner(tp), spec)
    if tp in _EXAMPLES:
        return _EXAMPLES[tp]
    if is_answer(tp):
        return example(tp)
    values = choices(tp)
    if values is not None:
        return str(values[0])
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list:
        return [_example_of(args[0], spec)]
    if origin is dict:
        return {}
    raise TypeError(f"no answer for {tp!r}")


def _example_value(given: Any) -> Any:
    return given() if callable(given) else given
