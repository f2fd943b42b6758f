"""Offers of the month and contact requests (customer, package) and, for the service team,
offers, SEPA direct debit collections, the bank's answers and the contact requests
(docs/billing.md). contract-service owns all of it; ordering an offer changes the package in
package-service first (the source of truth), then the contract follows."""

from __future__ import annotations

from cc_common.errors import NotFound
from customercenter.v2 import contract_pb2, package_pb2
from flask import Blueprint, Response, request

from gateway_app.api import PDF, XML, answer, operation
from gateway_app.clients import contracts, packages
from gateway_app.downloads import pdf_download, xml_download
from gateway_app.schemas.billing import (
    COLLECTION_ID,
    MESSAGE_PATTERN,
    OFFER_ID,
    SUBJECT_PATTERN,
    Collection,
    CollectionList,
    ContactAnswer,
    ContactRequest,
    ContactRequestCreated,
    ContactRequestList,
    Offer,
    OfferCreate,
    OfferCreated,
    OfferList,
    OfferOrder,
    ReturnedDebit,
    StaffOffer,
    StaffOfferList,
)
from gateway_app.schemas.invoices import INVOICE_NUMBER, Invoice
from gateway_app.schemas.packages import Package
from gateway_app.security import current_principal, token_required
from gateway_app.uploads import uploaded_file
from gateway_app.use_cases import create_offer_of_the_month, follow_contract_product, visible_package

bp = Blueprint("billing", __name__)

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
TOO_LARGE = "The file is larger than 5 MB (5242880 bytes). Please attach a smaller scan."
CONTACT_FORM = {
    "schema": {
        "type": "object",
        "required": ["subject", "message"],
        "properties": {
            "subject": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": SUBJECT_PATTERN},
            "message": {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": MESSAGE_PATTERN},
            "file": {"type": "string", "format": "binary", "contentMediaType": "application/pdf",
                     "maxLength": MAX_ATTACHMENT_BYTES,
                     "description": "optional: a PDF (it begins with %PDF- and has %%EOF in its last 2 KB) of at most 5 MB"},
        },
    },
    "encoding": {"file": {"contentType": "application/pdf"}},
    "example": {"subject": "Signed contract handover", "message": "Please find the signed form attached.",
                "file": "%PDF-1.7 ... (the signed form)"},
}  # fmt: skip
REQUEST_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$", "description": "e.g. cr_3f2a9c"}
NO_OFFER = {
    404: "No such offer for the customer this month, or a package that is not the customer's (not_found)"
}
NO_INVOICE = {
    404: "Unknown invoice (not_found)",
    422: "A malformed invoice number (invalid_input, field number)",
}


def _token() -> str:
    return current_principal().token


# --- offers of the month (customer) -----------------------------------------------------------


@bp.get("/api/v1/offers")
@token_required("customer")
@operation("listOffers", "This month's offers for the customer's market", "offers", {200: OfferList})
def list_offers() -> Response:
    return answer(OfferList(offers=[Offer.of(o) for o in contracts.list_current_offers(token=_token())]))


@bp.post("/api/v1/offers/<offer_id>/order")
@token_required("customer")
@operation(
    "orderOffer",
    "Order an offer for one of the customer's packages: the package changes to its product",
    "offers",
    {200: Package},
    body=OfferOrder,
    params={"offer_id": OFFER_ID},
    errors={
        **NO_OFFER,
        409: "The package or its contract has ended (package_terminated, contract_not_active)",
        422: "A malformed package id (invalid_input, field package_id)",
    },
)
def order_offer(offer_id: str, body: OfferOrder) -> Response:
    return answer(Package.from_proto(order(offer_id, body.package_id)))


def order(offer_id: str, package_id: str) -> package_pb2.Package:
    """Orders an offer of the month for one of the customer's packages (the API and the web
    page): package-service changes the package to the offer's product (the source of truth),
    the contract follows, and contract-service records the order with the offer's price."""
    token = _token()
    offer = next((o for o in contracts.list_current_offers(token=token) if o.id == offer_id), None)
    if offer is None:
        raise NotFound("There is no such offer for you this month; GET /api/v1/offers lists them.")
    package = visible_package(package_id)
    if package.product != offer.product:
        change = packages.change_product(package.id, offer.product, expected_direction="", token=token)
        follow_contract_product(change, customer_number=package.customer_number)
        package = change.package
    contracts.order_offer(offer.id, package.id, token=token)
    return package


# --- contact requests (customer, package) ------------------------------------------------------


@bp.post("/api/v1/contact-requests")
@token_required("customer", "package")
@operation(
    "createContactRequest",
    "Write to the service team, optionally with a signed form as a PDF",
    "contact",
    {201: ContactRequestCreated},
    multipart=CONTACT_FORM,
    errors={
        413: "The file is larger than 5 MB (payload_too_large)",
        422: "A missing or too long subject or message, or a file that is not a PDF (invalid_input, with field)",
    },
)
def create_contact_request() -> Response:
    created = send_contact_request(request.form.get("subject", ""), request.form.get("message", ""))
    return answer(ContactRequestCreated(id=created.id), 201)


def send_contact_request(subject: str, message: str) -> contract_pb2.ContactRequest:
    """A contact request of the caller with the request's optional `file` (the API and the
    contact page). Subject and message are checked by contract-service (422 naming the field)."""
    upload = uploaded_file(
        limit=MAX_ATTACHMENT_BYTES, too_large=TOO_LARGE, empty="The file is empty. Please attach a PDF."
    )
    return contracts.create_contact_request(
        subject,
        message,
        filename=upload.filename or "attachment.pdf" if upload else "",
        attachment=upload.content if upload else b"",
        token=_token(),
    )


# --- the service team --------------------------------------------------------------------------


@bp.post("/api/v1/admin/offers")
@token_required("staff")
@operation(
    "createOffer",
    "Set up an offer of the month",
    "admin",
    {201: OfferCreated},
    body=OfferCreate,
    errors={
        409: "Well-formed days that make no offer: valid_until before valid_from, over already, or more "
        "than a year after valid_from (offer_period_not_possible, field valid_until)",
        422: "Invalid input (invalid_input, with field: markets of another currency)",
    },
)
def create_offer(body: OfferCreate) -> Response:
    return answer(OfferCreated(id=create_offer_of_the_month(body).id), 201)


@bp.get("/api/v1/admin/offers")
@token_required("staff")
@operation("listAllOffers", "Every offer, the newest first", "admin", {200: StaffOfferList})
def list_all_offers() -> Response:
    return answer(StaffOfferList(offers=[StaffOffer.of(o) for o in contracts.list_offers(token=_token())]))


@bp.get("/api/v1/admin/direct-debits")
@token_required("staff")
@operation(
    "listDirectDebits", "The SEPA direct debit collections, newest first", "admin", {200: CollectionList}
)
def list_direct_debits() -> Response:
    collections = contracts.list_direct_debit_collections(token=_token())
    return answer(CollectionList(collections=[Collection.of(c) for c in collections]))


@bp.post("/api/v1/admin/direct-debits")
@token_required("staff")
@operation(
    "createDirectDebit",
    "Collect every invoice waiting for a direct debit",
    "admin",
    {201: Collection},
    errors={409: "No invoice is waiting for a direct debit (nothing_to_collect)"},
)
def create_direct_debit() -> Response:
    return answer(Collection.of(contracts.create_direct_debit_collection(token=_token())), 201)


@bp.get("/api/v1/admin/direct-debits/<collection_id>/pain008")
@token_required("staff")
@operation(
    "getDirectDebitFile",
    "The collection as a SEPA Core direct debit file (pain.008.001.02)",
    "admin",
    {200: XML},
    params={"collection_id": COLLECTION_ID},
    errors={
        404: "Unknown collection (not_found)",
        422: "A malformed collection id (invalid_input, field id)",
    },
)
def direct_debit_file(collection_id: str) -> Response:
    document = contracts.get_direct_debit_file(collection_id, token=_token())
    return xml_download(document.content, document.filename)


@bp.post("/api/v1/admin/invoices/<number>/paid")
@token_required("staff")
@operation(
    "markInvoicePaid",
    "The invoice was paid (by the bank's debit or otherwise)",
    "admin",
    {200: Invoice},
    params={"number": INVOICE_NUMBER},
    errors=NO_INVOICE,
)
def mark_paid(number: str) -> Response:
    return answer(Invoice.from_proto(contracts.mark_invoice_paid(number, token=_token())))


@bp.post("/api/v1/admin/invoices/<number>/returned")
@token_required("staff")
@operation(
    "markInvoiceReturned",
    "The bank returned the direct debit: the invoice is open again with the reason",
    "admin",
    {200: Invoice},
    body=ReturnedDebit,
    params={"number": INVOICE_NUMBER},
    errors={**NO_INVOICE, 409: "No direct debit of this invoice was requested (invoice_not_debited)"},
)
def mark_returned(number: str, body: ReturnedDebit) -> Response:
    return answer(Invoice.from_proto(contracts.mark_invoice_returned(number, body.reason, token=_token())))


@bp.get("/api/v1/admin/contact-requests")
@token_required("staff")
@operation("listContactRequests", "The contact requests, newest first", "admin", {200: ContactRequestList})
def list_contact_requests() -> Response:
    listed = contracts.list_contact_requests(token=_token())
    return answer(ContactRequestList(requests=[ContactRequest.of(r) for r in listed]))


@bp.get("/api/v1/admin/contact-requests/<request_id>/attachment")
@token_required("staff")
@operation(
    "getContactAttachment",
    "The PDF attached to a contact request",
    "admin",
    {200: PDF},
    params={"request_id": REQUEST_ID},
    errors={
        404: "No contact request with an attachment under this id (not_found)",
        422: "A malformed id (invalid_input, field id)",
    },
)
def contact_attachment(request_id: str) -> Response:
    document = contracts.get_contact_attachment(request_id, token=_token())
    return pdf_download(document.content, document.filename)


@bp.post("/api/v1/admin/contact-requests/<request_id>/answer")
@token_required("staff")
@operation(
    "answerContactRequest",
    "Answer a contact request by mail (to the customer's contact address, in the customer's language)",
    "admin",
    {200: ContactRequest},
    body=ContactAnswer,
    params={"request_id": REQUEST_ID},
    errors={
        404: "No contact request under this id (not_found)",
        409: "Already answered (already_answered), or the customer has no contact e-mail address "
        "(no_contact_address)",
        422: "A missing or too long message, a malformed id (invalid_input, with field)",
    },
)
def answer_contact_request(request_id: str, body: ContactAnswer) -> Response:
    return answer(ContactRequest.of(answer_contact(request_id, body.message)))


def answer_contact(request_id: str, message: str) -> contract_pb2.ContactRequest:
    """Answers a contact request by mail (the API and the staff page): contract-service marks it
    answered and queues the mail in one transaction."""
    return contracts.answer_contact_request(request_id, message, token=_token())
