"""Pages and error messages speak pt-BR or en: Accept-Language picks, CINEMA_DEFAULT_LOCALE
decides when it names neither, a ``?lang=`` switch is remembered in a cookie; error codes never
change, only their messages; dates in the cinemas' time zone, money in reais."""

from __future__ import annotations

import pytest

from cinema_core import ManualClock
from entrypoints.config import ConfigError, Settings
from tests.contract.http_app import Api, error_code, open_api

HTML = {"Accept": "text/html"}
MISSING = "/sessions/00000000-0000-0000-0000-000000000000"


def test_pages_speak_brazilian_portuguese_by_default(api: Api) -> None:
    """No Accept-Language: the home page is in pt-BR and says so."""
    answer = api.get("/", headers={**HTML, "Accept-Language": ""})
    assert answer.headers["content-language"] == "pt-BR"
    assert '<html lang="pt-BR"' in answer.text
    assert "Próximas sessões" in answer.text
    assert "Coming sessions" not in answer.text


def test_accept_language_picks_english(api: Api) -> None:
    """A browser preferring English (en-US, with pt lower) gets the English page."""
    answer = api.get("/", headers={**HTML, "Accept-Language": "en-US,en;q=0.9,pt;q=0.5"})
    assert answer.headers["content-language"] == "en"
    assert "Coming sessions" in answer.text


def test_a_language_we_do_not_speak_falls_back_to_the_default(clock: ManualClock) -> None:
    """French, or garbage, is answered in CINEMA_DEFAULT_LOCALE, never refused."""
    with open_api(clock, default_locale="en") as api:
        for header in ("fr-FR", "%%%;q=x,,", "*"):
            answer = api.get("/", headers={**HTML, "Accept-Language": header})
            assert answer.status_code == 200
            assert answer.headers["content-language"] == "en"


def test_the_switch_is_remembered_for_the_pages_after(api: Api) -> None:
    """``?lang=en`` answers in English and sets a cookie the next pages follow, over
    the browser's own Accept-Language."""
    portuguese = {**HTML, "Accept-Language": "pt-BR"}
    switched = api.get("/?lang=en", headers=portuguese)
    assert "lang=en" in switched.headers["set-cookie"]
    later = api.get("/tickets", headers=portuguese)
    assert later.headers["content-language"] == "en"
    assert "My tickets" in later.text
    back = api.get("/admin?lang=pt-BR", headers=portuguese)
    assert "Administração" in back.text


@pytest.mark.parametrize(
    ("language", "message"), [("pt-BR", "Sessão inexistente."), ("en", "No such session.")]
)
def test_an_error_message_follows_accept_language_and_its_code_does_not(
    api: Api, language: str, message: str
) -> None:
    """The same 404 in both languages: one code, the message in the asked language."""
    answer = api.get(MISSING, headers={"Accept-Language": language})
    assert answer.status_code == 404
    assert error_code(answer) == "session_not_found"
    assert answer.json()["error"]["message"] == message
    assert answer.headers["content-language"] == language


def test_a_message_with_figures_falls_back_to_its_class_message_in_portuguese(api: Api) -> None:
    """A validation error's specific English message becomes its code's Portuguese message;
    the fields still say what is wrong."""
    answer = api.post(
        "/sessions",
        json={"movie": "X"},
        headers={**api.admin, "Accept-Language": "pt-BR"},
    )
    assert answer.status_code == 422
    assert error_code(answer) == "validation_error"
    assert answer.json()["error"]["message"] == "A requisição tem campos inválidos."
    assert answer.json()["error"]["details"]["fields"]


def test_the_picker_shows_the_start_in_the_cinemas_time_zone(clock: ManualClock) -> None:
    """19:00 UTC is 16:00 in São Paulo, written the Brazilian way; another zone moves it."""
    with open_api(clock) as api:
        session = api.create_session()["id"]
        page = api.get(f"/s/{session}", headers={**HTML, "Accept-Language": "pt-BR"}).text
        assert "ter., 1 de dez., 16:00" in page
    with open_api(clock, time_zone="Europe/Lisbon") as api:
        session = api.create_session()["id"]
        page = api.get(f"/s/{session}", headers={**HTML, "Accept-Language": "en"}).text
        assert "Tue, Dec 1, 7:00\u202fPM" in page


@pytest.mark.parametrize(
    ("name", "value"), [("CINEMA_DEFAULT_LOCALE", "fr"), ("CINEMA_TIME_ZONE", "Mars/Olympus")]
)
def test_an_unknown_locale_or_zone_refuses_to_start(name: str, value: str) -> None:
    """One clear line naming the variable, never a server in a language it cannot speak."""
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
