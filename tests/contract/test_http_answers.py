"""Every answer's schema and example come from its declaration, and agree with each other."""

from __future__ import annotations

from tests.contract.http_app import Api, conforms


def _answer_components(api: Api) -> set[str]:
    doc = api.get("/openapi.json").json()
    names = set()
    for operations in doc["paths"].values():
        for spec in operations.values():
            for reply in spec["responses"].values():
                for content in reply.get("content", {}).values():
                    ref = content["schema"].get("$ref", "")
                    names.add(ref.rsplit("/", 1)[-1])
    return names - {""}


def test_every_answer_schema_shows_an_example_that_fits_it(api: Api) -> None:
    """Each response component, the error shape included, has an example that conforms to it."""
    doc = api.get("/openapi.json").json()
    names = _answer_components(api)
    assert len(names) > 15
    assert "Error" in names, "the error shape is an answer like any other"
    for name in sorted(names):
        schema = doc["components"]["schemas"][name]
        assert "example" in schema, f"{name} has no example"
        conforms(schema["example"], schema, doc, name)
