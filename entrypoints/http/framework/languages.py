"""Which language an answer speaks, and how it writes dates and money there.

A request's locale is the ``lang`` query parameter (the pages' switch, remembered in a cookie),
else the ``lang`` cookie, else the best of ``Accept-Language`` we speak, else the deployment's
``CINEMA_DEFAULT_LOCALE``. It lives in a context variable for the request (thread pools copy
it), so error answers deep in the framework speak it without being handed it; every answer
says which in ``Content-Language``. Text comes from the gettext catalogs under
``pages/locale`` (``nox -s translations``); dates, numbers and money from Babel's CLDR data.
"""

from __future__ import annotations

import contextvars
import functools
import gettext
from datetime import datetime
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import attrs
from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import format_currency
from babel.support import Translations
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.config import LOCALES

CATALOGS = Path(__file__).resolve().parents[1] / "pages" / "locale"
DOMAIN = "messages"
COOKIE = "lang"
# A year: the switch is a preference, not a session.
COOKIE_SECONDS = 365 * 24 * 3600
_current: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=LOCALES[0])


def known(tag: str | None) -> str | None:
    """The locale we speak that ``tag`` names exactly (``pt-br``, ``pt_BR``), else ``None``."""
    if not tag:
        return None
    wanted = tag.strip().replace("_", "-").lower()
    return next((each for each in LOCALES if each.lower() == wanted), None)


def _closest(tag: str) -> str | None:
    exact = known(tag)
    if exact is not None:
        return exact
    # ``pt``, ``pt-PT`` → pt-BR; ``en-US`` → en: the nearest we have of that language.
    language = tag.strip().split("-")[0].split("_")[0].lower()
    return next((each for each in LOCALES if each.split("-")[0].lower() == language), None)


def negotiate(accept_language: str | None, default: str) -> str:
    """The locale we speak that ``Accept-Language`` prefers most, else ``default``."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag.strip() and quality > 0:
            ranked.append((-quality, index, tag.strip()))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return default
        found = _closest(tag)
        if found is not None:
            return found
    return default


def N_(message: str) -> str:
    """Marks ``message`` for the catalogs (``pybabel extract``); translated where it is shown."""
    return message


def current() -> str:
    """The locale of the request being answered (the first of LOCALES outside one)."""
    return _current.get()


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of ``locale``; English is the catalogs' source language."""
    if locale == "en":
        return gettext.NullTranslations()
    return Translations.load(str(CATALOGS), [_babel(locale)], DOMAIN)


def translate(message: str, locale: str | None = None) -> str:
    return translations(locale or current()).gettext(message)


def _babel(locale: str) -> str:
    return locale.replace("-", "_")


@attrs.frozen
class Formats:
    """Dates, times and money as people of ``locale`` read them, in the cinemas' ``zone``."""

    locale: str
    zone: str

    def when(self, instant: datetime) -> str:
        """``qua., 9 de dez., 19:00`` (pt-BR) · ``Wed, Dec 9, 7:00 PM`` (en)."""
        where = _babel(self.locale)
        zone = ZoneInfo(self.zone)
        day = format_skeleton("MMMEd", instant, tzinfo=zone, locale=where)
        hour = _time(instant, zone, where)
        # CLDR's own glue (``{1} {0}`` in pt) reads as one phrase; the catalog's keeps the comma
        # the pages use between a day and its hour (and that the browser's Intl writes too).
        glue = translate(N_("{day}, {time}"), self.locale)
        return glue.replace("{day}", day).replace("{time}", hour)

    def money(self, amount: str, currency: str = "BRL") -> str:
        """``R$ 25,00`` from the API's ``"25.00"``: reais as Brazil writes them in every
        language (as on the receipts), other currencies as the page's language does."""
        where = "pt_BR" if currency == "BRL" else _babel(self.locale)
        return format_currency(Decimal(amount), currency, locale=where)


def _time(instant: datetime, zone: ZoneInfo, where: str) -> str:
    return format_time(instant, "short", tzinfo=zone, locale=where)


def language_name(locale: str) -> str:
    """``Português (Brasil)``, ``English``: a language named in itself, for the switch."""
    name = Locale.parse(_babel(locale)).get_display_name(_babel(locale)) or locale
    return name[:1].upper() + name[1:]


class Languages:
    """Pure ASGI: picks each request's locale, says it in ``Content-Language``, and remembers
    a switch (``?lang=en``) in a cookie for the pages that follow."""

    def __init__(self, app: ASGIApp, default: str):
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = known(_query_lang(scope))
        cookie = header = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = value.decode("latin-1")
            elif name == b"accept-language":
                header = value.decode("latin-1")
        locale = chosen or known(_cookie_lang(cookie)) or negotiate(header, self.default)
        extra = [(b"content-language", locale.encode())]
        if chosen is not None:
            extra.append(
                (
                    b"set-cookie",
                    f"{COOKIE}={chosen}; Path=/; Max-Age={COOKIE_SECONDS}; SameSite=Lax".encode(),
                )
            )

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        token = _current.set(locale)
        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _current.reset(token)


def _query_lang(scope: Scope) -> str | None:
    query = scope.get("query_string", b"")
    if b"lang=" not in query:
        return None
    values = parse_qs(query.decode("latin-1")).get("lang")
    return values[-1] if values else None


def _cookie_lang(header: str | None) -> str | None:
    if not header or COOKIE not in header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed cookie header is the client's, never a 500
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None
