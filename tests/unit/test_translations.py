"""The pages' catalogs are whole: every string the templates and the errors show is in the
Portuguese catalog, translated and not fuzzy, the catalog is what ``pybabel extract`` finds
today, and the compiled .mo the package ships says the same as the .po."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "entrypoints" / "http" / "pages" / "locale"
PO = LOCALE / "pt_BR" / "LC_MESSAGES" / "messages.po"


def _forms(text: object) -> tuple[str, ...]:
    """A message's text as its forms: one, or one per plural form (ngettext's)."""
    return tuple(text) if isinstance(text, (tuple, list)) else (str(text or ""),)


def _po() -> dict[str, tuple[tuple[str, ...], bool]]:
    """Each entry by its (first) msgid: its forms and whether it is fuzzy."""
    with PO.open("rb") as source:
        catalog = read_po(source, locale="pt_BR")
    return {_forms(m.id)[0]: (_forms(m.string), m.fuzzy) for m in catalog if m.id}


def _extracted() -> set[str]:
    mapping = (ROOT / "babel.cfg").read_text()
    method_map, options_map = parse_mapping_cfg(io.StringIO(mapping))
    return {
        _forms(message)[0]
        for _, _, message, *_ in extract_from_dir(str(ROOT), method_map, options_map)
        if message
    }


def test_every_portuguese_entry_is_translated_and_not_fuzzy() -> None:
    """An untranslated or fuzzy msgid would show English (or a guess) on a pt-BR page."""
    left = sorted(
        msgid
        for msgid, (forms, fuzzy) in _po().items()
        if fuzzy or not all(form.strip() for form in forms)
    )
    assert not left, f"untranslated or fuzzy in {PO.name}: {left}"


def test_the_catalog_holds_every_string_the_pages_and_errors_show() -> None:
    """A string added to a template or an error without `nox -s translations` fails here."""
    missing = sorted(_extracted() - set(_po()))
    assert not missing, f"not in the catalog (run nox -s translations): {missing}"


def test_the_compiled_catalog_says_what_the_po_says() -> None:
    """The shipped .mo is compiled from today's .po, so a fresh install serves it."""
    with (PO.with_suffix(".mo")).open("rb") as compiled:
        mo = {_forms(m.id)[0]: _forms(m.string) for m in read_mo(compiled) if m.id}
    assert mo == {msgid: forms for msgid, (forms, _) in _po().items()}
