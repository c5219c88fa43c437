"""What the HTTP contract suite exercised: every (method, route template, status) the
conformance checker of ``http_app`` saw answered, over the whole test session.

``test_http_coverage`` compares it with every operation ``/openapi.json`` declares; it judges
only a run of the whole HTTP contract suite, which ``conftest`` tells it (``WHOLE_SUITE``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

# (METHOD, route template as OpenAPI writes it, status), added to by Api.check.
SEEN: set[tuple[str, str, int]] = set()
# True when every test of every tests/contract/test_http_*.py file is in the run.
WHOLE_SUITE = pytest.StashKey[bool]()
HTTP_TESTS = frozenset(Path(__file__).parent.glob("test_http_*.py"))
