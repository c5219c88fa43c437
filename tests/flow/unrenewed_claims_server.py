"""TEST-ONLY: `cinema serve` with Idempotency-Key claims as they were before leases were renewed,
for the control runs of tests/flow/test_killed_mid_request.py.

Each claim gets one long lease (30 s, Redis' old one) that nothing renews, so the claim of a
process killed mid-request stands until it lapses. Run as
``python -m tests.flow.unrenewed_claims_server PORT`` with the environment of ``cinema serve``
(PostgreSQL and Redis). Never used outside those control runs.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import uvicorn

from adapters.postgres import PostgresIdempotencyStore, PostgresReservationRepo
from adapters.redis import RedisIdempotencyStore, connect
from cinema_core.resilience.fallbacks import IdempotencyWithFallback
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app

OLD_LEASE = timedelta(seconds=30)


def main(port: int) -> None:
    settings = Settings.from_env()
    assert settings.database_url is not None
    assert settings.redis_url is not None
    services = bootstrap(settings)
    repo = services.box.repo
    assert isinstance(repo, PostgresReservationRepo)
    redis_client = connect(settings.redis_url)
    services.closers.append(redis_client)
    # renew_every=None: claims never renewed, as every store did before.
    services.idempotency = IdempotencyWithFallback(
        RedisIdempotencyStore(redis_client, settings.namespace, lease=OLD_LEASE),
        PostgresIdempotencyStore(repo.engine, lease=OLD_LEASE),
        services.outages,
    )
    app = create_app(services)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
