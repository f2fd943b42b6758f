"""Invoices: the customer's list, PDFs and repeat debits (/api/v1/invoices/...)."""

from __future__ import annotations

from typing import ClassVar, Literal

from gateway_app.schemas import Answer, fields

INVOICE_NUMBER = {"type": "string", "pattern": "^[A-Za-z0-9]{1,20}$", "description": "e.g. RE00000001"}


class Invoice(Answer):
    """An invoice; amount is a number (12.5 for 12.50)"""

    number: str
    date: str | None
    amount: fields.Money
    currency: str
    # debit_requested: a SEPA repeat debit waits for the bank
    status: Literal["open", "debit_requested", "paid"]
    return_reason: str | None  # why the bank returned the last direct debit; null when none was
    repeat_debit_requested: bool
    repeat_debit_requested_at: fields.DateTime
    EXAMPLE: ClassVar = {"number": "RE00000001", "date": "2026-01-31", "amount": 12.5, "repeat_debit_requested_at": None}  # fmt: skip


class InvoiceList(Answer):
    """The customer's invoices, newest first"""

    invoices: list[Invoice]


class DebitRequest(Answer):
    """The debit request (a pending one is returned as it is)"""

    invoice_number: str
    requested_at: fields.DateTime
    status: Literal[
        "requested", "paid"
    ]  # requested: waits for the next collection; paid: the card was charged
