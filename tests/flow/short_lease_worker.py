"""`cinema worker` whose webhook claims lapse within seconds, for the killed-worker test of
tests/flow/test_webhooks_delivery.py.

A claim is left alone for the sender's timeout × its batch plus a 30-second margin, so that
a slow but live sender is never overtaken; a killed sender's claims come back after that.
The test waits for exactly that return, and needs it within seconds, not the product's ~40:
this entry runs the same worker with a batch of 4 and a margin of 2 seconds. Run as
``python -m tests.flow.short_lease_worker`` with the environment of ``cinema worker``.
"""

from __future__ import annotations

import sys

from cinema_core.webhooks import use_cases
from entrypoints import worker
from entrypoints.cli import main

use_cases.LEASE_MARGIN = 2.0
worker.WEBHOOK_BATCH = 4

if __name__ == "__main__":
    sys.exit(main(["worker"]))
