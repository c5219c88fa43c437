"""Which Accept-Encoding headers let an answer be gzip-coded (RFC 9110's weights)."""

from __future__ import annotations

import pytest

from entrypoints.http.framework.responses import accepts_gzip


@pytest.mark.parametrize(
    "header",
    [
        "gzip",
        "gzip, deflate, br",
        "br;q=1.0, GZIP;q=0.5",
        "x-gzip",
        "*",
        "identity, *;q=0.1",
        " deflate , gzip ; q=0.001",
    ],
)
def test_these_allow_gzip(header: str) -> None:
    assert accepts_gzip(header)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "identity",
        "br, deflate",
        "gzip;q=0",
        "gzip;q=0.000, *",
        "*;q=0",
        "gzip;q=high",
        "gzipped",
    ],
)
def test_these_do_not(header: str | None) -> None:
    assert not accepts_gzip(header)
