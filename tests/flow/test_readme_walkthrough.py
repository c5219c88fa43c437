"""The README's walkthrough runs as pasted: the block is fed to a shell as it stands (only its
port moved off 8000, which another program may hold), against the installed `cinema`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.flow.test_nginx_slowloris import _free_port

pytestmark = [pytest.mark.slow]

README = Path(__file__).resolve().parents[2] / "README.md"


def _walkthrough() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)
    found = [block for block in blocks if block.startswith("# the walkthrough\n")]
    assert len(found) == 1, "the README has no block starting '# the walkthrough'"
    return found[0]


def test_the_readme_walkthrough_runs_as_pasted(tmp_path: Path) -> None:
    """Pasted into bash in an empty directory: it sells A1 and A2 to alice, cancels A3, shows
    the stream's snapshot, the audit trail and readiness, and stops its server; no command
    fails on the way."""
    script = _walkthrough()
    assert script.count("8000") >= 2
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CINEMA_")},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        ["bash", "-s"],
        input=script.replace("8000", str(port)),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=90,
        check=False,
    )
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, err
    for failure in ("Traceback", "command not found", "No such file", "Error"):
        assert failure not in err, err
    assert '"error"' not in out, out
    assert '"user_id":"alice","seats":["A1","A2"],"amount":"50.00"' in out
    assert '"seats":["A3"],"status":"cancelled"' in out
    assert "event: snapshot" in out
    assert '"reason":"cancelled"' in out
    assert '{"status":"ok"' in out
    deadline = time.monotonic() + 10
    while _listening(port):
        assert time.monotonic() < deadline, "the walkthrough left its server running"
        time.sleep(0.1)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
