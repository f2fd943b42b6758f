"""PDF documents made with fpdf2: invoices and the written-only forms.

Each document is written in one language (German, Dutch or English, cc_common.i18n): its texts
come from the catalogues in contract_service/translations (msgid: the English text), its
amounts, dates and VAT rate are formatted by the language's locale. The font is a Unicode font
(Open Sans, from the ttf-opensans package) embedded as a subset into each file, so names such as
"Łukasz Wójcik" and the euro sign print as they are; a character the font lacks is written in
its form without accents, or as "?".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import ttf_opensans
from cc_common import i18n
from fontTools.ttLib import TTFont
from fpdf import FPDF

from contract_service.domain.forms import Form
from contract_service.domain.model import Customer, Invoice, VatSplit

SELLER = ("Customer Center Hosting", "Example Street 1", "10115 Berlin, Germany")
FONT = "OpenSans"
TRANSLATIONS = str(Path(__file__).resolve().parent.parent / "translations")
# The form fields that carry the customer number of the caller (prefilled on a customer's form).
CUSTOMER_NUMBER_FIELDS = (
    "Customer number",
    "Current contract partner: Customer number",
    "Customer number (current contract partner)",
)


# An invoice's status as the PDF says it (in English; translated when printed).
STATUS_TEXTS = {"open": "open", "debit_requested": "debit requested", "paid": "paid"}


def texts(language: str) -> Callable[[str], str]:
    """gettext of the language's catalogue: English text in, the language's text out."""
    return i18n.translations(TRANSLATIONS, language).gettext


@lru_cache(maxsize=1)
def _font_characters() -> frozenset[int]:
    """The code points the embedded font has (regular and bold have the same set)."""
    return frozenset(TTFont(str(ttf_opensans.OPENSANS_REGULAR.path)).getBestCmap())


def printable(text: str) -> str:
    """The text in characters the font has: others in their form without accents, else "?"."""
    known = _font_characters()
    out = []
    for ch in text or "":
        if ord(ch) in known or ch in "\n\r":
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch)
        out.append("".join(c for c in base if ord(c) in known and not unicodedata.combining(c)) or "?")
    return "".join(out)


def _new_pdf(title: str, language: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font(FONT, style="", fname=str(ttf_opensans.OPENSANS_REGULAR.path))
    pdf.add_font(FONT, style="B", fname=str(ttf_opensans.OPENSANS_BOLD.path))
    pdf.set_title(printable(title))
    pdf.set_author(SELLER[0])
    pdf.set_lang(language)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font(FONT, size=8)
    pdf.cell(0, 5, printable(" - ".join(SELLER)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    return pdf


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice: what (in English; translated when printed) and its net amount."""

    text: str
    net_cents: int


def invoice_pdf(
    *, invoice: Invoice, customer: Customer, lines: list[InvoiceLine], split: VatSplit, language: str
) -> bytes:
    language = i18n.check_language(language)
    _ = texts(language)

    def money(cents: int) -> str:
        return i18n.money(cents, invoice.currency, language)

    title = _("Invoice {number}").format(number=invoice.number)
    pdf = _new_pdf(title, language)
    pdf.set_font(FONT, size=10)
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    for line in (
        customer.company,
        name,
        customer.street,
        f"{customer.zip} {customer.city}",
        customer.country,
    ):
        if line.strip():
            pdf.cell(0, 5, printable(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, style="B", size=16)
    pdf.cell(0, 10, printable(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    for label, value in (
        (_("Invoice number"), invoice.number),
        (_("Invoice date"), i18n.day(invoice.date, language)),
        (_("Customer number"), customer.customer_number),
        (_("Status"), _(STATUS_TEXTS.get(invoice.status, invoice.status))),
    ):
        pdf.cell(45, 6, label)
        pdf.cell(0, 6, printable(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, style="B", size=10)
    pdf.cell(130, 7, _("Description"), border="B")
    pdf.cell(0, 7, _("Net"), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    for item in lines:
        pdf.cell(130, 7, printable(_(item.text)))
        pdf.cell(0, 7, money(item.net_cents), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    totals = (
        (_("Net amount"), split.net_cents, ""),
        (_("VAT {rate}").format(rate=i18n.percent(split.vat_percent, language)), split.vat_cents, ""),
        (_("Gross amount"), split.gross_cents, "B"),
    )
    for label, cents, style in totals:
        pdf.set_font(FONT, style=style, size=10)
        pdf.cell(130, 7, label, border="T" if style else "")
        pdf.cell(0, 7, money(cents), border="T" if style else "", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=9)
    if invoice.status == "open":
        note = _(
            "The amount will be debited from your account or card on file. "
            "Customer login > Your invoices shows the state of this invoice."
        )
    else:
        note = _("This invoice has been paid. Thank you.")
    pdf.multi_cell(0, 5, note)
    return bytes(pdf.output())


def _field_label(label: str, _: Callable[[str], str]) -> str:
    """A field label such as "New contract partner: Company", translated part by part."""
    return ": ".join(_(part) for part in label.split(": "))


def form_pdf(form: Form, *, language: str, customer_number: str = "", today: date | None = None) -> bytes:
    language = i18n.check_language(language)
    _ = texts(language)
    title = _(form.title)
    pdf = _new_pdf(title, language)
    pdf.set_font(FONT, style="B", size=14)
    pdf.multi_cell(0, 8, printable(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, printable(_(form.description)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    instructions = _(
        "Please fill in every field in capital letters, sign, and send the form by post or upload it "
        "as a PDF. Form id: {id}"
    )
    pdf.multi_cell(0, 5, instructions.format(id=form.id), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, lines in form.fields:
        prefilled = customer_number if label in CUSTOMER_NUMBER_FIELDS else ""
        pdf.set_font(FONT, size=8)
        pdf.cell(0, 5, printable(_field_label(label, _)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=11)
        pdf.cell(0, 7, printable(prefilled), border="B", new_x="LMARGIN", new_y="NEXT")
        for _line in range(lines - 1):
            pdf.cell(0, 7, "", border="B", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(12)
    pdf.set_font(FONT, size=8)
    width = (pdf.w - pdf.l_margin - pdf.r_margin - 10) / max(1, len(form.signatures))
    y = pdf.get_y()
    for i, who in enumerate(form.signatures):
        x = pdf.l_margin + i * (width + 10)
        pdf.line(x, y + 12, x + width, y + 12)
        pdf.set_xy(x, y + 13)
        pdf.multi_cell(width, 4, printable(_("Place, date, signature: {who}").format(who=_(who))))
    pdf.set_xy(pdf.l_margin, y + 24)
    if today is not None:
        pdf.set_font(FONT, size=7)
        pdf.cell(0, 5, _("Printed on {date}").format(date=i18n.day(today, language)))
    return bytes(pdf.output())
