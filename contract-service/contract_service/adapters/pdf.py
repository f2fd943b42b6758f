"""PDF documents made with fpdf2: invoices and the written-only forms.

The built-in Helvetica font covers Latin-1 only; other characters are written in their
closest Latin-1 form (e.g. "Ł" -> "L") so any name prints. Text streams are not compressed:
the files stay small and their text can be found (by tests, by search tools)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from contract_service.domain.forms import Form
from contract_service.domain.model import Customer, Invoice, VatSplit, format_amount

SELLER = ("Customer Center Hosting", "Example Street 1", "10115 Berlin, Germany")


def latin1(text: str) -> str:
    """The text in characters the built-in fonts have."""
    out = []
    for ch in text or "":
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def _new_pdf(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_title(latin1(title))
    pdf.set_author(SELLER[0])
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    return pdf


@dataclass(frozen=True)
class InvoiceLine:
    text: str
    net_cents: int


def invoice_pdf(*, invoice: Invoice, customer: Customer, lines: list[InvoiceLine], split: VatSplit) -> bytes:
    pdf = _new_pdf(f"Invoice {invoice.number}")
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 5, latin1(" - ".join(SELLER)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", size=10)
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    for line in (customer.company, name, customer.street, f"{customer.zip} {customer.city}", customer.country):
        if line.strip():
            pdf.cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, latin1(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (
        ("Invoice number", invoice.number),
        ("Invoice date", invoice.date.isoformat()),
        ("Customer number", customer.customer_number),
        ("Status", invoice.status),
    ):
        pdf.cell(45, 6, label)
        pdf.cell(0, 6, latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", style="B", size=10)
    pdf.cell(130, 7, "Description", border="B")
    pdf.cell(0, 7, f"Net ({invoice.currency})", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in lines:
        pdf.cell(130, 7, latin1(line.text))
        pdf.cell(0, 7, format_amount(line.net_cents, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    totals = (
        ("Net amount", split.net_cents, ""),
        (f"VAT {split.vat_percent}%", split.vat_cents, ""),
        ("Gross amount", split.gross_cents, "B"),
    )
    for label, cents, style in totals:
        pdf.set_font("Helvetica", style=style, size=10)
        pdf.cell(130, 7, label, border="T" if style else "")
        pdf.cell(0, 7, format_amount(cents, invoice.currency), border="T" if style else "", align="R",
                 new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(6)
    pdf.set_font("Helvetica", size=9)
    if invoice.status == "open":
        pdf.multi_cell(0, 5, "The amount will be debited from your account or card on file. "
                       "Customer login > Your invoices shows the state of this invoice.")  # fmt: skip
    else:
        pdf.multi_cell(0, 5, "This invoice has been paid. Thank you.")
    return bytes(pdf.output())


def form_pdf(form: Form, *, customer_number: str = "", today: date | None = None) -> bytes:
    pdf = _new_pdf(form.title)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 5, latin1(" - ".join(SELLER)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.multi_cell(0, 8, latin1(form.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 5, latin1(form.description), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(0, 5, "Please fill in every field in capital letters, sign, and send the form by post "
                   "or upload it as a PDF. Form id: " + form.id, new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(4)
    pdf.set_font("Helvetica", size=10)
    for label, lines in form.fields:
        prefilled = customer_number if label in ("Customer number", "Current contract partner: Customer number",
                                                 "Customer number (current contract partner)") else ""  # fmt: skip
        pdf.set_font("Helvetica", size=8)
        pdf.cell(0, 5, latin1(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.cell(0, 7, latin1(prefilled), border="B", new_x="LMARGIN", new_y="NEXT")
        for _ in range(lines - 1):
            pdf.cell(0, 7, "", border="B", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(12)
    width = (pdf.w - pdf.l_margin - pdf.r_margin - 10) / max(1, len(form.signatures))
    y = pdf.get_y()
    for i, who in enumerate(form.signatures):
        x = pdf.l_margin + i * (width + 10)
        pdf.line(x, y + 12, x + width, y + 12)
        pdf.set_xy(x, y + 13)
        pdf.cell(width, 5, latin1(f"Place, date, signature: {who}"))
    pdf.set_xy(pdf.l_margin, y + 22)
    if today is not None:
        pdf.set_font("Helvetica", size=7)
        pdf.cell(0, 5, f"Printed on {today.isoformat()}")
    return bytes(pdf.output())
