"""Idempotency is the routing's: an operation declared idempotent is run once per key, keyed by
its declared method and path, whatever its handler does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.testclient import TestClient

from cinema_core import ManualClock
from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from entrypoints.http.framework.auth import Authenticator
from entrypoints.http.framework.operations import Call, Gate, Operation, Reply, routes
from entrypoints.http.framework.responses import json_response
from entrypoints.http.framework.threads import RequestThreads
from tests.contract.http_app import SECRET, Api


def _counting_app(services: Services, made: list[str]) -> Starlette:
    """One idempotent route whose handler only counts its runs: it never asks for a replay."""

    def count(call: Call) -> Response:
        made.append(call.request.path_params["thing_id"])
        return json_response({"runs": len(made)}, 201)

    operation = Operation(
        "POST",
        "/things/{thing_id}/counts",
        count,
        "Count",
        {201: Reply("The count.")},
        tag="things",
        access="user",
        idempotent=lambda call: call.request.path_params["thing_id"],
    )
    gate = Gate(services, Authenticator(SECRET))
    return Starlette(routes=routes([operation], gate, RequestThreads(2)))


@pytest.fixture
def counted(clock: ManualClock) -> Iterator[tuple[TestClient, Services, list[str]]]:
    services = bootstrap(
        Settings(auth_secret=SECRET, rate_per_user=0.0, rate_per_client=0.0), clock
    )
    made: list[str] = []
    with TestClient(_counting_app(services, made)) as client:
        yield client, services, made
    services.close()


def test_an_idempotent_operation_runs_its_handler_once_per_key(
    counted: tuple[TestClient, Services, list[str]], api: Api
) -> None:
    """A retry with the key replays the first answer; the handler ran once."""
    client, _, made = counted
    headers = {**api.auth(), "Idempotency-Key": "k-1"}
    first = client.post("/things/a/counts", headers=headers)
    again = client.post("/things/a/counts", headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert made == ["a"]


def test_what_identifies_the_request_comes_from_the_operation(
    counted: tuple[TestClient, Services, list[str]], api: Api
) -> None:
    """The same key on another request (another fingerprint) is 422 idempotency_key_reused."""
    client, _, made = counted
    headers = {**api.auth(), "Idempotency-Key": "k-2"}
    assert client.post("/things/a/counts", headers=headers).status_code == 201
    reused = client.post("/things/b/counts", headers=headers)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert made == ["a"]


def test_answers_are_kept_under_the_declared_method_and_path(
    counted: tuple[TestClient, Services, list[str]], api: Api
) -> None:
    """The scope of a key is the user and the operation as OpenAPI shows it."""
    client, services, _ = counted
    client.post("/things/a/counts", headers={**api.auth(), "Idempotency-Key": "k-3"})
    stored = services.idempotency.begin("alice\x1fPOST /things/{thing_id}/counts", "k-3", "a")
    assert stored is not None
    assert stored.status == 201
