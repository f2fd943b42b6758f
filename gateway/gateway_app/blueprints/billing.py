"""Offers of the month and contact requests (customer, package) and, for the service team,
offers, SEPA direct debit collections, the bank's answers and the contact requests
(docs/billing.md). contract-service owns all of it; ordering an offer changes the package in
package-service first (the source of truth), then the contract follows."""

from __future__ import annotations

from customercenter.v2 import contract_pb2, package_pb2
from flask import Blueprint, Response, request

from gateway_app import use_cases
from gateway_app.api import INVOICE, PDF, XML, Api, Param
from gateway_app.clients import contracts
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
from gateway_app.schemas.invoices import Invoice
from gateway_app.schemas.packages import Package
from gateway_app.security import current_token

bp = Blueprint("billing", __name__)
NO_OFFER = "No such offer for the customer this month, or a package that is not the customer's (not_found)"
offers = Api(bp, "offers", "customer", offer_id=Param(OFFER_ID, NO_OFFER))
REQUEST_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$", "description": "e.g. cr_3f2a9c"}
MALFORMED_ID = "A malformed id (invalid_input, field id)"
staff = Api(
    bp,
    "admin",
    "staff",
    collection_id=Param(COLLECTION_ID, "Unknown collection (not_found)", MALFORMED_ID),
    number=INVOICE,
    request_id=Param(REQUEST_ID, "No contact request under this id (not_found)", MALFORMED_ID),
)
CONTACT_FORM = {
    "schema": {
        "type": "object",
        "required": ["subject", "message"],
        "properties": {
            "subject": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": SUBJECT_PATTERN},
            "message": {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": MESSAGE_PATTERN},
            "file": {"type": "string", "format": "binary", "contentMediaType": "application/pdf",
                     "maxLength": use_cases.MAX_ATTACHMENT_BYTES,
                     "description": "optional: a PDF (it begins with %PDF- and has %%EOF in its last 2 KB) of at most 5 MB"},
        },
    },
    "encoding": {"file": {"contentType": "application/pdf"}},
    "example": {"subject": "Signed contract handover", "message": "Please find the signed form attached.",
                "file": "%PDF-1.7 ... (the signed form)"},
}  # fmt: skip
OFFER_PERIOD = (
    "Well-formed days that make no offer: valid_until before valid_from, over already, or more than a year "
    "after valid_from (offer_period_not_possible, field valid_until)"
)


# --- offers of the month and contact requests (customer, package) -------------------------------


@offers.get("/api/v1/offers", {200: OfferList})
def list_offers() -> OfferList:
    """This month's offers for the customer's market"""
    return OfferList(offers=[Offer.of(o) for o in contracts.list_current_offers(token=current_token())])


@offers.post(
    "/api/v1/offers/<offer_id>/order",
    {200: Package},
    errors={
        409: "The package or its contract has ended (package_terminated, contract_not_active)",
        422: "A malformed package id (invalid_input, field package_id)",
    },
)
def order_offer(offer_id: str, body: OfferOrder) -> package_pb2.Package:
    """Order an offer for one of the customer's packages: the package changes to its product"""
    return use_cases.order(offer_id, body.package_id)


@offers.post(
    "/api/v1/contact-requests",
    {201: ContactRequestCreated},
    kinds=("customer", "package"),
    tag="contact",
    multipart=CONTACT_FORM,
    errors={
        413: "The file is larger than 5 MB (payload_too_large)",
        422: "A missing or too long subject or message, or a file that is not a PDF (invalid_input, with field)",
    },
)
def create_contact_request() -> ContactRequestCreated:
    """Write to the service team, optionally with a signed form as a PDF"""
    created = use_cases.send_contact_request(request.form.get("subject", ""), request.form.get("message", ""))
    return ContactRequestCreated(id=created.id)


# --- the service team --------------------------------------------------------------------------


@staff.post(
    "/api/v1/admin/offers",
    {201: OfferCreated},
    errors={409: OFFER_PERIOD, 422: "Invalid input (invalid_input, with field: markets of another currency)"},
)
def create_offer(body: OfferCreate) -> OfferCreated:
    """Set up an offer of the month"""
    return OfferCreated(id=use_cases.create_offer_of_the_month(body).id)


@staff.get("/api/v1/admin/offers", {200: StaffOfferList})
def list_all_offers() -> StaffOfferList:
    """Every offer, the newest first"""
    return StaffOfferList(offers=[StaffOffer.of(o) for o in contracts.list_offers(token=current_token())])


@staff.get("/api/v1/admin/direct-debits", {200: CollectionList})
def list_direct_debits() -> CollectionList:
    """The SEPA direct debit collections, newest first"""
    collections = contracts.list_direct_debit_collections(token=current_token())
    return CollectionList(collections=[Collection.of(c) for c in collections])


@staff.post(
    "/api/v1/admin/direct-debits",
    {201: Collection},
    errors={409: "No invoice is waiting for a direct debit (nothing_to_collect)"},
)
def create_direct_debit() -> Collection:
    """Collect every invoice waiting for a direct debit"""
    return Collection.of(contracts.create_direct_debit_collection(token=current_token()))


@staff.get("/api/v1/admin/direct-debits/<collection_id>/pain008", {200: XML})
def get_direct_debit_file(collection_id: str) -> Response:
    """The collection as a SEPA Core direct debit file (pain.008.001.02)"""
    document = contracts.get_direct_debit_file(collection_id, token=current_token())
    return xml_download(document.content, document.filename)


@staff.post("/api/v1/admin/invoices/<number>/paid", {200: Invoice})
def mark_invoice_paid(number: str) -> contract_pb2.Invoice:
    """The invoice was paid (by the bank's debit or otherwise)"""
    return contracts.mark_invoice_paid(number, token=current_token())


@staff.post(
    "/api/v1/admin/invoices/<number>/returned",
    {200: Invoice},
    errors={409: "No direct debit of this invoice was requested (invoice_not_debited)"},
)
def mark_invoice_returned(number: str, body: ReturnedDebit) -> contract_pb2.Invoice:
    """The bank returned the direct debit: the invoice is open again with the reason"""
    return contracts.mark_invoice_returned(number, body.reason, token=current_token())


@staff.get("/api/v1/admin/contact-requests", {200: ContactRequestList})
def list_contact_requests() -> ContactRequestList:
    """The contact requests, newest first"""
    listed = contracts.list_contact_requests(token=current_token())
    return ContactRequestList(requests=[ContactRequest.of(r) for r in listed])


@staff.get(
    "/api/v1/admin/contact-requests/<request_id>/attachment",
    {200: PDF},
    errors={404: "No contact request with an attachment under this id (not_found)"},
)
def get_contact_attachment(request_id: str) -> Response:
    """The PDF attached to a contact request"""
    document = contracts.get_contact_attachment(request_id, token=current_token())
    return pdf_download(document.content, document.filename)


@staff.post(
    "/api/v1/admin/contact-requests/<request_id>/answer",
    {200: ContactRequest},
    errors={
        409: "Already answered (already_answered), or the customer has no contact e-mail address "
        "(no_contact_address)",
        422: "A missing or too long message, a malformed id (invalid_input, with field)",
    },
)
def answer_contact_request(request_id: str, body: ContactAnswer) -> ContactRequest:
    """Answer a contact request by mail (to the customer's contact address, in the customer's language)"""
    return ContactRequest.of(use_cases.answer_contact(request_id, body.message))
