"""What a user of the project finds in it, and the tooling that runs it, checked as files."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest

from tests import services

ROOT = Path(__file__).resolve().parents[2]


class _Session:
    """What the noxfile's sessions use of ``nox.Session``, recording what they run."""

    def __init__(self, posargs: list[str]):
        self.posargs = posargs
        self.runs: list[tuple[str, ...]] = []

    def install(self, *args: str) -> None:
        pass

    def run(self, *args: str) -> None:
        self.runs.append(args)


def _noxfile(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The noxfile, loaded with a stand-in for nox (the test run need not have nox)."""
    fake = types.ModuleType("nox")
    fake.options = types.SimpleNamespace()  # type: ignore[attr-defined]
    fake.session = lambda function=None, **_: function or (lambda f: f)  # type: ignore[attr-defined]
    fake.Session = _Session  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nox", fake)
    spec = importlib.util.spec_from_file_location("noxfile_under_test", ROOT / "noxfile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("posargs", "floor"),
    [
        ([], True),
        (["-x", "-q"], True),
        (["--timeout=60"], True),
        (["tests/unit", "-q"], False),
        (["tests/unit/test_money.py::test_currency_defaults_to_brl"], False),
        (["-k", "money"], False),
        (["-kmoney"], False),
        (["-m", "not slow"], False),
        (["--lf"], False),
    ],
)
def test_the_coverage_floor_applies_to_the_whole_suite_only(
    monkeypatch: pytest.MonkeyPatch, posargs: list[str], floor: bool
) -> None:
    """`nox -s tests` fails under 90 % coverage; `nox -s tests -- tests/unit -q` (the
    README's example) or any other part of the suite is never failed on total coverage."""
    session = _Session(posargs)
    _noxfile(monkeypatch).tests(session)
    (command,) = session.runs
    assert ("--cov-fail-under=90" in command) is floor
    assert command[len(command) - len(posargs) :] == tuple(posargs), "posargs go last"


def test_no_coverage_floor_hides_in_the_coverage_configuration() -> None:
    """pytest-cov applies coverage's own fail_under to every run: it must not be set there."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "fail_under" not in config["tool"]["coverage"]["report"]


def test_the_license_is_the_mit_license_pyproject_names() -> None:
    """LICENSE exists and is the MIT license, as pyproject.toml declares."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


def test_env_example_lists_every_setting_with_its_default() -> None:
    """.env.example names every variable the box office reads, set to its default or an
    example, and parses as the settings."""
    from entrypoints.config import VARIABLES, Settings

    values: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    assert set(values) == set(VARIABLES)
    for name, variable in VARIABLES.items():
        if variable.unset[:1].isdigit():
            assert values[name] == variable.unset, name
    Settings.from_env(values)


def _compose() -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_brings_up_the_whole_box_office() -> None:
    """compose.yaml: PostgreSQL, Redis, RabbitMQ, the migrations (once, before anything that
    needs the schema), two API processes without the worker, a worker, and nginx in front
    with deploy/nginx and an upstream of the two API processes."""
    services = _compose()["services"]
    assert set(services) >= {"postgres", "redis", "rabbitmq", "migrate", "api1", "api2"}
    assert {"worker", "nginx"} <= set(services)
    assert services["migrate"]["command"] == ["cinema", "migrate"]
    for name in ("api1", "api2", "worker"):
        after = services[name]["depends_on"]
        assert after["migrate"]["condition"] == "service_completed_successfully", name
        environment = services[name]["environment"]
        assert environment["CINEMA_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert environment["CINEMA_REDIS_URL"].startswith("redis://redis:")
        assert environment["CINEMA_AMQP_URL"].startswith("amqp://")
    for name in ("api1", "api2"):
        command = services[name]["command"]
        assert command[:2] == ["cinema", "serve"]
        assert "--no-worker" in command
    assert services["worker"]["command"] == ["cinema", "worker"]
    nginx = services["nginx"]
    assert "./deploy/nginx:/etc/cinema-nginx:ro" in nginx["volumes"]
    upstream = (ROOT / "deploy" / "compose" / "upstream.conf").read_text()
    assert "api1:8000" in upstream
    assert "api2:8000" in upstream
    assert (ROOT / "Dockerfile").exists()


# The backends compose runs itself: its services reach them by the compose network's names, not
# by the 127.0.0.1 addresses .env.example shows for a box office run by hand.
_COMPOSE_BACKENDS = {"CINEMA_DATABASE_URL", "CINEMA_REDIS_URL", "CINEMA_AMQP_URL"}


def test_compose_passes_every_setting_of_env_example_through() -> None:
    """Every variable .env.example sets reaches the migrations, both API processes and the
    worker, read from .env (``${NAME...}``), but the backends compose itself runs."""
    names = [
        line.partition("=")[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    services = _compose()["services"]
    for service in ("migrate", "api1", "api2", "worker"):
        environment = services[service]["environment"]
        for name in names:
            assert name in environment, f"{service} is not given {name}"
            if name not in _COMPOSE_BACKENDS:
                assert str(environment[name]).startswith("${" + name), (service, name)


def _compose_command() -> list[str]:
    """The compose client's command: Docker's plugin, or the standalone docker-compose that
    Debian packages (.ci/run installs it); both check a file without an engine."""
    if shutil.which("docker") is not None:
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose") is not None:
        return ["docker-compose"]
    services.missing("no docker compose client (apt-get install docker-compose)")
    return []


def test_docker_compose_accepts_the_file() -> None:
    """`docker compose config` (the client only, no engine) accepts compose.yaml."""
    checked = subprocess.run(
        [*_compose_command(), "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={"CINEMA_AUTH_SECRET": "x" * 32, "PATH": os.environ["PATH"]},
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_nothing_points_outside_the_repository() -> None:
    """The project documents itself: no file refers to a shared directory beside it."""
    outside = "../" + "shared"
    skipped = {".git", ".venv", ".nox", "build", "dist", "__pycache__"}
    offenders = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if not path.is_file() or skipped & set(parts) or parts[0].endswith(".egg-info"):
            continue
        if outside in path.read_text(errors="ignore"):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _subclasses(base: type) -> list[type]:
    found = []
    for cls in base.__subclasses__():
        found += [cls, *_subclasses(cls)]
    return found


def test_the_api_reference_covers_everything_the_service_has() -> None:
    """docs/API.md names every route, error code, setting, command, option and event type of
    the code as it is, so the reference cannot fall behind it unnoticed."""
    from cinema_core import CinemaError
    from cinema_core.events.envelopes import EVENT_TYPES
    from entrypoints import cli
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import VARIABLES, Settings
    from entrypoints.http.app import create_app
    from entrypoints.http.framework.openapi import documented_path

    reference = (ROOT / "docs" / "API.md").read_text()
    app = create_app(bootstrap(Settings(auth_secret="x" * 32)), run_worker=False)
    for op in app.state.operations:
        route = f"`{op.method} {documented_path(op.path)}`"
        assert route in reference, f"docs/API.md does not describe {route}"
    codes = {cls.code for cls in _subclasses(CinemaError) if not cls.__name__.startswith("_")}
    codes |= {"internal_error", "bad_request"}
    for code in codes:
        assert f"`{code}`" in reference, f"docs/API.md does not name the error {code}"
    for name in VARIABLES:
        assert f"`{name}`" in reference, f"docs/API.md does not describe {name}"
    for event_type in EVENT_TYPES:
        assert f"`{event_type}`" in reference, f"docs/API.md does not describe {event_type}"
    parser = cli._parser()
    assert "cinema --version" in reference
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, command in commands.items():
        assert f"`cinema {name}" in reference, f"docs/API.md does not describe cinema {name}"
        for action in command._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert flag in reference, f"docs/API.md does not name cinema {name} {flag}"
    readme = (ROOT / "README.md").read_text()
    assert "(docs/API.md)" in readme
