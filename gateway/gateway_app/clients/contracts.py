"""contract-service: customer records, payment data, contracts, invoices, terminations, forms.

Each function returns the resource its RPC's <Rpc>Response carries (a Customer, a Document...)."""

from __future__ import annotations

from cc_common.errors import NotFound
from cc_common.protoconv import enum_value
from customercenter.v2 import contract_pb2, contract_pb2_grpc

from gateway_app.backends import Backend, current_backends
from gateway_app.schemas import MAX_OPAQUE_ID

MAX_INVOICE_NUMBER = 64
NO_TERMINATION = "There is no termination with this id under your customer number."


def _contract() -> Backend[contract_pb2_grpc.ContractServiceStub]:
    return current_backends().contract


def get_customer(customer_number: str = "", *, token: str | None = None) -> contract_pb2.Customer:
    """The record of `customer_number`, or with a customer token (and no number) the caller's own."""
    request = contract_pb2.GetCustomerRequest(customer_number=customer_number)
    return _contract().invoke(_contract().stub.GetCustomer, request, token=token).customer


def create_customer(request: contract_pb2.CreateCustomerRequest, *, token: str) -> contract_pb2.Customer:
    return _contract().invoke(_contract().stub.CreateCustomer, request, token=token).customer


def update_customer(changes: dict[str, str], *, token: str) -> contract_pb2.Customer:
    request = contract_pb2.UpdateCustomerRequest(**changes)
    return _contract().invoke(_contract().stub.UpdateCustomer, request, token=token).customer


def restore_customer_email(link_token: str) -> contract_pb2.Customer:
    request = contract_pb2.RestoreCustomerEmailRequest(token=link_token)
    return _contract().invoke(_contract().stub.RestoreCustomerEmail, request).customer


def set_payment(payment: dict[str, str], *, token: str) -> contract_pb2.Customer:
    request = contract_pb2.SetPaymentRequest(payment=contract_pb2.PaymentInput(**payment))
    return _contract().invoke(_contract().stub.SetPayment, request, token=token).customer


def create_contract(
    package_id: str, customer_number: str, product: str, *, token: str | None = None
) -> contract_pb2.Contract:
    request = contract_pb2.CreateContractRequest(
        package_id=package_id, customer_number=customer_number, product=product
    )
    return _contract().invoke(_contract().stub.CreateContract, request, token=token).contract


def change_contract_product(
    package_id: str, product: str, customer_number: str
) -> contract_pb2.ChangeContractProductResponse:
    request = contract_pb2.ChangeContractProductRequest(
        package_id=package_id, product=product, customer_number=customer_number
    )
    return _contract().invoke(_contract().stub.ChangeContractProduct, request)


def list_contracts(*, token: str) -> list[contract_pb2.Contract]:
    request = contract_pb2.ListContractsRequest()
    return list(_contract().invoke(_contract().stub.ListContracts, request, token=token).contracts)


# --- invoices ------------------------------------------------------------------------------


def invoice_number_of(number: str) -> str:
    """An absurdly long number cannot exist (404, as contract-service would say)."""
    if not number or len(number) > MAX_INVOICE_NUMBER:
        raise NotFound("There is no invoice with this number under your customer number.")
    return number


def create_invoice(
    customer_number: str, amount_cents: int, *, currency: str, status: str, date: str, token: str
) -> contract_pb2.Invoice:
    request = contract_pb2.CreateInvoiceRequest(
        customer_number=customer_number,
        amount_cents=amount_cents,
        currency=currency,
        status=enum_value(contract_pb2.InvoiceStatus, status),
        date=date,
    )
    return _contract().invoke(_contract().stub.CreateInvoice, request, token=token).invoice


def list_invoices(*, token: str) -> list[contract_pb2.Invoice]:
    request = contract_pb2.ListInvoicesRequest()
    return list(_contract().invoke(_contract().stub.ListInvoices, request, token=token).invoices)


def get_invoice_pdf(number: str, *, token: str) -> contract_pb2.Document:
    request = contract_pb2.GetInvoicePdfRequest(number=invoice_number_of(number))
    return _contract().invoke(_contract().stub.GetInvoicePdf, request, token=token).document


def repeat_debit(number: str, *, token: str) -> contract_pb2.RepeatDebitResponse:
    request = contract_pb2.RepeatDebitRequest(number=invoice_number_of(number))
    return _contract().invoke(_contract().stub.RepeatDebit, request, token=token)


# --- terminations and forms ----------------------------------------------------------------


def termination_id_of(termination_id: str) -> str:
    if not termination_id or len(termination_id) > MAX_OPAQUE_ID:
        raise NotFound(NO_TERMINATION)
    return termination_id


def create_termination(
    package_id: str, domain: str, *, addon_id: str = "", token: str
) -> contract_pb2.Termination:
    request = contract_pb2.CreateTerminationRequest(package_id=package_id, domain=domain, addon_id=addon_id)
    return _contract().invoke(_contract().stub.CreateTermination, request, token=token).termination


def list_terminations(*, token: str) -> list[contract_pb2.Termination]:
    request = contract_pb2.ListTerminationsRequest()
    return list(_contract().invoke(_contract().stub.ListTerminations, request, token=token).terminations)


def retract_termination(termination_id: str, *, token: str) -> contract_pb2.Termination:
    request = contract_pb2.RetractTerminationRequest(id=termination_id_of(termination_id))
    return _contract().invoke(_contract().stub.RetractTermination, request, token=token).termination


def list_forms(*, token: str) -> list[contract_pb2.Form]:
    return list(
        _contract().invoke(_contract().stub.ListForms, contract_pb2.ListFormsRequest(), token=token).forms
    )


def get_form_pdf(form_id: str, *, token: str) -> contract_pb2.Document:
    request = contract_pb2.GetFormPdfRequest(form_id=form_id)
    return _contract().invoke(_contract().stub.GetFormPdf, request, token=token).document


# --- direct debit (staff) ---


def create_direct_debit_collection(*, token: str) -> contract_pb2.DirectDebitCollection:
    request = contract_pb2.CreateDirectDebitCollectionRequest()
    return _contract().invoke(_contract().stub.CreateDirectDebitCollection, request, token=token).collection


def list_direct_debit_collections(*, token: str) -> list[contract_pb2.DirectDebitCollection]:
    request = contract_pb2.ListDirectDebitCollectionsRequest()
    return list(
        _contract().invoke(_contract().stub.ListDirectDebitCollections, request, token=token).collections
    )


def get_direct_debit_file(collection_id: str, *, token: str) -> contract_pb2.Document:
    request = contract_pb2.GetDirectDebitFileRequest(collection_id=collection_id)
    return _contract().invoke(_contract().stub.GetDirectDebitFile, request, token=token).document


def mark_invoice_paid(number: str, *, token: str) -> contract_pb2.Invoice:
    request = contract_pb2.MarkInvoicePaidRequest(number=number)
    return _contract().invoke(_contract().stub.MarkInvoicePaid, request, token=token).invoice


def mark_invoice_returned(number: str, reason: str, *, token: str) -> contract_pb2.Invoice:
    request = contract_pb2.MarkInvoiceReturnedRequest(number=number, reason=reason)
    return _contract().invoke(_contract().stub.MarkInvoiceReturned, request, token=token).invoice


# --- offers of the month ---


def create_offer(request: contract_pb2.CreateOfferRequest, *, token: str) -> contract_pb2.Offer:
    return _contract().invoke(_contract().stub.CreateOffer, request, token=token).offer


def list_offers(*, token: str) -> list[contract_pb2.Offer]:
    """Every offer (staff)."""
    return list(
        _contract().invoke(_contract().stub.ListOffers, contract_pb2.ListOffersRequest(), token=token).offers
    )


def list_current_offers(*, token: str) -> list[contract_pb2.Offer]:
    """The offers valid today for the calling customer's market."""
    request = contract_pb2.ListCurrentOffersRequest()
    return list(_contract().invoke(_contract().stub.ListCurrentOffers, request, token=token).offers)


def order_offer(offer_id: str, package_id: str, *, token: str) -> contract_pb2.OrderOfferResponse:
    request = contract_pb2.OrderOfferRequest(offer_id=offer_id, package_id=package_id)
    return _contract().invoke(_contract().stub.OrderOffer, request, token=token)


# --- contact requests ---


def create_contact_request(
    subject: str, message: str, *, filename: str = "", attachment: bytes = b"", token: str
) -> contract_pb2.ContactRequest:
    request = contract_pb2.CreateContactRequestRequest(
        subject=subject, message=message, filename=filename, attachment=attachment
    )
    return _contract().invoke(_contract().stub.CreateContactRequest, request, token=token).request


def list_contact_requests(*, token: str) -> list[contract_pb2.ContactRequest]:
    request = contract_pb2.ListContactRequestsRequest()
    return list(_contract().invoke(_contract().stub.ListContactRequests, request, token=token).requests)


def get_contact_attachment(request_id: str, *, token: str) -> contract_pb2.Document:
    request = contract_pb2.GetContactAttachmentRequest(request_id=request_id)
    return _contract().invoke(_contract().stub.GetContactAttachment, request, token=token).document


def answer_contact_request(request_id: str, message: str, *, token: str) -> contract_pb2.ContactRequest:
    request = contract_pb2.AnswerContactRequestRequest(request_id=request_id, message=message)
    return _contract().invoke(_contract().stub.AnswerContactRequest, request, token=token).request


def list_customer_records(*, token: str) -> contract_pb2.ListCustomerRecordsResponse:
    """The caller's repeat-debit requests, offer orders and contact requests (the export)."""
    request = contract_pb2.ListCustomerRecordsRequest()
    return _contract().invoke(_contract().stub.ListCustomerRecords, request, token=token)
