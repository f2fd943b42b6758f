"""The customer's language in what the services write: amounts, dates and rates by locale
(cc_common.i18n), the PDF catalogues complete, and a Unicode font that prints every name of
the markets' alphabets."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from cc_common import i18n
from contract_service.adapters import pdf
from contract_service.domain import forms, model

from tests.support.pdf import pdf_text

NBSP = "\xa0"


def test_amounts_dates_and_rates_are_written_as_each_language_writes_them():
    assert i18n.money(1234567, "EUR", "de") == f"12.345,67{NBSP}€"
    assert i18n.money(1234567, "EUR", "nl") == f"€{NBSP}12.345,67"
    assert i18n.money(1234567, "GBP", "en") == "£12,345.67"
    assert i18n.money(-5, "EUR", "en") == "-€0.05"
    assert [i18n.day(date(2026, 12, 2), lang) for lang in ("de", "nl", "en")] == ["02.12.2026", "2 dec 2026", "2 Dec 2026"]
    assert [i18n.percent(19, lang) for lang in ("de", "nl", "en")] == [f"19{NBSP}%", "19%", "19%"]


@pytest.mark.parametrize(("market", "language"), [("de", "de"), ("NL", "nl"), ("uk", "en"), ("fr", "en"), ("", "en")])
def test_the_language_follows_the_market_and_is_english_otherwise(market, language):
    assert i18n.language_for(market) == language


def _texts_the_pdfs_use() -> set[str]:
    """Every literal passed to `_()` in the PDF module, and every text of the written forms."""
    tree = ast.parse(Path(pdf.__file__).read_text())
    found = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
        and node.args and isinstance(node.args[0], ast.Constant)
    }
    for form in forms.FORMS:
        if form.has_pdf:
            found |= {form.title, form.description, *form.signatures}
            found |= {part for label, _lines in form.fields for part in label.split(": ")}
    return found | set(model.INVOICE_STATUSES) | {"Hosting services"}


@pytest.mark.parametrize("language", ["de", "nl"])
def test_every_text_of_the_pdfs_has_a_translation(language):
    with (Path(pdf.TRANSLATIONS) / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale=language)
    untranslated = sorted(t for t in _texts_the_pdfs_use() if not (t in catalogue and catalogue[t].string))
    assert untranslated == []
    assert i18n.translations(pdf.TRANSLATIONS, language).gettext("Invoice date") != "Invoice date"


def test_a_name_outside_latin_1_prints_as_it_is_and_a_missing_glyph_falls_back():
    customer = model.Customer(
        customer_number="100", market="de", company="Müller & Søn", first_name="Łukasz", last_name="Wójcik",
        street="Hauptstraße 1", zip="10115", city="Berlin", country="DE",
    )
    invoice = model.Invoice(number="RE1", customer_number="100", date=date(2026, 2, 1), amount_cents=11900, currency="EUR")
    split = model.split_gross(11900, vat_percent=19)
    content = pdf.invoice_pdf(invoice=invoice, customer=customer, lines=[pdf.InvoiceLine("Hosting services", split.net_cents)],
                              split=split, language="de")  # fmt: skip
    text = pdf_text(content)
    assert "Müller & Søn" in text and "Łukasz Wójcik" in text and "Bruttobetrag 119,00 €" in text
    assert pdf.printable("Zoë 東京") == "Zoë ??"
