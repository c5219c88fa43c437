"""The JSON schema of a declared body (see ``shapes``), as ``/openapi.json`` publishes it."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any
from uuid import UUID

import attrs

from cinema_core import Money

from .shapes import (
    APPLIES,
    CHECKED,
    NO_EXAMPLE,
    NO_RULES,
    POSITIVE_MONEY,
    SCALARS,
    Rules,
    choices,
    hints,
    minimum,
    rules_of,
)


def name_of(body: Any) -> str:
    """The component name of a body: its class name, or its alternatives' joined by Or."""
    if attrs.has(body):
        return str(body.__name__)
    return "Or".join(name_of(arg) for arg in typing.get_args(body))


def reference(body: Any) -> dict[str, Any]:
    """The schema of ``body`` as a request body refers to it."""
    return {"$ref": f"#/components/schemas/{name_of(body)}"}


def schema_of(tp: Any, rules: Rules) -> dict[str, Any]:
    """The inline schema of one value of ``tp`` under ``rules`` (a query parameter's)."""
    found: dict[str, dict[str, Any]] = {}
    schema = _schema(tp, rules, found)
    if found:
        raise TypeError(f"{tp!r} needs components: declare it as a body instead")
    return schema


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
        types_of = hints(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for f in attrs.fields(cls):
            rules = rules_of(f)
            schema = _schema(types_of[f.name], rules, found)
            if f.default is attrs.NOTHING:
                required.append(f.name)
            elif not isinstance(f.default, attrs.Factory):  # type: ignore[arg-type]
                schema = _annotated(schema, {"default": _json(f.default)})
            properties[f.name] = schema
        schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        if getattr(cls, "CLOSED", False):
            schema["additionalProperties"] = False
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
        alternatives = [_schema(arg, inner, found) for arg in args if arg is not type(None)]
        schema: dict[str, Any] = (
            alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
        )
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
    values = choices(tp)
    if values is not None:
        _applicable(tp, rules, set())
        return {**_enum(values), **extra}
    if origin is list:
        _applicable(tp, rules, APPLIES[list])
        items = _schema(args[0], rules.each or NO_RULES, found)
        schema = {"type": "array", "items": items}
        _put(schema, "minItems", rules.min_items)
        _put(schema, "maxItems", rules.max_items)
        if rules.unique:
            schema["uniqueItems"] = True
        return {**schema, **extra}
    if origin is dict:
        _applicable(tp, rules, APPLIES[dict])
        each = _schema(args[1], rules.each or NO_RULES, found)
        schema = {"type": "object"}
        keys = choices(args[0])
        if keys is None:
            schema["additionalProperties"] = each
        else:
            schema["properties"] = {str(key): each for key in keys}
            schema["additionalProperties"] = False
        _put(schema, "minProperties", rules.min_items)
        _put(schema, "maxProperties", rules.max_items)
        return {**schema, **extra}
    raise TypeError(f"no shape for {tp!r}: declare it in SCALARS or as an attrs class")


def _scalar_schema(tp: Any, rules: Rules) -> dict[str, Any]:
    _applicable(tp, rules, APPLIES.get(tp, set()))
    schema = dict(SCALARS[tp].schema)
    if tp is str:
        _put(schema, "minLength", rules.min_length)
        _put(schema, "maxLength", rules.max_length)
        if rules.pattern is not None:
            schema["pattern"] = rules.pattern
    elif tp is int:
        _put(schema, "minimum", minimum(rules))
        _put(schema, "maximum", rules.maximum)
    elif tp is Money and rules.positive:
        schema["pattern"] = POSITIVE_MONEY
    return schema


def _enum(values: list[Any]) -> dict[str, Any]:
    kinds = {type(value) for value in values}
    schema: dict[str, Any] = {"enum": values}
    if len(kinds) == 1:
        kind = {str: "string", int: "integer", bool: "boolean"}.get(kinds.pop())
        if kind is not None:
            schema["type"] = kind
    return schema


def _applicable(tp: Any, rules: Rules, allowed: set[str]) -> None:
    given = {name for name in CHECKED if getattr(rules, name) not in (None, False)}
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
