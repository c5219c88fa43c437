"""The Starlette app: routes from the operations, one middleware, a lifespan that runs the
background worker and closes the services. Nothing connects at import."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from entrypoints.garbage_collector import tune_for_serving
from entrypoints.logs import configure_logging
from entrypoints.worker import BackgroundWorker

from . import pages
from .framework.auth import Authenticator
from .framework.docs import assets, doc_operations
from .framework.errors import http_exception
from .framework.languages import Languages
from .framework.middleware import RequestContext, route_template
from .framework.openapi import document
from .framework.operations import Gate, Operation, routes
from .framework.threads import RequestThreads
from .routes import CAPABILITIES
from .routes.sessions.stream import SeatFeed

log = logging.getLogger("cinema.http")
# Request threads beyond the database pool's connections, for requests that need none.
_SPARE_THREADS = 2
# Request threads without a database (anyio's default, which this pool replaced).
_THREADS = 40


def create_app(services: Services, *, run_worker: bool = True) -> Starlette:
    """The HTTP service over ``services``; its lifespan starts the worker (unless told not to)
    and closes the services on shutdown."""
    secret = services.settings.auth_secret
    if not secret:
        log.warning("no CINEMA_AUTH_SECRET: using a random one, so no token will be accepted")
        secret = secrets.token_urlsafe(32)
    feed = SeatFeed(services.local_events)
    # Fewer request threads than anyio's 40 on a database: past the pool's connections extra
    # threads only wait for one, or hold a transaction open while they wait for the GIL
    # (bench/FINDINGS.md 8).
    threads = RequestThreads(
        services.settings.database_pool_size + _SPARE_THREADS
        if services.settings.database_url
        else _THREADS
    )
    operations: list[Operation] = [op for each in CAPABILITIES for op in each.OPERATIONS]
    operations += doc_operations(lambda: document(operations))
    gate = Gate(services, Authenticator(secret))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker = BackgroundWorker(services) if run_worker else None
        if services.events is not None:
            # Seat changes made through any process reach this one's SSE clients; each time
            # the feed comes back from an outage, they get a fresh seat map.
            services.events.start_live_feed(on_listening=feed.resync)
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            feed.close()
            if worker is not None:
                worker.stop()
            threads.close()
            services.close()

    app = Starlette(
        routes=[*routes(operations, gate, threads), assets(), pages.assets()],
        middleware=[
            # Outermost: even the last net's 500 speaks the request's language.
            Middleware(Languages, default=services.settings.default_locale),
            Middleware(RequestContext, metrics=services.metrics),
            # Inside RequestContext: the route that answered is known when the span ends.
            *(
                [Middleware(services.tracing.requests, route_of=route_template)]
                if services.tracing is not None
                else []
            ),
        ],
        exception_handlers={HTTPException: http_exception},
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.feed = feed
    app.state.threads = threads
    app.state.operations = tuple(operations)
    return app


def app_from_env() -> Starlette:
    """The factory uvicorn calls in each worker process (``--factory``): settings from the
    environment; ``CINEMA_RUN_WORKER=0`` leaves the sweeper and relay to someone else."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(bootstrap(settings), run_worker=settings.run_worker)
    tune_for_serving()
    return app


__all__ = ["app_from_env", "create_app"]
