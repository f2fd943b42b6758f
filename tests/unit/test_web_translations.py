"""The message catalogues of the web pages: every message of the templates and of
gateway_app/web is translated to German and Dutch, and the catalogues compile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
TRANSLATIONS = GATEWAY / "gateway_app" / "translations"


def extracted_messages() -> set[str]:
    with open(GATEWAY / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(GATEWAY / "gateway_app"), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_every_message_of_the_pages_has_a_translation(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    messages = extracted_messages()
    assert len(messages) > 200
    assert sorted(messages - translated) == []


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_placeholders_survive_the_translation(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    for message in catalog:
        if message.id:
            placeholders = sorted(re.findall(r"%\((\w+)\)s", message.id))
            assert sorted(re.findall(r"%\((\w+)\)s", message.string)) == placeholders, message.id


def test_the_catalogues_compile_into_a_private_directory():
    from gateway_app.web.i18n import compile_catalogues

    target = compile_catalogues(TRANSLATIONS)
    assert (target / "de" / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
    assert (target / "nl" / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
    assert not list(TRANSLATIONS.glob("*/LC_MESSAGES/*.mo"))  # nothing compiled into the repo
