"""The customer's own record, payment data, invoices, contracts and forms (customer token).

Everything here is contractual: a package token gets 403 forbidden (the package login
administrates the package technically, but makes no contractual changes:
docs/trust-boundaries.md). contract-service takes the customer number from the forwarded token,
never from a field, so another customer's invoice answers 404.
"""

from __future__ import annotations

from cc_common.errors import InvalidInput, NotFound
from customercenter.v2 import contract_pb2
from flask import Blueprint, Response, url_for

from gateway_app import use_cases
from gateway_app.api import CUSTOMER_NOT_ACTIVE, INVOICE, PDF, THROTTLED, Api, Param
from gateway_app.clients import contracts
from gateway_app.downloads import pdf_download
from gateway_app.schemas.customers import (
    ONLINE_FIELDS,
    Contract,
    ContractList,
    Customer,
    CustomerUpdate,
    EmailRestore,
    Form,
    FormList,
    PaymentUpdate,
)
from gateway_app.schemas.invoices import DebitRequest, Invoice, InvoiceList
from gateway_app.security import current_token

bp = Blueprint("customer", __name__)
MAX_FORM_ID = 64
FORM_ID = {"type": "string", "minLength": 1, "maxLength": MAX_FORM_ID}
api = Api(bp, "customer", "customer", form_id=Param(FORM_ID, "Unknown form, or one done online (not_found)"))
invoices = Api(bp, "invoices", "customer", number=INVOICE)
UPDATE_CONFLICT = (
    "company, first_name or last_name in the body (written_form_required: a contract handover needs the "
    "signed form; nothing is saved), a zip that does not fit the stored country or a country that the "
    "stored zip does not fit (postcode_not_in_country, field zip: give both together), or customer_not_active"
)
UPDATE_INVALID = (
    "Invalid input (invalid_input, with field: also a phone number or e-mail address that is not valid, or a "
    "zip that does not fit the country in the same body), an empty body, or a new email without "
    "current_password (invalid_input, field current_password)"
)
CARD_NUMBER = (
    "Invalid input (invalid_input, with field), or a card number (card_number_refused, field card_token)"
)


@api.get("/api/v1/customer", {200: Customer})
def get_customer() -> contract_pb2.Customer:
    """The customer's master and payment data"""
    return contracts.get_customer(token=current_token())


@api.patch(
    "/api/v1/customer",
    {200: Customer},
    errors={
        401: "A new email with a wrong current_password (invalid_credentials, field current_password)",
        409: UPDATE_CONFLICT,
        422: UPDATE_INVALID,
        **THROTTLED,
    },
)
def update_customer(body: CustomerUpdate) -> contract_pb2.Customer:
    """Change master data online (address, phone and fax numbers, e-mail) and the language of
    mails and PDFs: one record for every package. The old address is told of a new email, with a
    link that puts it back within 7 days"""
    changes = body.changes()
    if not changes:
        raise InvalidInput(
            "Give at least one field to change: " + ", ".join((*ONLINE_FIELDS, "language")) + "."
        )
    return use_cases.change_customer_data(changes, current_password=body.current_password)


@api.post(
    "/api/v1/customer/email-restore",
    {204: "The old address is the contact address again; every token of the customer is dead"},
    kinds=(),  # no login: whoever holds the old mailbox holds the link
    errors={400: "Unknown, used, superseded or expired token (invalid_token)", 409: CUSTOMER_NOT_ACTIVE},
)
def restore_email(body: EmailRestore) -> None:
    """Put back the contact e-mail address an e-mail change replaced, with the token of the link
    mailed to the old address (single use, 7 days); every session of the customer ends"""
    use_cases.restore_email(body.token)


@api.put("/api/v1/customer/payment", {200: Customer}, errors={409: CUSTOMER_NOT_ACTIVE, 422: CARD_NUMBER})
def set_payment(body: PaymentUpdate) -> contract_pb2.Customer:
    """Replace the payment data: a bank account or a card token (never a card number)"""
    # The body holds payment data: it is never logged, and a card number is never forwarded.
    return use_cases.store_payment(body.given())


@invoices.get("/api/v1/invoices", {200: InvoiceList})
def list_invoices() -> InvoiceList:
    """The customer's invoices, newest first"""
    return InvoiceList(
        invoices=[Invoice.from_proto(item) for item in contracts.list_invoices(token=current_token())]
    )


@invoices.get("/api/v1/invoices/<number>/pdf", {200: PDF})
def get_invoice_pdf(number: str) -> Response:
    """Download one invoice as PDF"""
    return pdf_download(contracts.get_invoice_pdf(number, token=current_token()).content, f"{number}.pdf")


@invoices.post(
    "/api/v1/invoices/<number>/repeat-debit",
    {202: DebitRequest},
    errors={409: "The invoice is paid (invoice_not_open), customer_not_active"},
)
def request_repeat_debit(number: str) -> contract_pb2.RepeatDebitResponse:
    """Ask for a repeat debit of an open invoice"""
    return contracts.repeat_debit(number, token=current_token())


@api.get("/api/v1/contracts", {200: ContractList})
def list_contracts() -> ContractList:
    """The contracts of the customer's packages"""
    return ContractList(
        contracts=[Contract.from_proto(c) for c in contracts.list_contracts(token=current_token())]
    )


@api.get("/api/v1/forms", {200: FormList})
def list_forms() -> FormList:
    """The forms: written-only ones with a PDF to download, online ones with their endpoint"""
    listed = contracts.list_forms(token=current_token())
    return FormList(
        forms=[Form.from_proto(f, pdf_url=url_for("customer.get_form_pdf", form_id=f.id)) for f in listed]
    )


@api.get("/api/v1/forms/<form_id>/pdf", {200: PDF})
def get_form_pdf(form_id: str) -> Response:
    """Download a written-only form as PDF (the customer number filled in)"""
    if not form_id or len(form_id) > MAX_FORM_ID:
        raise NotFound("There is no form with this id; GET /api/v1/forms lists them.")
    return pdf_download(contracts.get_form_pdf(form_id, token=current_token()).content, f"{form_id}.pdf")
