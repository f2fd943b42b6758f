"""contract-service's self-service RPCs over real gRPC on port 0, against SQLite and
PostgreSQL: master data online, payment, contracts, invoice PDFs and repeat debits,
terminations and forms; and who may call what."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import grpc
import pytest
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from contract_service.bootstrap import Settings, create_server
from contract_service.domain.model import current_term_end
from customercenter.v2 import common_pb2, contract_pb2, contract_pb2_grpc
from google.protobuf.message_factory import GetMessageClass

from tests.support.pdf import pdf_text


@pytest.fixture
def server(tmp_path, database_url):
    tokens = token_settings_in(tmp_path)
    settings = Settings(database_url=database_url("contract"), listen="127.0.0.1:0", tokens=tokens)
    thread = ServerThread(lambda: create_server("127.0.0.1:0", settings)).start()
    channel = grpc.insecure_channel(thread.address)
    stub = contract_pb2_grpc.ContractServiceStub(channel)
    factory = TokenFactory(tokens)
    staff = metadata(factory.staff())
    for number, market, extra in (
        (
            "100",
            common_pb2.MARKET_DE,
            {"zip": "10115", "city": "Berlin", "phone": "030 1234567", "fax": "030 1234568"},
        ),
        ("200", common_pb2.MARKET_DE, {"zip": "80331", "city": "München"}),
        ("300", common_pb2.MARKET_UK, {"zip": "SW1A 1AA", "city": "London"}),
    ):
        stub.CreateCustomer(
            contract_pb2.CreateCustomerRequest(
                customer_number=number, market=market, first_name="Erika", last_name=f"Kunde{number}",
                street="Hauptstraße 1", email=f"k{number}@example.com", **extra,
            ),
            metadata=staff, timeout=5,
        )  # fmt: skip
    yield stub, factory
    channel.close()
    thread.stop()


def today() -> date:
    return datetime.now(UTC).date()


def trailers(err: pytest.ExceptionInfo[grpc.RpcError]) -> dict[str, str]:
    return dict(err.value.trailing_metadata() or ())


def refused(call, request, md) -> tuple[grpc.StatusCode, str, str]:
    with pytest.raises(grpc.RpcError) as err:
        call(request, metadata=md, timeout=5)
    t = trailers(err)
    return err.value.code(), t.get("error-code", ""), t.get("error-field", "")


def contract(stub, tokens, package_id: str, owner: str = "100", **kw) -> contract_pb2.Contract:
    request = contract_pb2.CreateContractRequest(
        package_id=package_id, customer_number=owner, product="hosting-basic", **kw
    )
    return stub.CreateContract(request, metadata=metadata(tokens.staff()), timeout=5).contract


def invoice(stub, tokens, owner: str = "100", **kw) -> contract_pb2.Invoice:
    request = contract_pb2.CreateInvoiceRequest(customer_number=owner, **kw)
    return stub.CreateInvoice(request, metadata=metadata(tokens.staff()), timeout=5).invoice


# --- master data -----------------------------------------------------------------------------


def test_a_customer_changes_its_address_and_phone_and_clears_its_fax_and_the_rest_stays(server):
    stub, tokens = server
    own = metadata(tokens.customer("100"))
    got = stub.UpdateCustomer(
        contract_pb2.UpdateCustomerRequest(customer_number="200", street="Neue Straße 5", zip="20095",
                                           city="Hamburg", phone="+49 40 123456", fax=""),
        metadata=own, timeout=5,
    ).customer  # fmt: skip
    assert got.customer_number == "100"
    assert (got.street, got.zip, got.city, got.phone, got.fax) == (
        "Neue Straße 5",
        "20095",
        "Hamburg",
        "+4940123456",
        "",
    )
    assert (got.first_name, got.last_name, got.email) == ("Erika", "Kunde100", "k100@example.com")
    again = stub.GetCustomer(contract_pb2.GetCustomerRequest(), metadata=own, timeout=5).customer
    assert (again.city, again.fax, again.mobile) == ("Hamburg", "", "")
    other = stub.GetCustomer(
        contract_pb2.GetCustomerRequest(customer_number="200"), metadata=metadata(tokens.staff()), timeout=5
    ).customer
    assert other.city == "München"


def test_staff_changes_the_master_data_of_a_named_number(server):
    stub, tokens = server
    got = stub.UpdateCustomer(
        contract_pb2.UpdateCustomerRequest(customer_number="300", email="New@Example.co.uk"),
        metadata=metadata(tokens.staff()), timeout=5,
    ).customer  # fmt: skip
    assert (got.customer_number, got.email) == ("300", "New@example.co.uk")


def test_an_invalid_field_names_the_field_and_saves_nothing(server):
    stub, tokens = server
    own = metadata(tokens.customer("100"))
    request = contract_pb2.UpdateCustomerRequest(city="Hamburg", zip="#1")
    assert refused(stub.UpdateCustomer, request, own) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid_input",
        "zip",
    )
    # Well formed, but no German postcode (the stored country): a conflict with the record.
    request = contract_pb2.UpdateCustomerRequest(city="Hamburg", zip="2009")
    assert refused(stub.UpdateCustomer, request, own) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "postcode_not_in_country",
        "zip",
    )
    assert refused(stub.UpdateCustomer, contract_pb2.UpdateCustomerRequest(email=""), own)[2] == "email"
    assert refused(stub.UpdateCustomer, contract_pb2.UpdateCustomerRequest(mobile="12"), own)[2] == "mobile"
    got = stub.GetCustomer(contract_pb2.GetCustomerRequest(), metadata=own, timeout=5).customer
    assert (got.city, got.zip) == ("Berlin", "10115")


def test_changing_the_name_or_company_needs_the_written_form(server):
    stub, tokens = server
    own = metadata(tokens.customer("100"))
    for request, field in (
        (contract_pb2.UpdateCustomerRequest(last_name="Anders", city="Hamburg"), "last_name"),
        (contract_pb2.UpdateCustomerRequest(first_name="Max"), "first_name"),
        (contract_pb2.UpdateCustomerRequest(company="Neu GmbH"), "company"),
    ):
        assert refused(stub.UpdateCustomer, request, own) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "written_form_required",
            field,
        )
    got = stub.GetCustomer(contract_pb2.GetCustomerRequest(), metadata=own, timeout=5).customer
    assert (got.last_name, got.city) == ("Kunde100", "Berlin")
    # Even the unchanged name sent along with an address change is refused (the same request,
    # the same answer), and nothing is saved.
    same = contract_pb2.UpdateCustomerRequest(last_name="Kunde100", city="Potsdam", zip="14467")
    assert refused(stub.UpdateCustomer, same, own) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "written_form_required",
        "last_name",
    )
    assert (
        stub.GetCustomer(contract_pb2.GetCustomerRequest(), metadata=own, timeout=5).customer.city == "Berlin"
    )


def test_a_card_number_is_refused_in_every_payment_field_and_never_stored_or_logged(server, caplog):
    stub, tokens = server
    caplog.set_level(logging.DEBUG)
    own = metadata(tokens.customer("100"))
    for payment, field in (
        (
            contract_pb2.PaymentInput(
                card_token="4111 1111 1111 1111", card_last4="1111", card_expiry="12/30"
            ),
            "card_token",
        ),
        (
            contract_pb2.PaymentInput(
                card_token="tok_4111111111111111", card_last4="1111", card_expiry="12/30"
            ),
            "card_token",
        ),
        (contract_pb2.PaymentInput(iban="4111-1111-1111-1111"), "iban"),
        (
            contract_pb2.PaymentInput(
                card_token="tok_ok_123", card_last4="4111111111111111", card_expiry="12/30"
            ),
            "card_last4",
        ),
    ):
        with pytest.raises(grpc.RpcError) as err:
            stub.SetPayment(contract_pb2.SetPaymentRequest(payment=payment), metadata=own, timeout=5)
        assert (trailers(err)["error-code"], trailers(err)["error-field"]) == ("card_number_refused", field)
        assert "4111" not in err.value.details()
    got = stub.GetCustomer(contract_pb2.GetCustomerRequest(), metadata=own, timeout=5).customer
    assert got.payment.method == contract_pb2.PAYMENT_METHOD_UNSPECIFIED
    assert "4111" not in caplog.text


# --- contracts -------------------------------------------------------------------------------


def test_staff_creates_the_contract_of_a_package_once_and_the_customer_lists_its_own(server):
    stub, tokens = server
    first = contract(stub, tokens, "pkg_1", start_date="2025-03-31")
    assert (first.term_months, first.status, first.start_date) == (
        12,
        contract_pb2.CONTRACT_STATUS_ACTIVE,
        "2025-03-31",
    )
    assert first.current_term_end == current_term_end(date(2025, 3, 31), 12, today=today()).isoformat()
    assert contract(stub, tokens, "pkg_1").id == first.id
    assert refused(stub.CreateContract, contract_pb2.CreateContractRequest(package_id="pkg_1", customer_number="200", product="hosting-basic"),
                   metadata(tokens.staff())) == (grpc.StatusCode.ALREADY_EXISTS, "contract_exists", "package_id")  # fmt: skip
    contract(stub, tokens, "pkg_2", owner="200", term_months=24)
    mine = stub.ListContracts(
        contract_pb2.ListContractsRequest(customer_number="200"),
        metadata=metadata(tokens.customer("100")),
        timeout=5,
    )
    assert [c.package_id for c in mine.contracts] == ["pkg_1"]
    by_staff = stub.ListContracts(
        contract_pb2.ListContractsRequest(customer_number="200"), metadata=metadata(tokens.staff()), timeout=5
    )
    assert [(c.package_id, c.term_months) for c in by_staff.contracts] == [("pkg_2", 24)]
    assert refused(stub.CreateContract, contract_pb2.CreateContractRequest(package_id="pkg_3", customer_number="100", product="hosting-basic"),
                   metadata(tokens.customer("100")))[0] == grpc.StatusCode.PERMISSION_DENIED  # fmt: skip
    assert refused(stub.CreateContract, contract_pb2.CreateContractRequest(package_id="pkg_3", customer_number="100", product="x", term_months=200),
                   metadata(tokens.staff()))[2] == "term_months"  # fmt: skip


# --- invoices ----------------------------------------------------------------------------------


def test_the_invoice_pdf_shows_number_address_net_vat_and_gross(server):
    stub, tokens = server
    inv = invoice(stub, tokens, amount_cents=11900, date="2026-02-01")
    doc = stub.GetInvoicePdf(
        contract_pb2.GetInvoicePdfRequest(number=inv.number),
        metadata=metadata(tokens.customer("100")),
        timeout=5,
    ).document
    assert (doc.filename, doc.content_type) == (f"{inv.number}.pdf", "application/pdf")
    assert doc.content.startswith(b"%PDF")
    text = pdf_text(doc.content)  # customer 100 is in the German market: German words and numbers
    for expected in (f"Rechnung {inv.number}", "Rechnungsdatum 01.02.2026", "Hauptstraße 1", "10115 Berlin",
                     "Hosting-Leistungen 100,00 €", "MwSt. 19 % 19,00 €", "Bruttobetrag 119,00 €"):  # fmt: skip
        assert expected in text, (expected, text)
    uk = invoice(stub, tokens, owner="300", amount_cents=1200)
    doc = stub.GetInvoicePdf(
        contract_pb2.GetInvoicePdfRequest(number=uk.number), metadata=metadata(tokens.staff()), timeout=5
    ).document
    text = pdf_text(doc.content)
    assert "VAT 20% £2.00" in text and "Net amount £10.00" in text and "Gross amount £12.00" in text


def test_a_customer_never_reaches_another_customers_invoice(server):
    stub, tokens = server
    inv = invoice(stub, tokens, owner="200", amount_cents=500)
    other = metadata(tokens.customer("100"))
    assert refused(stub.GetInvoicePdf, contract_pb2.GetInvoicePdfRequest(number=inv.number), other)[:2] == (
        grpc.StatusCode.NOT_FOUND,
        "not_found",
    )
    assert (
        refused(stub.RepeatDebit, contract_pb2.RepeatDebitRequest(number=inv.number), other)[0]
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        refused(stub.GetInvoicePdf, contract_pb2.GetInvoicePdfRequest(number="RE99999999"), other)[0]
        == grpc.StatusCode.NOT_FOUND
    )
    listed = stub.ListInvoices(
        contract_pb2.ListInvoicesRequest(customer_number="200"), metadata=metadata(tokens.staff()), timeout=5
    )
    assert not listed.invoices[0].repeat_debit_requested


def test_a_repeat_debit_of_a_sepa_invoice_waits_for_the_collection_and_shows_in_the_list(server):
    stub, tokens = server
    own = metadata(tokens.customer("100"))
    open_one = invoice(stub, tokens, amount_cents=500)
    paid = invoice(stub, tokens, amount_cents=700, status=contract_pb2.INVOICE_STATUS_PAID)
    assert refused(stub.RepeatDebit, contract_pb2.RepeatDebitRequest(number=open_one.number), own)[:2] == (
        grpc.StatusCode.FAILED_PRECONDITION, "no_payment_method",
    )  # fmt: skip
    sepa = contract_pb2.PaymentInput(iban="DE89370400440532013000", bic="COBADEFFXXX")
    stub.SetPayment(contract_pb2.SetPaymentRequest(payment=sepa), metadata=own, timeout=5)
    debit = stub.RepeatDebit(contract_pb2.RepeatDebitRequest(number=open_one.number), metadata=own, timeout=5)
    assert (debit.invoice_number, debit.status) == (
        open_one.number,
        contract_pb2.DEBIT_REQUEST_STATUS_REQUESTED,
    )
    assert debit.HasField("requested_at")
    again = stub.RepeatDebit(contract_pb2.RepeatDebitRequest(number=open_one.number), metadata=own, timeout=5)
    assert again.requested_at == debit.requested_at
    assert refused(stub.RepeatDebit, contract_pb2.RepeatDebitRequest(number=paid.number), own)[:2] == (
        grpc.StatusCode.FAILED_PRECONDITION, "invoice_not_open",
    )  # fmt: skip
    listed = {
        i.number: i
        for i in stub.ListInvoices(contract_pb2.ListInvoicesRequest(), metadata=own, timeout=5).invoices
    }
    assert listed[open_one.number].status == contract_pb2.INVOICE_STATUS_DEBIT_REQUESTED
    assert listed[open_one.number].repeat_debit_requested and listed[open_one.number].HasField(
        "repeat_debit_requested_at"
    )
    assert not listed[paid.number].repeat_debit_requested
    assert (
        refused(
            stub.RepeatDebit,
            contract_pb2.RepeatDebitRequest(number=open_one.number),
            metadata(tokens.staff()),
        )[0]
        == grpc.StatusCode.PERMISSION_DENIED
    )


def test_staff_collect_a_sepa_debit_download_the_pain008_file_and_record_the_banks_answer(server):
    stub, tokens = server
    own, staff = metadata(tokens.customer("100")), metadata(tokens.staff())
    sepa = contract_pb2.PaymentInput(iban="DE89370400440532013000", bic="COBADEFFXXX")
    stub.SetPayment(contract_pb2.SetPaymentRequest(payment=sepa), metadata=own, timeout=5)
    first, second = invoice(stub, tokens, amount_cents=11900), invoice(stub, tokens, amount_cents=500)
    for inv in (first, second):
        stub.RepeatDebit(contract_pb2.RepeatDebitRequest(number=inv.number), metadata=own, timeout=5)
    assert refused(stub.CreateDirectDebitCollection, contract_pb2.CreateDirectDebitCollectionRequest(), own)[
        0
    ] == (grpc.StatusCode.PERMISSION_DENIED)
    made = stub.CreateDirectDebitCollection(
        contract_pb2.CreateDirectDebitCollectionRequest(), metadata=staff, timeout=5
    )
    items = {i.invoice_number: i for i in made.collection.items}
    assert set(items) == {first.number, second.number}
    assert (
        items[first.number].iban_masked == "DE89 **** **** **** **30 00"
        and items[first.number].mandate_id == "CC-100"
    )
    assert refused(stub.CreateDirectDebitCollection, contract_pb2.CreateDirectDebitCollectionRequest(), staff)[:2] == (
        grpc.StatusCode.FAILED_PRECONDITION, "nothing_to_collect",
    )  # fmt: skip
    document = stub.GetDirectDebitFile(
        contract_pb2.GetDirectDebitFileRequest(collection_id=made.collection.id), metadata=staff, timeout=10
    ).document
    assert document.content_type == "application/xml" and b"pain.008.001.02" in document.content
    assert first.number.encode() in document.content and b"<CtrlSum>124.00</CtrlSum>" in document.content
    listed = stub.ListDirectDebitCollections(
        contract_pb2.ListDirectDebitCollectionsRequest(), metadata=staff, timeout=5
    )
    assert [c.id for c in listed.collections] == [made.collection.id]

    paid = stub.MarkInvoicePaid(
        contract_pb2.MarkInvoicePaidRequest(number=first.number), metadata=staff, timeout=5
    )
    returned = stub.MarkInvoiceReturned(
        contract_pb2.MarkInvoiceReturnedRequest(number=second.number, reason="AC04 account closed"),
        metadata=staff,
        timeout=5,
    )
    assert paid.invoice.status == contract_pb2.INVOICE_STATUS_PAID
    assert (returned.invoice.status, returned.invoice.return_reason) == (
        contract_pb2.INVOICE_STATUS_OPEN,
        "AC04 account closed",
    )
    mine = {
        i.number: i
        for i in stub.ListInvoices(contract_pb2.ListInvoicesRequest(), metadata=own, timeout=5).invoices
    }
    assert (
        mine[second.number].return_reason == "AC04 account closed"
        and not mine[second.number].repeat_debit_requested
    )


def test_a_customer_sees_and_orders_the_offer_of_its_market_that_staff_set_up(server):
    stub, tokens = server
    staff = metadata(tokens.staff())
    contract(stub, tokens, "pkg_offer", owner="100")
    this_month = today().replace(day=1).isoformat()
    request = contract_pb2.CreateOfferRequest(
        product="hosting-plus", price_cents=499, currency="EUR", markets=[common_pb2.MARKET_DE],
        valid_from=this_month, valid_until=today().isoformat(),
    )  # fmt: skip
    offer = stub.CreateOffer(request, metadata=staff, timeout=5).offer
    assert (offer.product, list(offer.markets)) == ("hosting-plus", [common_pb2.MARKET_DE])
    german = stub.ListCurrentOffers(
        contract_pb2.ListCurrentOffersRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    )
    british = stub.ListCurrentOffers(
        contract_pb2.ListCurrentOffersRequest(), metadata=metadata(tokens.customer("300")), timeout=5
    )
    assert [o.id for o in german.offers] == [offer.id] and list(british.offers) == []
    order = stub.OrderOffer(contract_pb2.OrderOfferRequest(offer_id=offer.id, package_id="pkg_offer"),
                            metadata=metadata(tokens.customer("100")), timeout=5)  # fmt: skip
    assert (order.product, order.price_cents) == ("hosting-plus", 499)
    assert refused(stub.OrderOffer, contract_pb2.OrderOfferRequest(offer_id=offer.id, package_id="pkg_offer"),
                   metadata(tokens.customer("300")))[0] == grpc.StatusCode.NOT_FOUND  # fmt: skip
    wrong = contract_pb2.CreateOfferRequest(product="hosting-plus", price_cents=499, currency="GBP",
                                            markets=[common_pb2.MARKET_DE], valid_from=this_month, valid_until=this_month)  # fmt: skip
    assert refused(stub.CreateOffer, wrong, staff)[:3] == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid_input",
        "currency",
    )


def test_a_customer_and_a_package_login_write_to_the_service_team_who_read_it(server):
    stub, tokens = server
    staff = metadata(tokens.staff())
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    written = stub.CreateContactRequest(
        contract_pb2.CreateContactRequestRequest(subject="Signed form", message="Attached.", filename="form.pdf", attachment=pdf),
        metadata=metadata(tokens.customer("100")), timeout=5,
    ).request  # fmt: skip
    stub.CreateContactRequest(contract_pb2.CreateContactRequestRequest(subject="Hello", message="A question"),
                              metadata=metadata(tokens.package("pkg_9")), timeout=5)  # fmt: skip
    listed = stub.ListContactRequests(
        contract_pb2.ListContactRequestsRequest(), metadata=staff, timeout=5
    ).requests
    assert [(r.customer_number, r.package_id) for r in listed] == [("", "pkg_9"), ("100", "")]
    got = stub.GetContactAttachment(
        contract_pb2.GetContactAttachmentRequest(request_id=written.id), metadata=staff, timeout=5
    )
    assert (got.document.filename, got.document.content) == ("form.pdf", pdf)
    bad = contract_pb2.CreateContactRequestRequest(subject="x", message="y", attachment=b"not a pdf")
    assert refused(stub.CreateContactRequest, bad, metadata(tokens.customer("100")))[1:] == (
        "invalid_input",
        "file",
    )
    assert refused(
        stub.ListContactRequests, contract_pb2.ListContactRequestsRequest(), metadata(tokens.customer("100"))
    )[0] == (grpc.StatusCode.PERMISSION_DENIED)


# --- terminations ------------------------------------------------------------------------------


def test_a_customer_terminates_its_package_at_the_end_of_the_term_and_retracts_it(server):
    stub, tokens = server
    own = metadata(tokens.customer("100"))
    c = contract(stub, tokens, "pkg_1", start_date="2024-05-20")
    made = stub.CreateTermination(
        contract_pb2.CreateTerminationRequest(package_id="pkg_1"), metadata=own, timeout=5
    ).termination
    expected = current_term_end(date(2024, 5, 20), 12, today=today())
    assert (made.effective_date, made.status, made.contract_id, made.product, made.domain) == (
        expected.isoformat(),
        contract_pb2.TERMINATION_STATUS_OPEN if expected > today() else contract_pb2.TERMINATION_STATUS_EFFECTIVE,
        c.id, "hosting-basic", "",
    )  # fmt: skip
    assert refused(stub.CreateTermination, contract_pb2.CreateTerminationRequest(package_id="pkg_1"), own)[:2] == (
        grpc.StatusCode.FAILED_PRECONDITION, "already_terminated",
    )  # fmt: skip
    assert (
        refused(
            stub.CreateTermination,
            contract_pb2.CreateTerminationRequest(package_id="pkg_1", domain="example.com"),
            own,
        )[1]
        == "already_terminated"
    )
    if expected > today():
        retracted = stub.RetractTermination(
            contract_pb2.RetractTerminationRequest(id=made.id), metadata=own, timeout=5
        ).termination
        assert (retracted.status, retracted.HasField("retracted_at")) == (
            contract_pb2.TERMINATION_STATUS_RETRACTED,
            True,
        )
        again = stub.CreateTermination(
            contract_pb2.CreateTerminationRequest(package_id="pkg_1"), metadata=own, timeout=5
        ).termination
        assert again.id != made.id
    listed = stub.ListTerminations(contract_pb2.ListTerminationsRequest(), metadata=own, timeout=5)
    assert made.id in [t.id for t in listed.terminations]


def test_a_domain_termination_records_the_domain_and_a_second_one_is_refused(server):
    stub, tokens = server
    own = metadata(tokens.customer("100"))
    contract(stub, tokens, "pkg_1")
    made = stub.CreateTermination(
        contract_pb2.CreateTerminationRequest(package_id="pkg_1", domain="Shop.Example.COM."),
        metadata=own,
        timeout=5,
    ).termination
    assert made.domain == "shop.example.com"
    assert (
        refused(
            stub.CreateTermination,
            contract_pb2.CreateTerminationRequest(package_id="pkg_1", domain="shop.example.com"),
            own,
        )[1]
        == "already_terminated"
    )
    other = stub.CreateTermination(
        contract_pb2.CreateTerminationRequest(package_id="pkg_1", domain="other.example.com"),
        metadata=own,
        timeout=5,
    ).termination
    whole = stub.CreateTermination(
        contract_pb2.CreateTerminationRequest(package_id="pkg_1"), metadata=own, timeout=5
    ).termination
    assert len({made.id, other.id, whole.id}) == 3
    assert (
        refused(
            stub.CreateTermination,
            contract_pb2.CreateTerminationRequest(package_id="pkg_1", domain="not a domain"),
            own,
        )[2]
        == "domain"
    )


def test_a_termination_cannot_be_retracted_from_its_effective_date_on(server):
    stub, tokens = server
    own = metadata(tokens.customer("100"))
    # A start date whose current term ends today.
    start = next(
        today() - timedelta(days=d)
        for d in range(300, 400)
        if current_term_end(today() - timedelta(days=d), 12, today=today()) == today()
    )
    contract(stub, tokens, "pkg_1", start_date=start.isoformat())
    made = stub.CreateTermination(
        contract_pb2.CreateTerminationRequest(package_id="pkg_1"), metadata=own, timeout=5
    ).termination
    assert (made.effective_date, made.status) == (
        today().isoformat(),
        contract_pb2.TERMINATION_STATUS_EFFECTIVE,
    )
    assert refused(stub.RetractTermination, contract_pb2.RetractTerminationRequest(id=made.id), own)[:2] == (
        grpc.StatusCode.FAILED_PRECONDITION, "termination_effective",
    )  # fmt: skip


def test_a_customer_never_reaches_another_customers_package_or_termination(server):
    stub, tokens = server
    contract(stub, tokens, "pkg_2", owner="200")
    theirs = stub.CreateTermination(
        contract_pb2.CreateTerminationRequest(package_id="pkg_2"),
        metadata=metadata(tokens.customer("200")),
        timeout=5,
    ).termination
    me = metadata(tokens.customer("100"))
    assert (
        refused(stub.CreateTermination, contract_pb2.CreateTerminationRequest(package_id="pkg_2"), me)[0]
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        refused(stub.CreateTermination, contract_pb2.CreateTerminationRequest(package_id="pkg_none"), me)[0]
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        refused(stub.RetractTermination, contract_pb2.RetractTerminationRequest(id=theirs.id), me)[0]
        == grpc.StatusCode.NOT_FOUND
    )
    listed = stub.ListTerminations(
        contract_pb2.ListTerminationsRequest(customer_number="200"), metadata=me, timeout=5
    )
    assert list(listed.terminations) == []
    assert refused(stub.CreateTermination, contract_pb2.CreateTerminationRequest(package_id="pkg_2"),
                   metadata(tokens.staff()))[0] == grpc.StatusCode.PERMISSION_DENIED  # fmt: skip
    still = stub.ListTerminations(
        contract_pb2.ListTerminationsRequest(customer_number="200"),
        metadata=metadata(tokens.staff()),
        timeout=5,
    )
    assert [t.status for t in still.terminations] == [contract_pb2.TERMINATION_STATUS_OPEN]


def test_a_frozen_customer_cannot_terminate(server):
    stub, tokens = server
    contract(stub, tokens, "pkg_1")
    stub.SetCustomerStatus(
        contract_pb2.ContractServiceSetCustomerStatusRequest(merge_id="mrg_1", customer_numbers=["100"], status=common_pb2.CUSTOMER_STATUS_FROZEN),
        metadata=metadata(tokens.service("merge")), timeout=5,
    )  # fmt: skip
    assert refused(stub.CreateTermination, contract_pb2.CreateTerminationRequest(package_id="pkg_1"),
                   metadata(tokens.customer("100")))[1] == "customer_not_active"  # fmt: skip


# --- forms -------------------------------------------------------------------------------------


def test_the_forms_list_has_the_written_ones_with_a_pdf_and_the_online_ones_with_their_endpoint(server):
    stub, tokens = server
    forms = stub.ListForms(
        contract_pb2.ListFormsRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    ).forms
    written = {f.id for f in forms if f.mode == contract_pb2.FORM_MODE_WRITTEN and f.has_pdf}
    online = {f.id: f.endpoint for f in forms if f.mode == contract_pb2.FORM_MODE_ONLINE}
    assert written == {"contract_transfer", "domain_holder_change", "domain_transfer"}
    assert online["link_customer_numbers"] == "POST /api/v1/merges"
    assert online["termination"] == "POST /api/v1/terminations"
    assert {"downgrade", "package_splitting"} <= set(online)
    assert all(f.title for f in forms)


def test_a_written_form_is_a_printable_pdf_with_a_signature_line(server):
    stub, tokens = server
    doc = stub.GetFormPdf(
        contract_pb2.GetFormPdfRequest(form_id="contract_transfer"),
        metadata=metadata(tokens.customer("100")),
        timeout=5,
    ).document
    assert doc.content.startswith(b"%PDF") and doc.filename == "contract_transfer.pdf"
    text = pdf_text(doc.content)  # customer 100 is in the German market
    assert "Ort, Datum, Unterschrift: Bisheriger Vertragspartner" in text
    assert "Bisheriger Vertragspartner: Kundennummer\n100\n" in text
    blank = stub.GetFormPdf(
        contract_pb2.GetFormPdfRequest(form_id="domain_holder_change"),
        metadata=metadata(tokens.staff()),
        timeout=5,
    ).document
    assert blank.content.startswith(b"%PDF") and "Domain" in pdf_text(blank.content)
    for form_id in ("termination", "nonsense"):
        assert (
            refused(
                stub.GetFormPdf, contract_pb2.GetFormPdfRequest(form_id=form_id), metadata(tokens.staff())
            )[0]
            == grpc.StatusCode.NOT_FOUND
        )


# --- who may call ------------------------------------------------------------------------------


def test_a_package_token_gets_permission_denied_on_every_rpc_but_writing_to_the_service_team(server):
    stub, tokens = server
    package = metadata(tokens.package("pkg_1"))
    service = contract_pb2.DESCRIPTOR.services_by_name["ContractService"]
    assert len(service.methods) >= 18
    for method in service.methods:
        if method.name == "CreateContactRequest":  # a package login may write (without a customer number)
            continue
        request = GetMessageClass(method.input_type)()
        with pytest.raises(grpc.RpcError) as err:
            getattr(stub, method.name)(request, metadata=package, timeout=5)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, method.name
