"""Every request body's OpenAPI schema agrees with what the server accepts, value by value.

Both come from one declaration (``entrypoints/http/shapes.py``); this walks every operation's
body, makes boundary values for each field from its type and rules (lengths either side of a
limit, the wrong JSON types, the digits and dates the contract refuses, a missing field, null),
and checks that the schema (OpenAPI 3.0, formats checked) accepts exactly the bodies the
validator accepts. And every body's example, as Swagger UI builds it, works when executed.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

import attrs
import pytest
from openapi_schema_validator import OAS30Validator

from cinema_core import Money, ValidationFailed
from entrypoints.http.framework import body_schemas, shapes, structuring
from entrypoints.http.framework.bodies import parse_object
from entrypoints.http.framework.operations import Operation
from tests.contract.http_app import Api

BAD_TYPES: list[Any] = [None, True, 0, 1.5, "x", [], {}, [None]]


def _operations(api: Api) -> list[Operation]:
    return [op for op in api.client.app.state.operations if op.body is not None]  # type: ignore[attr-defined]


def _example(tp: Any, rules: shapes.Rules) -> Any:
    """A value of ``tp`` the declaration accepts: its example, else one built from its shape."""
    if rules.example is not shapes.NO_EXAMPLE:
        return rules.example() if callable(rules.example) else rules.example
    if attrs.has(tp) and tp not in shapes.SCALARS:
        return {f.name: _example(_hint(tp, f.name), _rules(f)) for f in attrs.fields(tp)}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        return _example(next(a for a in args if a is not type(None)), rules)
    raise AssertionError(f"{tp!r} needs an example")


def _hint(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _rules(f: Any) -> shapes.Rules:
    return shapes.rules_of(f)


def _values(tp: Any, rules: shapes.Rules, example: Any) -> Iterator[Any]:
    """Boundary values for one field of type ``tp`` with these rules."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    yield example
    yield from BAD_TYPES
    if origin in (types.UnionType, typing.Union):
        for arg in args:
            if attrs.has(arg) and arg not in shapes.SCALARS:
                yield from _values(arg, shapes.NO_RULES, _example(arg, shapes.NO_RULES))
            elif arg is not type(None):
                yield from _values(arg, rules, example)
        return
    if tp is str:
        low, high = rules.min_length or 0, rules.max_length or 300
        for length in {0, 1, max(low - 1, 0), low, high, high + 1}:
            yield "a" * length
            yield (example * (length // max(len(example), 1) + 1))[:length]
        yield from ["   ", " a ", "\u00a0", "🎬", "é" * high, example + "\x00", "\t" + example]
        yield from [example + "\n", example + "\x7f", example.upper(), example.lower()]
    elif tp is int:
        low = 1 if rules.positive else rules.minimum
        for edge in (low, rules.maximum):
            if edge is not None:
                yield from (edge - 1, edge, edge + 1)
        yield from (-1, 0, 1, 10**20, Decimal("1.0"), "1", False)
    elif tp is bool:
        yield from (True, False, 0, 1, "true")
    elif tp is Money:
        yield from ["25.00", "25", "25.5", "0", "0.00", "0.01", "00.10", "-1", "-0.00", "+5"]
        yield from ["1_000", "\u0662\u0665", "\uff12\uff15", "25.000", "25.0000", "1e3", " 25"]
        yield from ["25.", ".5", "9999999999999.99", "10000000000000", "0000000000000001", 25]
        yield from [Decimal("25.5"), "NaN", "Infinity"]
    elif tp is shapes.UUID:
        # An example may be null (a field the example leaves out): any UUID will do then.
        example = example or "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        yield from [example.upper(), example.replace("-", ""), "{" + example + "}"]
        yield from ["urn:uuid:" + example, example[:-1], example + "0", ""]
    elif tp is shapes.datetime:
        yield from ["2026-12-01T19:00:00Z", "2026-12-01T19:00:00", "2026-12-01T19:00:00-03:00"]
        yield from ["2026-12-01 19:00:00Z", "2026-12-01T19:00Z", "2026-12-01t19:00:00z"]
        yield from ["2026-12-01T19:00:00.123456Z", "2026-12-01T19:00:00.1234567Z"]
        yield from ["2026-13-01T19:00:00Z", "2026-02-30T19:00:00Z", "2026-12-01", "+2026-12-01"]
        yield from ["2026-12-01T24:00:00Z", "2026-12-01T19:00:00+24:00", 1_700_000_000]
    elif origin is list:
        item = args[0]
        one = example[0] if example else _example(item, rules.each or shapes.NO_RULES)
        low, high = rules.min_items or 0, rules.max_items or 12
        for count in {0, 1, max(low - 1, 0), low, high, high + 1}:
            yield [one] * count
            yield [f"{one}"[:1] + str(n + 1) if isinstance(one, str) else one for n in range(count)]
        yield [one, one]
        for bad in _values(item, rules.each or shapes.NO_RULES, one):
            yield [bad]
            yield [one, bad]
    elif origin is dict:
        value = args[1]
        sample = next(iter(example.items())) if example else ("k", None)
        yield {}
        for bad in _values(value, rules.each or shapes.NO_RULES, sample[1]):
            yield {sample[0]: bad}
        yield {"not-a-key": sample[1]}
    elif origin is Literal or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        choices = list(args) if origin is Literal else [m.value for m in tp]
        yield from [*choices, "nope", str(choices[0]).upper()]
    elif attrs.has(tp):
        yield from _bodies(tp, example)


def _bodies(cls: type, base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The example body, and copies of it with one field changed or missing."""
    yield dict(base)
    for f in attrs.fields(cls):
        rules = _rules(f)
        without = {k: v for k, v in base.items() if k != f.name}
        yield without
        tp = _hint(cls, f.name)
        current = base[f.name] if f.name in base else _example(tp, rules)
        for value in _values(tp, rules, current):
            yield {**without, f.name: value}


def _wire(candidate: Any) -> bytes:
    return json.dumps(candidate, default=str, ensure_ascii=True).encode()


def _server_accepts(body: Any, raw: bytes) -> bool:
    try:
        structuring.structure(parse_object(raw), body)
    except ValidationFailed:
        return False
    return True


def _checked_against_schema(body: Any, schemas: dict[str, Any]) -> int:
    """Compare schema and validator on every boundary body of ``body``; returns how many."""
    root = {"$ref": body_schemas.reference(body)["$ref"], "components": {"schemas": schemas}}
    validator = OAS30Validator(root, format_checker=OAS30Validator.FORMAT_CHECKER)
    checked = 0
    for cls in typing.get_args(body) or (body,):
        for candidate in _bodies(cls, _example(cls, shapes.NO_RULES)):
            raw = _wire(candidate)
            by_schema = validator.is_valid(json.loads(raw))
            assert by_schema == _server_accepts(body, raw), (
                f"{body_schemas.name_of(body)}: the schema says {'yes' if by_schema else 'no'}, "
                f"the server the opposite, to {raw.decode()[:300]}"
            )
            checked += 1
    return checked


def test_every_schema_agrees_with_the_validator_on_boundary_values(api: Api) -> None:
    """For each operation's body and each boundary value: the published schema is valid
    exactly when the server's validator accepts."""
    doc = api.get("/openapi.json").json()
    ops = _operations(api)
    assert {op.path for op in ops} >= {"/sessions", "/reservations"}
    checked = sum(_checked_against_schema(op.body, doc["components"]["schemas"]) for op in ops)
    assert checked > 200


def test_every_field_of_every_body_has_an_example(api: Api) -> None:
    """Swagger UI fills a body from its fields' examples: each field must carry one."""
    doc = api.get("/openapi.json").json()
    for op in _operations(api):
        for name in body_schemas.components(op.body):
            for field, schema in doc["components"]["schemas"][name]["properties"].items():
                assert "example" in schema, f"{name}.{field} has no example"


def _swagger_example(schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """The body Swagger UI's "Try it out" starts from: every property's example."""
    if "$ref" in schema:
        return _swagger_example(doc["components"]["schemas"][schema["$ref"].split("/")[-1]], doc)
    if "example" in schema:
        return schema["example"]
    if "allOf" in schema or "anyOf" in schema:
        return _swagger_example((schema.get("allOf") or schema["anyOf"])[0], doc)
    return {name: _swagger_example(sub, doc) for name, sub in schema["properties"].items()}


def test_swagger_examples_work_when_executed(api: Api) -> None:
    """POST /sessions with its documented example is 201 (its date is ahead of now, whenever
    the document is read); POST /reservations with its example, on a real session, is 201."""
    doc = api.get("/openapi.json").json()
    session = None
    # The bodies whose examples stand on their own; the others name a sale or a ticket's code
    # that only a purchase makes.
    standalone = {"/rooms", "/sessions", "/reservations"}
    runnable = [op for op in _operations(api) if op.path in standalone and op.method == "POST"]
    for op in sorted(runnable, key=lambda op: op.path != "/sessions"):
        schema = doc["paths"][op.path][op.method.lower()]["requestBody"]["content"]
        body = _swagger_example(schema["application/json"]["schema"], doc)
        if "session_id" in body and session is not None:
            body["session_id"] = session
        headers = api.admin if op.access == "admin" else api.auth()
        answer = api.request(op.method, op.path, json=body, headers=headers)
        assert answer.status_code in (200, 201), (op.path, body, answer.text)
        if op.path == "/sessions":
            session = answer.json()["id"]
    assert session is not None


# -- the mechanism on every kind of declaration the bodies to come will use ----------------


class Category(enum.Enum):
    STANDARD = "standard"
    PREMIUM = "premium"


@attrs.frozen
class TicketType:
    """A nested class."""

    code: str = shapes.field(pattern=r"^[a-z_]{1,20}$", example="half")
    percent: int = shapes.field(minimum=1, maximum=100, example=50)
    quota_percent: int | None = shapes.field(default=None, minimum=1, maximum=100, example=40)


@attrs.frozen
class BySeats:
    """One alternative: seats by label."""

    seats: list[str] = shapes.field(min_items=1, max_items=3, unique=True, example=["A1"])
    tickets: dict[str, int] = shapes.field(
        factory=dict, each=shapes.Rules(minimum=0, maximum=10), example={"half": 1}
    )


@attrs.frozen
class BestAvailable:
    """The other: a count of seats, the box office picks."""

    count: int = shapes.field(minimum=1, maximum=10, example=2)
    category: Category | None = shapes.field(default=None, example="standard")
    together: bool = shapes.field(default=True, example=True)


@attrs.frozen
class Everything:
    """Every kind of field at once."""

    name: str = shapes.field(min_length=1, max_length=5, pattern=shapes.NOT_BLANK, example="Sala")
    prices: dict[Category, Money] = shapes.field(
        each=shapes.Rules(positive=True), example={"standard": "25.00"}
    )
    types: list[TicketType] = shapes.field(
        min_items=1, max_items=2, example=[{"code": "full", "percent": 100}]
    )
    pick: BySeats | BestAvailable = shapes.field(example={"count": 2})
    fees: dict[str, Money] = shapes.field(factory=dict, max_items=2, example={"card": "1.50"})
    kind: Literal["public", "private"] = shapes.field(default="public", example="private")
    note: str | None = shapes.field(default=None, max_length=3, example="hi")


@pytest.mark.parametrize("body", [Everything, TicketType, BySeats | BestAvailable])
def test_the_mechanism_agrees_with_itself_on_every_kind_of_field(body: Any) -> None:
    """Nested classes, lists of them, maps keyed by any text or by an enum, optional fields
    with defaults, literals, enums and alternatives: schema and validator agree."""
    assert _checked_against_schema(body, body_schemas.components(body)) > 50


def test_a_structured_body_has_its_declared_types_and_defaults() -> None:
    """Defaults fill what is missing; enums, money and nested classes come out typed."""
    body = structuring.structure(
        {
            "name": "Sala",
            "prices": {"premium": "40"},
            "types": [{"code": "half", "percent": 50}],
            "pick": {"count": 2, "category": "premium"},
        },
        Everything,
    )
    assert body.prices == {Category.PREMIUM: Money(4000)}
    assert body.types == [TicketType("half", 50)]
    assert body.pick == BestAvailable(2, Category.PREMIUM, True)
    assert (body.kind, body.note, body.fees) == ("public", None, {})


def test_errors_name_each_bad_top_level_field_and_say_where_inside() -> None:
    """Each bad field is named once, its message pointing inside it."""
    with pytest.raises(ValidationFailed) as refused:
        structuring.structure(
            {
                "name": "",
                "prices": {"vip": "1.00"},
                "types": [{"code": "full", "percent": 100}, {"code": "X", "percent": 0}],
                "pick": {"seats": ["A1", "A1"]},
                "kind": "secret",
            },
            Everything,
        )
    fields = refused.value.fields
    assert set(fields) == {"name", "prices", "types", "pick", "kind"}
    assert fields["types"].startswith("item 1: ")
    assert "code" in fields["types"]
    assert "percent" in fields["types"]
    assert fields["prices"].startswith("vip: ")
    assert fields["pick"] == "seats: must not repeat an item"


def test_the_schemas_of_every_kind_of_field_are_valid_openapi() -> None:
    """A document holding them (nullable, anyOf, enums, maps, nested refs) is valid OpenAPI."""
    from openapi_spec_validator import validate

    schemas = body_schemas.components(Everything)
    validate(
        {
            "openapi": "3.0.3",
            "info": {"title": "shapes", "version": "1"},
            "paths": {
                "/everything": {
                    "post": {
                        "requestBody": {
                            "content": {
                                "application/json": {"schema": body_schemas.reference(Everything)}
                            }
                        },
                        "responses": {"204": {"description": "taken"}},
                    }
                }
            },
            "components": {"schemas": schemas},
        }
    )
    assert set(schemas) == {"Everything", "TicketType", "BySeats", "BestAvailable"}
