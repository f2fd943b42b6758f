"""Repeat debits, direct debit collections and the bank's answers, through contract-service's
use cases on a real database (SQLite and PostgreSQL): an invoice goes open -> debit_requested
-> paid, or back to open with the return reason; a collection's pain.008 file is valid against
the SEPA schema (sepaxml checks it against its XSD) and says what the collection holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from cc_common.errors import Conflict, InvalidInput, NotFound
from contract_service.adapters.card_payments import TestCardPayments
from contract_service.domain import direct_debit, model
from contract_service.service_layer import payments, services

from tests.support.contract_db import contract_database, principal

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
CREDITOR = direct_debit.Creditor(
    name="Customer Center Hosting",
    iban="DE02120300000000202051",
    bic="BYLADEM1001",
    creditor_id="DE98ZZZ09999999999",
)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday


STAFF = principal("staff")


@pytest.fixture
def uow_factory(database_url):
    for uow_factory, _engine in contract_database(database_url("contract")):
        yield uow_factory


def customer(uow_factory, number: str, *, market: str = "de", **payment: str) -> str:
    data = {"first_name": "Erika", "last_name": "Mustermann", "street": "Hauptstraße 1", "zip": "10115",
            "city": "Berlin", "country": "DE", "email": f"{number}@example.com"}  # fmt: skip
    if market == "uk":
        data.update(street="10 Downing Street", zip="SW1A 2AA", city="London", country="GB")
    services.create_customer(uow=uow_factory(), market=market, master_data=data, customer_number=number,
                             payment=model.PaymentInput(**payment))  # fmt: skip
    return number


def invoice(uow_factory, number: str, cents: int, currency: str = "") -> str:
    created = services.create_invoice(
        uow=uow_factory(), customer_number=number, amount_cents=cents, currency=currency
    )
    return created.number


def status(uow_factory, number: str) -> model.Invoice:
    with uow_factory() as uow:
        found = uow.invoices.get(number)
    assert found is not None
    return found


SEPA = {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}


def test_a_sepa_repeat_debit_waits_for_the_collection_then_the_bank_pays_it(uow_factory):
    owner = principal("customer", customer(uow_factory, "100", **SEPA))
    number = invoice(uow_factory, "100", 11900)
    request = payments.repeat_debit(uow=uow_factory(), caller=owner, number=number, cards=None, now=NOW)
    again = payments.repeat_debit(uow=uow_factory(), caller=owner, number=number, cards=None)
    assert (request.status, again.requested_at) == ("requested", request.requested_at)
    assert status(uow_factory, number).status == "debit_requested"

    collection = payments.make_collection(uow=uow_factory(), now=NOW)
    assert [i.invoice_number for i in collection.items] == [number]
    assert collection.collection_date == date(2026, 12, 4)  # two weekdays later
    with pytest.raises(Conflict) as nothing:  # the invoice is in a collection now
        payments.make_collection(uow=uow_factory(), now=NOW)
    assert nothing.value.code == "nothing_to_collect"

    paid = payments.mark_paid(uow=uow_factory(), caller=STAFF, number=number)
    assert paid.status == "paid" and status(uow_factory, number).status == "paid"
    with pytest.raises(Conflict) as not_open:
        payments.repeat_debit(uow=uow_factory(), caller=owner, number=number, cards=None)
    assert not_open.value.code == "invoice_not_open"


def test_a_returned_debit_opens_the_invoice_again_with_the_reason_the_customer_sees(uow_factory):
    owner = principal("customer", customer(uow_factory, "100", **SEPA))
    number = invoice(uow_factory, "100", 5000)
    payments.repeat_debit(uow=uow_factory(), caller=owner, number=number, cards=None, now=NOW)
    payments.make_collection(uow=uow_factory(), now=NOW)
    with pytest.raises(InvalidInput):
        payments.mark_returned(uow=uow_factory(), caller=STAFF, number=number, reason="  ")
    returned = payments.mark_returned(
        uow=uow_factory(), caller=STAFF, number=number, reason="MD06 refund request"
    )
    seen = status(uow_factory, number)
    assert (returned.status, seen.status, seen.return_reason, seen.debit_requested_at) == (
        "open", "open", "MD06 refund request", None,
    )  # fmt: skip
    with pytest.raises(Conflict) as twice:
        payments.mark_returned(uow=uow_factory(), caller=STAFF, number=number, reason="again")
    assert twice.value.code == "invoice_not_debited"
    # The customer may ask again; the next collection takes it.
    payments.repeat_debit(uow=uow_factory(), caller=owner, number=number, cards=None, now=NOW)
    assert [i.invoice_number for i in payments.make_collection(uow=uow_factory(), now=NOW).items] == [number]


def test_the_pain008_file_is_valid_and_holds_what_the_collection_holds(uow_factory):
    for n in ("100", "101"):
        customer(uow_factory, n, **SEPA)
    numbers = [invoice(uow_factory, "100", 11900), invoice(uow_factory, "101", 2380)]
    for n, caller in zip(numbers, ("100", "101"), strict=True):
        payments.repeat_debit(
            uow=uow_factory(), caller=principal("customer", caller), number=n, cards=None, now=NOW
        )
    collection = payments.make_collection(uow=uow_factory(), now=NOW)
    name, xml = payments.collection_file(uow=uow_factory(), collection_id=collection.id, creditor=CREDITOR)
    assert name == f"{collection.id}.xml"
    root = ET.fromstring(xml)  # sepaxml validated it against pain.008.001.02.xsd before handing it out
    assert root.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", NS).text == "2"
    assert root.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", NS).text == "142.80"
    assert root.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", NS).text == collection.message_id
    transactions = root.findall(".//p:DrctDbtTxInf", NS)
    assert sorted(t.find("p:PmtId/p:EndToEndId", NS).text for t in transactions) == sorted(numbers)
    assert {t.find("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", NS).text for t in transactions} == {
        "CC-100",
        "CC-101",
    }
    assert {t.find("p:DbtrAcct/p:Id/p:IBAN", NS).text for t in transactions} == {SEPA["iban"]}
    assert root.find(".//p:ReqdColltnDt", NS).text == "2026-12-04"
    # The same collection gives the same transactions again (its contents are stored).
    again = ET.fromstring(
        payments.collection_file(uow=uow_factory(), collection_id=collection.id, creditor=CREDITOR)[1]
    )
    assert again.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", NS).text == collection.message_id
    assert [c.id for c in payments.list_collections(uow=uow_factory())] == [collection.id]
    with pytest.raises(NotFound):
        payments.collection_file(uow=uow_factory(), collection_id="dd_unknown", creditor=CREDITOR)


def test_a_card_is_charged_at_once_through_the_provider_and_a_declined_card_changes_nothing(uow_factory):
    cards = TestCardPayments()
    card = {"card_token": "tok_test_visa_4242", "card_last4": "4242", "card_expiry": "12/30"}
    owner = principal("customer", customer(uow_factory, "300", market="uk", **card))
    number = invoice(uow_factory, "300", 1200)
    request = payments.repeat_debit(uow=uow_factory(), caller=owner, number=number, cards=cards, now=NOW)
    assert request.status == "paid" and status(uow_factory, number).status == "paid"
    assert cards.charges == [("tok_test_visa_4242", 1200, "GBP", number)]

    declined = principal(
        "customer", customer(uow_factory, "301", market="uk", **{**card, "card_token": "tok_test_declined"})
    )
    other = invoice(uow_factory, "301", 1200)
    with pytest.raises(Conflict) as refused:
        payments.repeat_debit(uow=uow_factory(), caller=declined, number=other, cards=cards, now=NOW)
    assert refused.value.code == "payment_declined" and status(uow_factory, other).status == "open"
    assert TestCardPayments.name.startswith("test adapter")


def test_without_a_card_provider_the_request_is_recorded_and_a_gbp_invoice_is_not_debited_by_sepa(
    uow_factory,
):
    card = {"card_token": "tok_test_visa_4242", "card_last4": "4242", "card_expiry": "12/30"}
    owner = principal("customer", customer(uow_factory, "300", market="uk", **card))
    number = invoice(uow_factory, "300", 1200)
    request = payments.repeat_debit(uow=uow_factory(), caller=owner, number=number, cards=None, now=NOW)
    seen = status(uow_factory, number)
    assert (request.status, seen.status, seen.debit_requested_at is not None) == ("requested", "open", True)

    sepa_gbp = principal("customer", customer(uow_factory, "302", market="uk", **SEPA))
    gbp = invoice(uow_factory, "302", 1200)
    with pytest.raises(Conflict) as refused:
        payments.repeat_debit(uow=uow_factory(), caller=sepa_gbp, number=gbp, cards=None)
    assert refused.value.code == "direct_debit_unavailable"

    nothing = principal("customer", customer(uow_factory, "303", market="uk"))
    with pytest.raises(Conflict) as no_method:
        payments.repeat_debit(
            uow=uow_factory(), caller=nothing, number=invoice(uow_factory, "303", 100), cards=None
        )
    assert no_method.value.code == "no_payment_method"


def test_a_customer_cannot_debit_another_customers_invoice(uow_factory):
    customer(uow_factory, "100", **SEPA)
    customer(uow_factory, "200", **SEPA)
    number = invoice(uow_factory, "200", 100)
    with pytest.raises(NotFound):
        payments.repeat_debit(
            uow=uow_factory(), caller=principal("customer", "100"), number=number, cards=None
        )
