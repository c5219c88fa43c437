"""Reading a parsed JSON body into its declared attrs class (see ``shapes``), or refusing it
with ``ValidationFailed`` naming every bad top-level field."""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any

import attrs

from cinema_core import Money, ValidationFailed

from .shapes import (
    NO_RULES,
    SCALARS,
    Rules,
    Unfit,
    choices,
    hints,
    minimum,
    rules_of,
)


def structure(payload: dict[str, Any], body: Any) -> Any:
    """``payload`` (a parsed JSON object) as ``body``, or ``ValidationFailed`` naming every bad
    top-level field."""
    try:
        return _read(body, NO_RULES, payload)
    except Unfit as bad:
        raise ValidationFailed(bad.fields or {"body": str(bad)}) from None


def read(tp: Any, rules: Rules, value: Any) -> Any:
    """One value as ``tp`` under ``rules`` (a query parameter's), or ``Unfit`` saying why."""
    return _read(tp, rules, value)


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
    values = choices(tp)
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
            raise Unfit(f"must be at least {rules.min_length} characters")
        if rules.max_length is not None and len(value) > rules.max_length:
            raise Unfit(f"must be at most {rules.max_length} characters")
        if rules.pattern is not None and not re.search(rules.pattern, value):
            raise Unfit(f"must match {rules.pattern}")
    elif tp is int:
        low = minimum(rules)
        if low is not None and value < low:
            raise Unfit(f"must be at least {low}")
        if rules.maximum is not None and value > rules.maximum:
            raise Unfit(f"must be at most {rules.maximum}")
    elif tp is Money and rules.positive and value.cents <= 0:
        raise Unfit("must be greater than zero")


def _read_object(cls: type, value: Any) -> Any:
    if type(value) is not dict:
        raise Unfit("must be a JSON object")
    types_of = hints(cls)
    bad: dict[str, str] = {}
    given: dict[str, Any] = {}
    for f in attrs.fields(cls):
        if f.name not in value:
            if f.default is attrs.NOTHING:
                bad[f.name] = "is required"
            continue
        try:
            given[f.alias] = _read(types_of[f.name], rules_of(f), value[f.name])
        except Unfit as error:
            bad[f.name] = str(error)
    if getattr(cls, "CLOSED", False):
        # A body that refuses what it does not know (a field of a later issue sent early must
        # not be silently dropped).
        known = {f.name for f in attrs.fields(cls)}
        bad.update(dict.fromkeys(sorted(set(value) - known), "is not a field of this request"))
    if bad:
        raise Unfit(fields=bad)
    return cls(**given)


def _read_union(args: tuple[Any, ...], rules: Rules, value: Any) -> Any:
    if value is None and type(None) in args:
        return None
    alternatives = [arg for arg in args if arg is not type(None)]
    failures: list[Unfit] = []
    for choice in alternatives:
        try:
            return _read(choice, rules, value)
        except Unfit as error:
            failures.append(error)
    if len(failures) == 1:
        raise failures[0]
    # Of several shapes, say what is wrong with the one the payload came closest to.
    objects = [f for f in failures if f.fields]
    if objects:
        raise min(objects, key=lambda f: len(f.fields))
    raise Unfit(" or ".join(dict.fromkeys(str(f) for f in failures)))


def _read_choice(values: list[Any], value: Any) -> Any:
    for allowed in values:
        if type(value) is type(allowed) and value == allowed:
            return value
    raise Unfit(f"must be one of {', '.join(map(str, values))}")


def _read_list(item: Any, rules: Rules, value: Any) -> list[Any]:
    if type(value) is not list:
        raise Unfit("must be an array")
    _check_count(rules, len(value), "items")
    read = []
    for index, raw in enumerate(value):
        try:
            read.append(_read(item, rules.each or NO_RULES, raw))
        except Unfit as error:
            raise Unfit(f"item {index}: {error}") from None
    # Compared as JSON, as uniqueItems does; only once every item has its declared shape, so
    # no item is nested deeper than the declaration.
    if rules.unique and len({_canonical(x) for x in value}) != len(value):
        raise Unfit("must not repeat an item")
    return read


def _read_map(key: Any, item: Any, rules: Rules, value: Any) -> dict[Any, Any]:
    if type(value) is not dict:
        raise Unfit("must be a JSON object")
    _check_count(rules, len(value), "entries")
    read = {}
    for name, raw in value.items():
        try:
            # Keys of a dict[str, T] are any text the schema admits (OpenAPI 3.0 cannot say
            # more of them), held to the rules of every string: no control characters.
            chosen = _read(key, NO_RULES, name)
            read[chosen] = _read(item, rules.each or NO_RULES, raw)
        except Unfit as error:
            raise Unfit(f"{name}: {error}") from None
    return read


def _check_count(rules: Rules, count: int, what: str) -> None:
    if rules.min_items is not None and count < rules.min_items:
        raise Unfit(f"must have at least {rules.min_items} {what}")
    if rules.max_items is not None and count > rules.max_items:
        raise Unfit(f"must have at most {rules.max_items} {what}")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
