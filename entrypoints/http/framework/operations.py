"""Operations: each route declared once, with what it needs (access, body, query, answers).

The same declaration builds the Starlette route, runs the gate (rate limits and the token),
and describes the route in the OpenAPI document, so the three cannot drift apart.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal
from uuid import UUID

import attrs
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cinema_core import CinemaError, Forbidden, RateLimited, ValidationFailed
from cinema_core.errors import NotFound
from cinema_core.memory import (
    InMemoryIdempotencyStore,
    InMemoryRateLimiter,
    InMemoryReservationRepo,
    InMemorySeatLock,
)
from cinema_core.ports import Bucket
from entrypoints.bootstrap import Services

from .answers import Answer
from .auth import Authenticator, Identity
from .bodies import parse_object, read_body
from .body_schemas import schema_of
from .errors import error_response
from .idempotency import answer_once
from .middleware import request_info
from .shapes import NO_RULES, Rules, Unfit
from .structuring import read, structure
from .threads import RequestThreads

# "staff": staff or an admin.
Access = Literal["public", "user", "staff", "admin"]
_DIGITS = re.compile(r"[0-9]{1,9}")
_PATH_PARAM = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")


def documented_path(path: str) -> str:
    """A route's path as OpenAPI writes it: ``{user_id:path}`` is ``{user_id}``."""
    return _PATH_PARAM.sub(r"{\1}", path)


def path_params(path: str) -> list[str]:
    """The names of a route's path parameters, in order."""
    return _PATH_PARAM.findall(path)


@attrs.frozen
class Param:
    """A query parameter, as OpenAPI describes it; one made with ``Param.of`` is also read by
    ``Call.params`` from the same declaration (its type and ``shapes`` rules)."""

    name: str
    description: str
    schema: Mapping[str, Any] = attrs.field(factory=lambda: {"type": "string"})
    type: Any = None
    rules: Rules = NO_RULES

    @classmethod
    def of(cls, name: str, description: str, tp: Any, **rules: Any) -> Param:
        """A parameter of type ``tp`` (any type a body field may have) with these rules."""
        declared = Rules(**rules)
        return cls(name, description, schema_of(tp, declared), tp, declared)


@attrs.frozen
class Reply:
    """One answer a route gives: its description, the shape of its body, headers."""

    description: str
    # The answer class its body is declared by (the name "Error" stands for errors.Error, the
    # error shape; None: no body or an undeclared one).
    schema: type[Answer] | str | None = None
    media: str = "application/json"
    headers: tuple[str, ...] = ()
    # Other media types the same answer comes in, chosen by the request's Accept header.
    also: tuple[str, ...] = ()


@attrs.frozen
class Operation:
    """A route and method with everything the app and its documentation need to know."""

    method: str
    path: str
    handler: Callable[[Call], Response] | Callable[[Call], Awaitable[Response]]
    summary: str
    replies: Mapping[int, Reply]
    tag: str
    access: Access = "public"
    # An attrs class declared with shapes.field (or alternatives, A | B); None for no body.
    body: Any = None
    # False: the body may be left out altogether (the handler then sees ``None``).
    body_required: bool = True
    query: tuple[Param, ...] = ()
    # Request headers the route reads, as OpenAPI describes them (the handler reads them).
    headers: tuple[Param, ...] = ()
    # What identifies a request (a canonical fingerprint of its body and path), for an
    # operation that honours Idempotency-Key: the routing then runs the handler once per
    # (user, operation, key) and replays its answer to every retry. It may refuse the request
    # (ValidationFailed) before anything is claimed.
    idempotent: Callable[[Call], str] | None = None
    limited: bool = True
    # False for handlers that do no I/O (probes, docs): they run on the event loop, sparing
    # the hop to the thread pool that store and Redis calls need.
    blocking: bool = True
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if self.idempotent is not None and (
            self.access == "public" or inspect.iscoroutinefunction(self.handler)
        ):
            raise TypeError(f"{self.key}: only a signed-in, blocking handler is idempotent")

    @property
    def key(self) -> str:
        """The operation as OpenAPI names it (``POST /reservations/{reservation_id}``): an
        idempotent answer is kept under it."""
        return f"{self.method} {documented_path(self.path)}"


@attrs.define(slots=True)
class Call:
    """One request as a handler sees it: already admitted, its body structured."""

    request: Request
    services: Services
    identity: Identity | None
    body: Any = None
    # How a public route reads the token when one of its options is for admins only.
    authenticator: Authenticator | None = None

    @property
    def user(self) -> Identity:
        assert self.identity is not None, "only routes that need a token read the user"
        return self.identity

    def require_admin(self, what: str) -> Identity:
        """The caller, who must be an admin for ``what`` (on a public route): no token or a
        bad one is 401, another role 403."""
        identity = self.identity
        if identity is None:
            assert self.authenticator is not None
            identity = self.authenticator.identify(self.request.headers.get("authorization"))
        if not identity.is_admin:
            raise Forbidden(f"Only an admin may ask for {what}.")
        return identity

    def path_uuid(self, name: str, missing: type[NotFound]) -> UUID:
        """A path id; a malformed one is the same 404 as an unknown one."""
        try:
            return UUID(self.request.path_params[name])
        except ValueError:
            raise missing() from None

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    def params(self, *declared: Param) -> dict[str, Any]:
        """The value of each parameter (``None`` when absent or empty), or ``ValidationFailed``
        naming every one that does not fit its declaration."""
        found: dict[str, Any] = {}
        bad: dict[str, str] = {}
        for param in declared:
            raw = self.query.get(param.name)
            try:
                found[param.name] = read(param.type, param.rules, raw) if raw else None
            except Unfit as error:
                bad[param.name] = str(error)
        if bad:
            raise ValidationFailed(bad)
        return found

    def limit(self, default: int = 50, maximum: int = 200) -> int:
        raw = self.query.get("limit")
        if raw is None:
            return default
        if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= maximum:
            raise ValidationFailed({"limit": f"must be an integer from 1 to {maximum}"})
        return int(raw)

    def cursor(self) -> str | None:
        raw = self.query.get("cursor")
        if raw is None or raw == "":
            return None
        if len(raw) > 200:
            raise ValidationFailed({"cursor": "is not a cursor this API gave out"})
        return raw


class Gate:
    """Admits a request: its rate limits (the client's address, then the user's) and its token.

    Both limits of a signed-in request are taken in one call to the limiter (one round trip to
    Redis), so the token is read first; the answers still come in the order client's limit,
    token, role, user's limit. A request the token or the role turns away takes from the
    client's bucket alone, and past it is told 429 rather than 401 or 403: a flood of bad
    tokens stays limited.
    """

    def __init__(self, services: Services, authenticator: Authenticator):
        self.services = services
        self.authenticator = authenticator
        s = services.settings
        self._client = (s.rate_per_client, s.burst_per_client)
        self._user = (s.rate_per_user, s.burst_per_user)

    def admit(self, request: Request, op: Operation) -> Identity | None:
        if op.access == "public":
            if op.limited:
                self._take(self._client_bucket(request))
            return None
        try:
            identity = self._identify(request, op)
        except CinemaError:
            if op.limited:
                self._take(self._client_bucket(request))
            raise
        if op.limited:
            self._take(self._client_bucket(request), (f"user:{identity.user_id}", *self._user))
        return identity

    def _identify(self, request: Request, op: Operation) -> Identity:
        """The caller, if the token names one allowed to ``op``; else ``Unauthorized`` or
        ``Forbidden``."""
        identity = self.authenticator.identify(request.headers.get("authorization"))
        info = request_info(request.scope)
        if info is not None:
            info.user = identity.user_id
        if op.access == "admin" and not identity.is_admin:
            raise Forbidden("Only an admin may do that.")
        if op.access == "staff" and not identity.is_staff:
            raise Forbidden("Only the cinema's staff or an admin may do that.")
        return identity

    def _client_bucket(self, request: Request) -> Bucket:
        # Only the socket's peer address: any header naming a client could be forged.
        client = request.scope.get("client")
        return (f"client:{client[0] if client else 'unknown'}", *self._client)

    def _take(self, *buckets: Bucket) -> None:
        # A rate of 0 switches that limit off.
        limits = [bucket for bucket in buckets if bucket[1] > 0]
        if not limits:
            return
        wait = self.services.rate_limiter.take_all(limits)
        if wait > 0:
            raise RateLimited(wait)


def routes(operations: Iterable[Operation], gate: Gate, threads: RequestThreads) -> list[Route]:
    """One Starlette route per path, dispatching on the method (so 405 lists every method)."""
    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        by_path.setdefault(op.path, {})[op.method] = op
    return [
        Route(path, _endpoint(methods, gate, threads), methods=list(methods), name=path)
        for path, methods in by_path.items()
    ]


def _endpoint(
    methods: dict[str, Operation], gate: Gate, threads: RequestThreads
) -> Callable[[Request], Awaitable[Response]]:
    def run(op: Operation, request: Request, raw: bytes | None) -> Response:
        try:
            identity = gate.admit(request, op)
            given = raw is not None and (op.body_required or raw.strip() != b"")
            body = (
                structure(parse_object(raw), op.body)
                if op.body and raw is not None and given
                else None
            )
            call = Call(request, gate.services, identity, body, gate.authenticator)
            if op.idempotent is None:
                return answer(op, call)
            return answer_once(call, op.key, op.idempotent(call), lambda: answer(op, call))
        except CinemaError as error:
            return error_response(error)

    def answer(op: Operation, call: Call) -> Response:
        response = op.handler(call)
        assert isinstance(response, Response)
        return response

    async def endpoint(request: Request) -> Response:
        op = methods.get(request.method) or methods["GET"]  # HEAD is served as GET
        info = request_info(request.scope)
        if info is not None:
            info.route = op.path
        try:
            if inspect.iscoroutinefunction(op.handler):
                # A handler that awaits (a stream, readiness) rather than blocks: admitted
                # (off the loop if the gate may wait on Redis), then awaited on the loop.
                admitted = (
                    await threads.run(gate.admit, request, op)
                    if op.blocking
                    else gate.admit(request, op)
                )
                response = await op.handler(Call(request, gate.services, admitted))
                assert isinstance(response, Response)
                return response
            raw = await read_body(request) if op.body is not None else None
        except CinemaError as error:
            return error_response(error)
        if not op.blocking or _in_process(gate.services):
            return run(op, request, raw)
        return await threads.run(run, op, request, raw)

    return endpoint


def _in_process(services: Services) -> bool:
    """Whether every backend a handler can reach lives in this process's memory, so that no
    handler ever waits on I/O: then handlers run on the event loop, sparing the hop to the
    thread pool (2.3–2.6× the cost of a cheap request, bench/FINDINGS.md 6).

    Exact types, not isinstance: a wrapper or subclass (a fallback, a test's slow fake) may
    block, and goes to the pool. Their locks are held only for in-memory work, never across
    a wait, and an idempotent duplicate never waits either: each request's claim is made and
    settled within its one handler call, which nothing else interleaves with on the loop.
    """
    s = services.settings
    box = services.box
    return (
        s.database_url is None
        and s.redis_url is None
        and s.amqp_url is None
        and type(box.repo) is InMemoryReservationRepo
        and type(box.seat_lock) is InMemorySeatLock
        and type(services.idempotency) is InMemoryIdempotencyStore
        and type(services.rate_limiter) is InMemoryRateLimiter
    )
