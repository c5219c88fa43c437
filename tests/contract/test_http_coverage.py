"""Every operation the API declares is exercised through the conformance checker.

The check runs last (``conftest`` orders it) and judges only a run of the whole HTTP contract
suite (every tests/contract/test_http_*.py, nothing deselected); on a partial run it skips.
"""

from __future__ import annotations

import pytest

from tests.contract.exercised import SEEN, WHOLE_SUITE
from tests.contract.http_app import openapi_document


def test_every_declared_operation_is_exercised_by_the_http_contract_suite(
    request: pytest.FixtureRequest,
) -> None:
    """Each method and path in /openapi.json got an answer the checker saw during the suite."""
    if not request.config.stash.get(WHOLE_SUITE, False):
        pytest.skip("judged only when the whole HTTP contract suite runs")
    doc = openapi_document()
    declared = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    exercised = {(method, path) for method, path, _ in SEEN}
    missing = sorted(declared - exercised)
    assert not missing, "declared but never exercised: " + ", ".join(
        f"{method} {path}" for method, path in missing
    )
