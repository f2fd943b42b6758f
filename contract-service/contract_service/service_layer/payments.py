"""Paying open invoices again: a customer's repeat debit, staff's direct debit collections and
the bank's answers (the states and rules: contract_service/domain/direct_debit.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from cc_common.errors import Conflict, InvalidInput, NotFound
from cc_common.tokens import Principal

from contract_service.domain import direct_debit, model
from contract_service.domain.direct_debit import DEBIT_REQUESTED, OPEN, PAID
from contract_service.service_layer.services import _owned_invoice
from contract_service.service_layer.unit_of_work import UnitOfWork

MAX_REASON_LENGTH = 200
_NO_COLLECTION = "There is no direct debit collection with this id."


def repeat_debit(
    *,
    uow: UnitOfWork,
    caller: Principal,
    number: str,
    cards: direct_debit.CardPayments | None,
    now: datetime | None = None,
) -> model.DebitRequest:
    """A customer's repeat debit of an open invoice. SEPA: the invoice waits for the next
    collection (asked again while it waits, the pending request is returned as it is). Card:
    the provider is charged now and the invoice is paid, or the answer is 409 payment_declined;
    with no provider configured (`cards` None) the request is recorded for the service team and
    the invoice stays open."""
    at = now or datetime.now(UTC)
    with uow:
        invoice = _owned_invoice(uow, caller, number)
        pending = uow.invoices.pending_debit(invoice.number)
        if pending is not None and invoice.status in (OPEN, DEBIT_REQUESTED):
            return pending
        if invoice.status != OPEN:
            raise Conflict(
                f"Invoice {invoice.number} is {invoice.status}; only an open invoice can be debited again.",
                code="invoice_not_open",
            )
        customer = uow.customers.get(invoice.customer_number)
        payment = customer.payment if customer is not None else None
        if payment is None:
            raise Conflict(
                "There is no payment method on file: add a bank account or a card under payment data first.",
                code="no_payment_method",
            )
        if payment.method == "card" and cards is None:
            request = model.DebitRequest(invoice_number=invoice.number, requested_at=at)
            uow.invoices.add_debit_request(request)
        elif payment.method == "card" and cards is not None:
            result = cards.charge(
                token=payment.card_token, amount_cents=invoice.amount_cents, currency=invoice.currency,
                reference=invoice.number,
            )  # fmt: skip
            if not result.approved:
                raise Conflict(f"The card payment was declined: {result.reason}", code="payment_declined")
            request = model.DebitRequest(invoice_number=invoice.number, requested_at=at, status=PAID)
            uow.invoices.add_debit_request(request)
            uow.invoices.set_status(invoice.number, PAID)
        else:
            if invoice.currency != direct_debit.SEPA_CURRENCY:
                raise Conflict(
                    f"A SEPA direct debit collects euros; invoice {invoice.number} is in {invoice.currency}. "
                    "Please pay it by card or bank transfer.",
                    code="direct_debit_unavailable",
                )
            request = model.DebitRequest(invoice_number=invoice.number, requested_at=at)
            uow.invoices.add_debit_request(request)
            uow.invoices.set_status(invoice.number, DEBIT_REQUESTED)
        uow.commit()
    return request


def _debtor_name(customer: model.Customer) -> str:
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    return customer.company or name or customer.customer_number


def make_collection(*, uow: UnitOfWork, now: datetime | None = None) -> direct_debit.Collection:
    """A collection of every invoice waiting for a debit (409 nothing_to_collect when none is).
    An invoice whose customer no longer has a bank account on file stays waiting."""
    at = now or datetime.now(UTC)
    collection = direct_debit.Collection(
        id=f"dd_{uuid.uuid4().hex}", created_at=at, collection_date=direct_debit.collection_date(at.date())
    )
    with uow:
        for invoice, customer in uow.direct_debits.waiting():
            payment = customer.payment
            if payment is None or payment.method != "sepa":
                continue
            created = customer.created_at or at
            collection.items.append(
                direct_debit.CollectionItem(
                    invoice_number=invoice.number,
                    customer_number=customer.customer_number,
                    amount_cents=invoice.amount_cents,
                    currency=invoice.currency,
                    debtor_name=_debtor_name(customer),
                    iban=payment.iban,
                    bic=payment.bic,
                    mandate_id=direct_debit.mandate_id(customer.customer_number),
                    mandate_date=created.date(),
                )
            )
        if not collection.items:
            raise Conflict("No invoice is waiting for a direct debit.", code="nothing_to_collect")
        uow.direct_debits.add(collection)
        uow.commit()
    return collection


def list_collections(*, uow: UnitOfWork) -> list[direct_debit.Collection]:
    with uow:
        return uow.direct_debits.list()


def collection_file(
    *, uow: UnitOfWork, collection_id: str, creditor: direct_debit.Creditor
) -> tuple[str, bytes]:
    """(filename, pain.008 XML) of a collection."""
    checked = model.check_opaque_id(collection_id, field_name="id", label="collection")
    with uow:
        collection = uow.direct_debits.get(checked)
    if collection is None:
        raise NotFound(_NO_COLLECTION)
    return f"{collection.id}.xml", direct_debit.pain008(collection, creditor)


def mark_paid(*, uow: UnitOfWork, caller: Principal, number: str) -> model.Invoice:
    """The bank (or another way) paid the invoice: open or debit_requested -> paid."""
    with uow:
        invoice = _owned_invoice(uow, caller, number)
        if invoice.status == PAID:
            return invoice
        uow.invoices.set_status(invoice.number, PAID)
        uow.invoices.settle_debits(invoice.number, "paid")
        uow.commit()
        invoice.status, invoice.return_reason, invoice.debit_requested_at = PAID, "", None
    return invoice


def mark_returned(*, uow: UnitOfWork, caller: Principal, number: str, reason: str) -> model.Invoice:
    """The bank returned the debit: debit_requested -> open, with the reason the customer sees."""
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput("Give the reason the bank returned the debit.", field="reason")
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(f"The reason has at most {MAX_REASON_LENGTH} characters.", field="reason")
    with uow:
        invoice = _owned_invoice(uow, caller, number)
        if invoice.status != DEBIT_REQUESTED:
            raise Conflict(
                f"Invoice {invoice.number} is {invoice.status}; only a debit that was requested can come back.",
                code="invoice_not_debited",
            )
        uow.invoices.set_status(invoice.number, OPEN, return_reason=text)
        uow.invoices.settle_debits(invoice.number, "returned")
        uow.commit()
        invoice.status, invoice.return_reason, invoice.debit_requested_at = OPEN, text, None
    return invoice
