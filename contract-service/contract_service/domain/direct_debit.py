"""Paying an open invoice again: SEPA direct debit collections and the card-payment port.

An invoice goes open -> debit_requested -> paid, or back to open with the bank's return
reason, which the customer sees:

- A customer asks for a repeat debit of an open invoice. Paid by SEPA direct debit (EUR only:
  SEPA collects euros), the invoice becomes `debit_requested` and waits for the next collection.
  Paid by card, the payment provider is charged at once (`CardPayments`) and the invoice is paid.
- Staff make a collection of every invoice waiting for debit and download it as a SEPA Core
  direct debit file (pain.008.001.02, written and checked against its XSD by sepaxml) for the
  bank. What the collection holds is stored when it is made, so its file stays the same.
- The bank's answer is recorded by staff: paid, or returned with a reason (the invoice is open
  again and shows the reason).

The mandate of a customer is its customer number (`CC-<number>`), signed when the customer was
created; a real provider would keep signed mandates of its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sepaxml import SepaDD

OPEN = "open"
DEBIT_REQUESTED = "debit_requested"
PAID = "paid"
SEPA_CURRENCY = "EUR"
SEPA_SCHEMA = "pain.008.001.02"
# A CORE collection is due one banking day after the file reaches the bank at the earliest;
# two leaves a day to submit it.
COLLECTION_LEAD_DAYS = 2


@dataclass(frozen=True)
class Creditor:
    """The provider as the creditor of its direct debits (its bank account and SEPA creditor id)."""

    name: str
    iban: str
    bic: str
    creditor_id: str

    def __repr__(self) -> str:  # never put the IBAN in a log line
        return f"Creditor(name={self.name!r}, creditor_id={self.creditor_id!r})"


# The published test creditor (a test IBAN and the test creditor identifier): the default for
# development; production must set its own (SEPA_CREDITOR_*).
DEMO_CREDITOR = Creditor(
    name="Customer Center Hosting",
    iban="DE02120300000000202051",
    bic="BYLADEM1001",
    creditor_id="DE98ZZZ09999999999",
)


@dataclass(frozen=True)
class CollectionItem:
    """One invoice in a collection, with the debtor's account as it was when it was collected."""

    invoice_number: str
    customer_number: str
    amount_cents: int
    currency: str
    debtor_name: str
    iban: str
    bic: str
    mandate_id: str
    mandate_date: date

    def __repr__(self) -> str:  # never put the IBAN in a log line
        return f"CollectionItem(invoice_number={self.invoice_number!r}, amount_cents={self.amount_cents})"


@dataclass
class Collection:
    id: str
    created_at: datetime
    collection_date: date
    items: list[CollectionItem] = field(default_factory=list)

    @property
    def message_id(self) -> str:
        """The file's message id, the same for every download of this collection (at most 35
        characters: "CC" and 30 hex digits of a hash of the collection's id)."""
        return "CC" + hashlib.sha256(self.id.encode()).hexdigest()[:30]


def mandate_id(customer_number: str) -> str:
    return f"CC-{customer_number}"


def collection_date(created: date) -> date:
    """The due date of a collection made on `created`: COLLECTION_LEAD_DAYS weekdays later."""
    day, left = created, COLLECTION_LEAD_DAYS
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def pain008(collection: Collection, creditor: Creditor) -> bytes:
    """The collection as a SEPA Core direct debit file (pain.008.001.02), checked against the
    schema by sepaxml (its `ValidationError` if a value is not allowed)."""
    sepa = SepaDD(
        {
            "name": creditor.name,
            "IBAN": creditor.iban,
            "BIC": creditor.bic,
            "batch": True,
            "creditor_id": creditor.creditor_id,
            "currency": SEPA_CURRENCY,
            "instrument": "CORE",
        },
        schema=SEPA_SCHEMA,
        clean=True,
    )
    # The same message id for every download of a collection: a bank refuses a file whose
    # message id it has seen, so a collection submitted twice is not collected twice. sepaxml
    # writes a random one into the group header when it is created; it is replaced there.
    sepa.msg_id = collection.message_id
    sepa._xml.find("CstmrDrctDbtInitn/GrpHdr/MsgId").text = collection.message_id
    for item in collection.items:
        sepa.add_payment(
            {
                "name": item.debtor_name,
                "IBAN": item.iban,
                "BIC": item.bic,
                "amount": item.amount_cents,
                "type": "RCUR",
                "collection_date": collection.collection_date,
                "mandate_id": item.mandate_id,
                "mandate_date": item.mandate_date,
                "description": f"Invoice {item.invoice_number}",
                "endtoend_id": item.invoice_number,
            }
        )
    document: bytes = sepa.export(validate=True)
    return document


# --- cards ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str = ""  # the provider's id of the payment
    reason: str = ""  # why it was declined


class CardPayments(Protocol):
    """The payment provider that charges a stored card token."""

    name: str

    def charge(self, *, token: str, amount_cents: int, currency: str, reference: str) -> ChargeResult: ...
