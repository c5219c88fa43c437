"""GET /metrics: the box office in Prometheus' text format, across every process of
``cinema serve --workers N``; behind ``CINEMA_METRICS_TOKEN`` as a bearer token when set."""

from __future__ import annotations

import hmac

from starlette.responses import Response

from cinema_core.errors import NotFound
from entrypoints.http.framework.errors import Unauthorized
from entrypoints.http.framework.languages import N_
from entrypoints.http.framework.operations import Call, Operation, Reply

_BEARER = "bearer "


def metrics(call: Call) -> Response:
    services = call.services
    if services.metrics is None:
        raise NotFound(N_("Metrics are switched off here (CINEMA_METRICS=0)."))
    token = services.settings.metrics_token
    if token is not None:
        given = call.request.headers.get("authorization", "")
        if given[: len(_BEARER)].lower() != _BEARER:
            raise Unauthorized(N_("GET /metrics needs Authorization: Bearer <metrics token>."))
        # Compared in constant time: the answer's timing tells nothing of the token.
        if not hmac.compare_digest(given[len(_BEARER) :].strip().encode(), token.encode()):
            raise Unauthorized(N_("That is not the metrics token."))
    from adapters.prometheus import CONTENT_TYPE

    return Response(services.metrics.scrape(), headers={"Content-Type": CONTENT_TYPE})


OPERATIONS = (
    Operation(
        "GET",
        "/metrics",
        metrics,
        "Prometheus metrics",
        {
            200: Reply(
                "Request counts and latency by route template and status; holds, sales, "
                "refunds, check-ins and payments by status; the outbox backlog and the age of "
                "its oldest event; each consumer's lag. Summed across the processes of "
                "cinema serve --workers N.",
                media="text/plain",
            ),
            404: Reply("Metrics are switched off (CINEMA_METRICS=0).", "Error"),
            401: Reply("CINEMA_METRICS_TOKEN is set and the bearer token is not it.", "Error"),
        },
        tag="system",
        limited=False,
        description=(
            "Open unless CINEMA_METRICS_TOKEN is set; then `Authorization: Bearer <token>` is "
            "needed. Never rate limited (a scraper comes every few seconds)."
        ),
    ),
)
