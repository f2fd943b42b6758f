"""The customer's language in what the services write: amounts, dates and rates by locale
(cc_common.i18n), the PDF catalogues complete, and a Unicode font that prints every name of
the markets' alphabets."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from cc_common import i18n, notices
from cc_common.errors import InvalidInput
from contract_service.adapters import pdf
from contract_service.domain import forms, model
from identity_service.domain import password_reset
from merge_service.domain import model as merge_model
from merge_service.service_layer import mails as merge_mails

from tests.support.pdf import pdf_text

NBSP = "\xa0"


def test_amounts_dates_and_rates_are_written_as_each_language_writes_them():
    assert i18n.money(1234567, "EUR", "de") == f"12.345,67{NBSP}€"
    assert i18n.money(1234567, "EUR", "nl") == f"€{NBSP}12.345,67"
    assert i18n.money(1234567, "GBP", "en") == "£12,345.67"
    assert i18n.money(-5, "EUR", "en") == "-€0.05"
    assert [i18n.day(date(2026, 12, 2), lang) for lang in ("de", "nl", "en")] == [
        "02.12.2026",
        "2 dec 2026",
        "2 Dec 2026",
    ]
    assert [i18n.percent(19, lang) for lang in ("de", "nl", "en")] == [f"19{NBSP}%", "19%", "19%"]


@pytest.mark.parametrize(
    ("market", "language"), [("de", "de"), ("NL", "nl"), ("uk", "en"), ("fr", "en"), ("", "en")]
)
def test_the_language_follows_the_market_and_is_english_otherwise(market, language):
    assert i18n.language_for(market) == language


@pytest.mark.parametrize(
    ("market", "preference", "language"),
    [("de", "en", "en"), ("uk", "nl", "nl"), ("nl", " DE ", "de"), ("de", "", "de"), ("de", None, "de"),
     ("nl", "fr", "nl"), ("fr", "", "en")],
)  # fmt: skip
def test_a_customers_language_is_its_preference_and_else_its_markets(market, preference, language):
    assert i18n.customer_language(market, preference) == language


def test_notices_and_the_reset_mail_of_a_german_customer_preferring_english_are_english():
    subject, _ = notices.render(notices.PASSWORD_CHANGED, "de", preference="en", customer_number="10001")
    assert subject == "Your customer password was changed"
    assert (
        notices.render(notices.PASSWORD_CHANGED, "de", customer_number="10001")[0]
        == "Ihr Kundenpasswort wurde geändert"
    )
    reset_subject, body = password_reset.reset_mail(
        customer_number="10001", link="https://cc.example/x", ttl_seconds=1800, market="de", language="en"
    )
    assert reset_subject == "Set your customer password" and "Dear customer" in body


def test_each_side_of_a_merge_gets_its_mails_in_its_own_language():
    merge = merge_model.Merge(
        id="m_1", target_customer_number="10001", source_customer_number="10002", market="de",
        status="submitted", target_snapshot={"email": "t@example.org", "language": "nl"},
        source_snapshot={"email": "s@example.org"},
    )  # fmt: skip
    assert merge_mails.language_of(merge, "target") == "nl"
    assert merge_mails.language_of(merge, "source") == "de"
    assert merge_mails.render(merge, "submitted", "target")[0].startswith("Uw opdracht")
    assert merge_mails.render(merge, "submitted", "source")[0].startswith("Ihr Auftrag")


def test_a_customer_record_writes_in_its_preference_and_else_in_its_markets_language():
    assert model.Customer(customer_number="10001", market="de", language="en").effective_language == "en"
    assert model.Customer(customer_number="10001", market="nl").effective_language == "nl"


def test_a_language_preference_other_than_en_de_nl_is_refused_with_its_field():
    with pytest.raises(InvalidInput) as refused:
        model.check_language("fr")
    assert refused.value.field == "language"
    assert model.check_language(" EN ") == "en"


def _texts_the_pdfs_use() -> set[str]:
    """Every literal passed to `_()` in the PDF module, and every text of the written forms."""
    tree = ast.parse(Path(pdf.__file__).read_text())
    found = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    for form in forms.FORMS:
        if form.has_pdf:
            found |= {form.title, form.description, *form.signatures}
            found |= {part for label, _lines in form.fields for part in label.split(": ")}
    return found | set(pdf.STATUS_TEXTS.values()) | {"Hosting services"}


@pytest.mark.parametrize("language", ["de", "nl"])
def test_every_text_of_the_pdfs_has_a_translation(language):
    with (Path(pdf.TRANSLATIONS) / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale=language)
    untranslated = sorted(t for t in _texts_the_pdfs_use() if not (t in catalogue and catalogue[t].string))
    assert untranslated == []
    assert i18n.translations(pdf.TRANSLATIONS, language).gettext("Invoice date") != "Invoice date"


def test_a_name_outside_latin_1_prints_as_it_is_and_a_missing_glyph_falls_back():
    customer = model.Customer(
        customer_number="100",
        market="de",
        company="Müller & Søn",
        first_name="Łukasz",
        last_name="Wójcik",
        street="Hauptstraße 1",
        zip="10115",
        city="Berlin",
        country="DE",
    )
    invoice = model.Invoice(
        number="RE1", customer_number="100", date=date(2026, 2, 1), amount_cents=11900, currency="EUR"
    )
    split = model.split_gross(11900, vat_percent=19)
    content = pdf.invoice_pdf(invoice=invoice, customer=customer, lines=[pdf.InvoiceLine("Hosting services", split.net_cents)],
                              split=split, language="de")  # fmt: skip
    text = pdf_text(content)
    assert "Müller & Søn" in text and "Łukasz Wójcik" in text and "Bruttobetrag 119,00 €" in text
    assert pdf.printable("Zoë 東京") == "Zoë ??"


@pytest.mark.parametrize(
    ("market", "subject", "phrase"),
    [
        ("de", "Ihr Kundenpasswort neu setzen", "läuft in 30 Minuten ab"),
        ("nl", "Uw klantwachtwoord instellen", "verloopt over 30 minuten"),
        ("uk", "Set your customer password", "expires in 30 minutes"),
    ],
)
def test_the_password_reset_mail_is_in_the_language_of_the_customers_market(market, subject, phrase):
    got_subject, body = password_reset.reset_mail(
        customer_number="10000001", link="https://cc.example/reset?token=abc", ttl_seconds=1800, market=market
    )
    assert got_subject == subject and phrase in body
    assert "10000001" in body and "https://cc.example/reset?token=abc" in body


@pytest.mark.parametrize(
    ("market", "subject", "phrase"),
    [
        (
            "de",
            "Ihre Kundennummern wurden zusammengefasst",
            "Alle Pakete, Rechnungen und Verträge von 2 gehören jetzt zu 1",
        ),
        (
            "nl",
            "Uw klantnummers zijn samengevoegd",
            "Alle pakketten, facturen en contracten van 2 horen nu bij 1",
        ),
        (
            "uk",
            "Your customer numbers have been merged",
            "All packages, invoices and contracts of 2 now belong to 1",
        ),
    ],
)
def test_the_mails_of_a_merge_are_in_the_language_of_its_market(market, subject, phrase):
    merge = merge_model.Merge(
        id="mrg_1",
        target_customer_number="1",
        source_customer_number="2",
        market=market,
        status=merge_model.COMPLETED,
    )
    got_subject, body = merge_mails.render(merge, "completed")
    assert got_subject == subject and phrase in body and "mrg_1" in body


def test_every_merge_event_has_a_mail_in_every_language():
    merge = merge_model.Merge(id="mrg_1", target_customer_number="1", source_customer_number="2", market="de", status=merge_model.COMPLETED,
                              rejection_reason="Grund R", reversal_reason="Grund V")  # fmt: skip
    for market in ("de", "nl", "uk"):
        merge.market = market
        bodies = {event: merge_mails.render(merge, event)[1] for event in merge_mails._EVENTS}
        assert "Grund R" in bodies["rejected"] and "Grund V" in bodies["reversed"]
        assert len(set(bodies.values())) == len(bodies)
