"""The web pages: the coming sessions (``/``), the seat picker (``/s/{id}``), a buyer's tickets
(``/tickets``), the admin screen, the door screen (``/door``), the counter (``/counter``) and a
sale printed (``/sales/{id}/print``).

Each page is an HTML shell rendered with Jinja2 from the package's ``templates/``; its script, a
plain ES module under ``static/``, draws it from the JSON API with the bearer token the browser
keeps (typed in, or handed once in ``#token=…``, which no server sees). The pages are declared
as operations like every other route, so they are documented and rate limited the same way.
Their Content-Security-Policy allows nothing from outside the app.
"""

from __future__ import annotations

import enum
import functools
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from cinema_core import SaleNotFound, SessionNotFound
from cinema_core.events.envelopes import EVENT_TYPES
from entrypoints.config import LOCALES
from entrypoints.http.framework import languages
from entrypoints.http.framework.operations import Call, Operation, Param, Reply
from entrypoints.http.routes.after_sale.sales import ticket_qr_code
from entrypoints.http.routes.sessions.sessions import Session

STATIC = "/static"
# blob: for ticket QR codes, which are fetched with the token and shown from memory.
POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@functools.cache
def _templates(locale: str) -> jinja2.Environment:
    """The templates speaking ``locale``: ``_()``/``{% trans %}`` read its catalog."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("entrypoints.http.pages", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        languages.translations(locale), newstyle=True
    )
    return environment


def _page(call: Call, template: str, status: int = 200, **context: Any) -> Response:
    locale = languages.current()
    zone = call.services.settings.time_zone
    formats = languages.Formats(locale, zone)
    html = (
        _templates(locale)
        .get_template(template)
        .render(
            static=STATIC,
            path=call.request.url.path,
            locale=locale,
            zone=zone,
            when=formats.when,
            money=formats.money,
            languages=[(each, languages.language_name(each)) for each in LOCALES],
            **context,
        )
    )
    return HTMLResponse(
        html,
        status,
        headers={
            "Content-Security-Policy": POLICY,
            "Cache-Control": "no-cache",
            "Referrer-Policy": "same-origin",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _wants_html(call: Call) -> bool:
    return "text/html" in call.request.headers.get("accept", "")


def home(call: Call) -> Response:
    return _page(call, "home.html", title=_("Coming sessions"), script="home", nav="home")


def picker(call: Call) -> Response:
    try:
        session_id = call.path_uuid("session_id", SessionNotFound)
        found = call.services.box.session(session_id)
        session = Session.encode(found)
    except SessionNotFound:
        # A browser gets a page it can read; any other client the API's JSON error.
        if not _wants_html(call):
            raise
        return _page(
            call, "missing.html", 404, title=_("No such session"), script="account", nav=""
        )
    return _page(
        call,
        "picker.html",
        title=session["movie"],
        script="picker",
        nav="",
        session=session,
        starts=found.session.starts_at,
    )


def my_tickets(call: Call) -> Response:
    # The page hides a buyer's refund buttons once the window closes; the server judges anyway.
    cutoff = call.services.box.refund_cutoff.total_seconds()
    return _page(
        call,
        "tickets.html",
        title=_("My tickets"),
        script="purchases",
        nav="tickets",
        cutoff=cutoff,
    )


def admin(call: Call) -> Response:
    return _page(
        call, "admin.html", title=_("Admin"), script="admin", nav="admin", event_types=EVENT_TYPES
    )


def door(call: Call) -> Response:
    return _page(call, "door.html", title=_("Door"), script="door", nav="door")


def counter(call: Call) -> Response:
    return _page(call, "counter.html", title=_("Counter"), script="counter", nav="counter")


class Paper(enum.StrEnum):
    """What a sale is printed on: an A4 sheet, or an 80 mm receipt roll."""

    A4 = "a4"
    RECEIPT = "receipt"


PAPER = Param.of(
    "paper",
    "a4 (default): a sheet of tickets; receipt: an 80 mm receipt roll, one ticket under another.",
    Paper,
)


def printout(call: Call) -> Response:
    paper = call.params(PAPER)["paper"] or Paper.A4
    try:
        found = call.services.box.printout(call.path_uuid("sale_id", SaleNotFound))
    except SaleNotFound:
        if not _wants_html(call):
            raise
        return _page(
            call, "missing_sale.html", 404, title=_("No such sale"), script="account", nav=""
        )
    # segno writes the SVG from the code alone: paths and sizes, no text of ours to escape.
    codes = {
        t.id: Markup(ticket_qr_code(t.code).svg_inline(scale=3, border=4, omitsize=False))
        for t in found.tickets
        if t.refund_id is None
    }
    return _page(
        call,
        "printout.html",
        title=_("Sale {sale}").replace("{sale}", str(found.sale.id)[:8]),
        script="printout",
        nav="counter",
        printout=found,
        sale=found.sale,
        session=found.session,
        codes=codes,
        paper=paper.value,
    )


def _(message: str) -> str:
    """A page's title in the request's language (and marked for ``pybabel extract``)."""
    return languages.translate(message)


_HTML = "An HTML page; its script reads the JSON API."

OPERATIONS = (
    Operation(
        "GET",
        "/",
        home,
        "Web page: the coming sessions, with filters",
        {200: Reply(_HTML, media="text/html")},
        tag="pages",
        blocking=False,
    ),
    Operation(
        "GET",
        "/s/{session_id}",
        picker,
        "Web page: the seat picker of a session",
        {200: Reply(_HTML, media="text/html")},
        tag="pages",
        description="An unknown session is a 404: an HTML page for a browser, else JSON.",
    ),
    Operation(
        "GET",
        "/sales/{sale_id}/print",
        printout,
        "Web page: a sale printed, its tickets with QR codes and its receipt (staff or admin)",
        {
            200: Reply(
                "An HTML page to print: the tickets (session, seat, type, price, age rating, QR "
                "code) and the receipt (its seats, combos and discount lines, total, method; cash "
                "tendered and change at the counter).",
                media="text/html",
            ),
            404: Reply("sale_not_found: an HTML page for a browser, else JSON.", "Error"),
            422: Reply("validation_error: paper is neither a4 nor receipt.", "Error"),
        },
        tag="pages",
        access="staff",
        query=(PAPER,),
        description=(
            "Any sale, online or at the counter, for staff and admins (a customer is 403). "
            "Its print CSS lays the page out for an A4 sheet or, with paper=receipt, an 80 mm "
            "receipt roll (@page sizes); the page's own buttons switch between the two. The "
            "counter screen fetches it with the bearer token and opens it in a new window."
        ),
    ),
    Operation(
        "GET",
        "/tickets",
        my_tickets,
        "Web page: the signed-in buyer's purchases, their tickets, refunds seat by seat",
        {200: Reply(_HTML + " The page asks for a token.", media="text/html")},
        tag="pages",
        blocking=False,
    ),
    Operation(
        "GET",
        "/admin",
        admin,
        "Web page: create rooms and sessions, watch their reports",
        {200: Reply(_HTML + " The page asks for an admin token.", media="text/html")},
        tag="pages",
        blocking=False,
    ),
    Operation(
        "GET",
        "/door",
        door,
        "Web page: the door screen, where staff scan or type a ticket's code and see what to check",
        {200: Reply(_HTML + " The page asks for a staff or admin token.", media="text/html")},
        tag="pages",
        blocking=False,
    ),
    Operation(
        "GET",
        "/counter",
        counter,
        "Web page: the counter, where staff open a shift, sell seats from the live map, print "
        "and close the shift",
        {200: Reply(_HTML + " The page asks for a staff or admin token.", media="text/html")},
        tag="pages",
        blocking=False,
    ),
)


class _Assets(StaticFiles):
    """The pages' scripts and styles, revalidated on every load (cheap with their ETag), so an
    upgraded server never runs beside a browser's stale modules."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def assets() -> Mount:
    """``/static``: the files under the package's ``static/``, installed with it."""
    files = _Assets(packages=[("entrypoints.http.pages", "static")])
    return Mount(STATIC, app=files, name="static")
