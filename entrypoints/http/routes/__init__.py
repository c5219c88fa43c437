"""The HTTP routes, one package per capability, grouped as the core groups its use cases.

``CAPABILITIES`` is the one list of them: the app serves their operations and the OpenAPI
document describes them (each answer's schema comes from the ``Reply`` declaring it). A new
capability is a new package here with an ``OPERATIONS`` tuple, and one more entry below.
"""

from __future__ import annotations

from entrypoints.http import pages

from . import (
    after_sale,
    counter,
    events,
    goods,
    integrations,
    payments,
    reports,
    rooms,
    selling,
    sessions,
    system,
    waiting,
)

CAPABILITIES = (
    system,
    rooms,
    sessions,
    selling,
    waiting,
    goods,
    counter,
    payments,
    after_sale,
    reports,
    events,
    integrations,
    pages,
)
