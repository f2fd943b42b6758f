"""contract-service: customer records, payment data, contracts, invoices, terminations, forms,
direct debits, offers and contact requests."""

from __future__ import annotations

from cc_common.protoconv import enum_value
from customercenter.v2 import contract_pb2 as pb
from customercenter.v2 import contract_pb2_grpc
from grpc import UnaryUnaryMultiCallable as Rpc

from gateway_app.backends import Q, R, current_backends, known_id

MAX_INVOICE_NUMBER = 64
NO_INVOICE = "There is no invoice with this number under your customer number."
NO_TERMINATION = "There is no termination with this id under your customer number."


def _stub() -> contract_pb2_grpc.ContractServiceStub:
    return current_backends().contract.stub


def _call(method: Rpc[Q, R], request: Q, token: str | None = None) -> R:
    return current_backends().contract.invoke(method, request, token=token)


def get_customer(customer_number: str = "", *, token: str | None = None) -> pb.Customer:
    """The record of `customer_number`, or with a customer token (and no number) the caller's own."""
    return _call(_stub().GetCustomer, pb.GetCustomerRequest(customer_number=customer_number), token).customer


def create_customer(request: pb.CreateCustomerRequest, *, token: str) -> pb.Customer:
    return _call(_stub().CreateCustomer, request, token).customer


def update_customer(changes: dict[str, str], *, token: str) -> pb.Customer:
    return _call(_stub().UpdateCustomer, pb.UpdateCustomerRequest(**changes), token).customer


def restore_customer_email(link_token: str) -> pb.Customer:
    return _call(_stub().RestoreCustomerEmail, pb.RestoreCustomerEmailRequest(token=link_token)).customer


def set_payment(payment: dict[str, str], *, token: str) -> pb.Customer:
    return _call(_stub().SetPayment, pb.SetPaymentRequest(payment=pb.PaymentInput(**payment)), token).customer


def create_contract(
    package_id: str, customer_number: str, product: str, *, token: str | None = None
) -> pb.Contract:
    request = pb.CreateContractRequest(
        package_id=package_id, customer_number=customer_number, product=product
    )
    return _call(_stub().CreateContract, request, token).contract


def change_contract_product(
    package_id: str, product: str, customer_number: str
) -> pb.ChangeContractProductResponse:
    request = pb.ChangeContractProductRequest(
        package_id=package_id, product=product, customer_number=customer_number
    )
    return _call(_stub().ChangeContractProduct, request)


def list_contracts(*, token: str) -> list[pb.Contract]:
    return list(_call(_stub().ListContracts, pb.ListContractsRequest(), token).contracts)


# --- invoices ------------------------------------------------------------------------------


def _invoice_number(number: str) -> str:
    return known_id(number, NO_INVOICE, MAX_INVOICE_NUMBER)


def create_invoice(
    customer_number: str, amount_cents: int, *, currency: str, status: str, date: str, token: str
) -> pb.Invoice:
    request = pb.CreateInvoiceRequest(
        customer_number=customer_number,
        amount_cents=amount_cents,
        currency=currency,
        status=enum_value(pb.InvoiceStatus, status),
        date=date,
    )
    return _call(_stub().CreateInvoice, request, token).invoice


def list_invoices(*, token: str) -> list[pb.Invoice]:
    return list(_call(_stub().ListInvoices, pb.ListInvoicesRequest(), token).invoices)


def get_invoice_pdf(number: str, *, token: str) -> pb.Document:
    request = pb.GetInvoicePdfRequest(number=_invoice_number(number))
    return _call(_stub().GetInvoicePdf, request, token).document


def repeat_debit(number: str, *, token: str) -> pb.RepeatDebitResponse:
    return _call(_stub().RepeatDebit, pb.RepeatDebitRequest(number=_invoice_number(number)), token)


# --- terminations and forms ----------------------------------------------------------------


def termination_id_of(termination_id: str) -> str:
    return known_id(termination_id, NO_TERMINATION)


def create_termination(package_id: str, domain: str, *, addon_id: str = "", token: str) -> pb.Termination:
    request = pb.CreateTerminationRequest(package_id=package_id, domain=domain, addon_id=addon_id)
    return _call(_stub().CreateTermination, request, token).termination


def list_terminations(*, token: str) -> list[pb.Termination]:
    return list(_call(_stub().ListTerminations, pb.ListTerminationsRequest(), token).terminations)


def retract_termination(termination_id: str, *, token: str) -> pb.Termination:
    request = pb.RetractTerminationRequest(id=termination_id_of(termination_id))
    return _call(_stub().RetractTermination, request, token).termination


def list_forms(*, token: str) -> list[pb.Form]:
    return list(_call(_stub().ListForms, pb.ListFormsRequest(), token).forms)


def get_form_pdf(form_id: str, *, token: str) -> pb.Document:
    return _call(_stub().GetFormPdf, pb.GetFormPdfRequest(form_id=form_id), token).document


# --- direct debit (staff) ---


def create_direct_debit_collection(*, token: str) -> pb.DirectDebitCollection:
    request = pb.CreateDirectDebitCollectionRequest()
    return _call(_stub().CreateDirectDebitCollection, request, token).collection


def list_direct_debit_collections(*, token: str) -> list[pb.DirectDebitCollection]:
    request = pb.ListDirectDebitCollectionsRequest()
    return list(_call(_stub().ListDirectDebitCollections, request, token).collections)


def get_direct_debit_file(collection_id: str, *, token: str) -> pb.Document:
    request = pb.GetDirectDebitFileRequest(collection_id=collection_id)
    return _call(_stub().GetDirectDebitFile, request, token).document


def mark_invoice_paid(number: str, *, token: str) -> pb.Invoice:
    return _call(
        _stub().MarkInvoicePaid, pb.MarkInvoicePaidRequest(number=_invoice_number(number)), token
    ).invoice


def mark_invoice_returned(number: str, reason: str, *, token: str) -> pb.Invoice:
    request = pb.MarkInvoiceReturnedRequest(number=_invoice_number(number), reason=reason)
    return _call(_stub().MarkInvoiceReturned, request, token).invoice


# --- offers of the month ---


def create_offer(request: pb.CreateOfferRequest, *, token: str) -> pb.Offer:
    return _call(_stub().CreateOffer, request, token).offer


def list_offers(*, token: str) -> list[pb.Offer]:
    """Every offer (staff)."""
    return list(_call(_stub().ListOffers, pb.ListOffersRequest(), token).offers)


def list_current_offers(*, token: str) -> list[pb.Offer]:
    """The offers valid today for the calling customer's market."""
    return list(_call(_stub().ListCurrentOffers, pb.ListCurrentOffersRequest(), token).offers)


def order_offer(offer_id: str, package_id: str, *, token: str) -> pb.OrderOfferResponse:
    return _call(_stub().OrderOffer, pb.OrderOfferRequest(offer_id=offer_id, package_id=package_id), token)


# --- contact requests ---


def create_contact_request(
    subject: str, message: str, *, filename: str = "", attachment: bytes = b"", token: str
) -> pb.ContactRequest:
    request = pb.CreateContactRequestRequest(
        subject=subject, message=message, filename=filename, attachment=attachment
    )
    return _call(_stub().CreateContactRequest, request, token).request


def list_contact_requests(*, token: str) -> list[pb.ContactRequest]:
    return list(_call(_stub().ListContactRequests, pb.ListContactRequestsRequest(), token).requests)


def get_contact_attachment(request_id: str, *, token: str) -> pb.Document:
    request = pb.GetContactAttachmentRequest(request_id=request_id)
    return _call(_stub().GetContactAttachment, request, token).document


def answer_contact_request(request_id: str, message: str, *, token: str) -> pb.ContactRequest:
    request = pb.AnswerContactRequestRequest(request_id=request_id, message=message)
    return _call(_stub().AnswerContactRequest, request, token).request


def list_customer_records(*, token: str) -> pb.ListCustomerRecordsResponse:
    """The caller's repeat-debit requests, offer orders and contact requests (the export)."""
    return _call(_stub().ListCustomerRecords, pb.ListCustomerRecordsRequest(), token)
