"""The banner's `cinema token` line works as printed whatever the made-up secret looks like."""

from __future__ import annotations

import shlex

import pytest

from entrypoints.cli import _print_tokens, main
from entrypoints.http.framework.auth import Authenticator


@pytest.mark.parametrize(
    "secret",
    ["-XI3Sq4viXcdmlk8biixLLZxjiy77MljFcGrABnz0CY", "a_plain_secret_made_up_by_token_urlsafe_xyz"],
)
def test_the_printed_token_line_signs_with_the_secret_even_one_starting_with_a_dash(
    secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A secret from token_urlsafe starts with "-" one time in 64: the line still passes it as
    the secret, not as an option."""
    _print_tokens(secret, "127.0.0.1", 8000)
    (line,) = [
        line.strip()
        for line in capsys.readouterr().out.splitlines()
        if line.strip().startswith("cinema token ")
    ]
    assert main(shlex.split(line)[1:]) == 0
    token = capsys.readouterr().out.strip()
    assert Authenticator(secret).identify(f"Bearer {token}").user_id == "bob"
