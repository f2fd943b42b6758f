"""The customer's own record, payment data, invoices, contracts and forms (customer token).

Everything here is contractual: a package token gets 403 forbidden (the package login
administrates the package technically, but makes no contractual changes:
docs/trust-boundaries.md). contract-service takes the customer number from the forwarded token,
never from a field, so another customer's invoice answers 404.
"""

from __future__ import annotations

from cc_common.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from customercenter.v2 import contract_pb2
from flask import Blueprint, Response, url_for

from gateway_app.api import PDF, answer, operation
from gateway_app.clients import contracts, identity
from gateway_app.downloads import pdf_download
from gateway_app.schemas.customers import (
    CARD_FIELDS,
    ONLINE_FIELDS,
    SEPA_FIELDS,
    Contract,
    ContractList,
    Customer,
    CustomerUpdate,
    EmailRestore,
    Form,
    FormList,
    PaymentUpdate,
    refuse_card_numbers,
)
from gateway_app.schemas.invoices import INVOICE_NUMBER, DebitRequest, Invoice, InvoiceList
from gateway_app.security import current_principal, token_required

bp = Blueprint("customer", __name__)

MAX_FORM_ID = 64
FROZEN = "The customer number is frozen or retired (customer_not_active)"
INVOICE_ERRORS = {
    404: "Unknown invoice, or one of another customer (not_found)",
    422: "A malformed invoice number (invalid_input, field number)",
}


def _token() -> str:
    return current_principal().token


@bp.get("/api/v1/customer")
@token_required("customer")
@operation("getCustomer", "The customer's master and payment data", "customer", {200: Customer})
def get_customer() -> Response:
    return answer(Customer.from_proto(contracts.get_customer(token=_token())))


@bp.patch("/api/v1/customer")
@token_required("customer")
@operation(
    "updateCustomer",
    "Change master data online (address, phone and fax numbers, e-mail) and the language of mails "
    "and PDFs: one record for every package. The old address is told of a new email, with a link that puts it back "
    "within 7 days",
    "customer",
    {200: Customer},
    body=CustomerUpdate,
    errors={
        401: "A new email with a wrong current_password (invalid_credentials, field current_password)",
        409: "company, first_name or last_name in the body (written_form_required: a contract handover "
        "needs the signed form; nothing is saved), a zip that does not fit the stored country or a country "
        "that the stored zip does not fit (postcode_not_in_country, field zip: give both together), or "
        "customer_not_active",
        422: "Invalid input (invalid_input, with field: also a phone number or e-mail address that is not "
        "valid, or a zip that does not fit the country in the same body), an empty body, or a new email "
        "without current_password (invalid_input, field current_password)",
        429: "",
    },
)
def update_customer(body: CustomerUpdate) -> Response:
    changes = body.changes()
    if not changes:
        raise InvalidInput(
            "Give at least one field to change: " + ", ".join((*ONLINE_FIELDS, "language")) + "."
        )
    return answer(Customer.from_proto(change_customer_data(changes, current_password=body.current_password)))


def change_customer_data(
    changes: dict[str, str], *, current_password: str | None, current_email: str | None = None
) -> contract_pb2.Customer:
    """Changes the caller's master data (the API and the web page) and answers the record.

    A new contact e-mail address needs the customer password in the same request: the
    address is where "forgot password" sends its link, so a stolen session alone must not be
    able to move it. The password is checked by identity-service like a login (its throttling
    keys, 401 invalid_credentials, 429 while locked); contract-service then stores the change
    and tells the old address, with a link that puts it back. An `email` equal to the current
    address (`current_email`, read here unless the caller has it) is no change and needs no
    password."""
    if "email" in changes:
        if current_email is None and not current_password:
            current_email = contracts.get_customer(token=_token()).email
        if current_email is not None and _same_email(changes["email"], current_email):
            changes = {name: value for name, value in changes.items() if name != "email"}
        elif not current_password:
            raise InvalidInput(
                "Give your current customer password (current_password) to change the e-mail address.",
                field="current_password",
            )
        else:
            check_current_password(current_password)
    if not changes:
        return contracts.get_customer(token=_token())
    return contracts.update_customer(changes, token=_token())


def _same_email(a: str, b: str) -> bool:
    return (a or "").strip().lower() == (b or "").strip().lower()


def check_current_password(password: str) -> None:
    """Re-authentication of the signed-in customer: its customer password, checked by
    identity-service exactly like a login of its number (same throttling keys and answers).
    The number comes from the verified token, never from the request."""
    principal = current_principal()
    try:
        identity.customer_login(principal.customer_number or "", password)
    except Unauthenticated as error:
        if error.code != "invalid_credentials":
            raise
        raise Unauthenticated(
            "The current password is wrong.", code="invalid_credentials", field="current_password"
        ) from error


@bp.post("/api/v1/customer/email-restore")
@operation(
    "restoreEmail",
    "Put back the contact e-mail address an e-mail change replaced, with the token "
    "of the link mailed to the old address (single use, 7 days); every session of the customer ends",
    "customer",
    {204: "The old address is the contact address again; every token of the customer is dead"},
    body=EmailRestore,
    errors={400: "Unknown, used, superseded or expired token (invalid_token)", 409: FROZEN},
)
def email_restore(body: EmailRestore) -> Response:
    """The link mailed to the old address after an e-mail change puts it back (no login:
    whoever holds the old mailbox holds the link)."""
    restore_email(body.token)
    return Response(status=204)


def restore_email(token: str) -> contract_pb2.Customer:
    """Puts back the contact address an e-mail change replaced (the API and the web page),
    then ends every session of the customer: the change may have been made with a stolen
    session, which must not live on. 400 invalid_token for an unknown, used or expired link."""
    try:
        record = contracts.restore_customer_email(token)
    except Unauthenticated as error:
        if error.code != "invalid_token":
            raise
        raise InvalidLinkToken(
            "This link is invalid, was already used or has expired (it is valid for 7 days)."
        ) from error
    identity.revoke_subject(f"customer:{record.customer_number}")
    return record


class InvalidLinkToken(DomainError):
    """A mailed link that is unknown, used, superseded or expired: 400 invalid_token."""

    http_status = 400
    default_code = "invalid_token"


@bp.put("/api/v1/customer/payment")
@token_required("customer")
@operation(
    "setPayment",
    "Replace the payment data: a bank account or a card token (never a card number)",
    "customer",
    {200: Customer},
    body=PaymentUpdate,
    errors={
        409: FROZEN,
        422: "Invalid input (invalid_input, with field), or a card number (card_number_refused, field card_token)",
    },
)
def set_payment(body: PaymentUpdate) -> Response:
    # The body holds payment data: it is never logged, and a card number is never forwarded.
    return answer(Customer.from_proto(store_payment(body.given())))


def store_payment(payment: dict[str, str]) -> contract_pb2.Customer:
    """Stores the payment data (the API and the web pages) and answers the customer record.

    Exactly one method: a bank account (iban, bic) or a card (card_token, card_last4,
    card_expiry). A card number in any field is refused here (card_number_refused, field of
    the field it was typed into) and never forwarded; contract-service validates the rest."""
    refuse_card_numbers(payment)
    has_sepa = any(name in payment for name in SEPA_FIELDS)
    has_card = any(name in payment for name in CARD_FIELDS)
    if has_sepa == has_card:
        raise InvalidInput(
            "Give either a bank account (iban and bic) or a card (card_token, card_last4, card_expiry).",
            field="payment",
        )
    for name in SEPA_FIELDS if has_sepa else CARD_FIELDS:
        if name not in payment:
            raise InvalidInput(f"{name} is required.", field=name)
    return contracts.set_payment(payment, token=_token())


# --- invoices ------------------------------------------------------------------------------


@bp.get("/api/v1/invoices")
@token_required("customer")
@operation("listInvoices", "The customer's invoices, newest first", "invoices", {200: InvoiceList})
def list_invoices() -> Response:
    items = contracts.list_invoices(token=_token())
    return answer(InvoiceList(invoices=[Invoice.from_proto(item) for item in items]))


@bp.get("/api/v1/invoices/<number>/pdf")
@token_required("customer")
@operation(
    "getInvoicePdf",
    "Download one invoice as PDF",
    "invoices",
    {200: PDF},
    params={"number": INVOICE_NUMBER},
    errors=INVOICE_ERRORS,
)
def invoice_pdf(number: str) -> Response:
    document = contracts.get_invoice_pdf(number, token=_token())
    return pdf_download(document.content, f"{number}.pdf")


@bp.post("/api/v1/invoices/<number>/repeat-debit")
@token_required("customer")
@operation(
    "requestRepeatDebit",
    "Ask for a repeat debit of an open invoice",
    "invoices",
    {202: DebitRequest},
    params={"number": INVOICE_NUMBER},
    errors={**INVOICE_ERRORS, 409: "The invoice is paid (invoice_not_open), customer_not_active"},
)
def repeat_debit(number: str) -> Response:
    return answer(DebitRequest.from_proto(contracts.repeat_debit(number, token=_token())), 202)


# --- contracts and forms -------------------------------------------------------------------


@bp.get("/api/v1/contracts")
@token_required("customer")
@operation("listContracts", "The contracts of the customer's packages", "customer", {200: ContractList})
def list_contracts() -> Response:
    items = contracts.list_contracts(token=_token())
    return answer(ContractList(contracts=[Contract.from_proto(item) for item in items]))


@bp.get("/api/v1/forms")
@token_required("customer")
@operation(
    "listForms",
    "The forms: written-only ones with a PDF to download, online ones with their endpoint",
    "customer",
    {200: FormList},
)
def list_forms() -> Response:
    forms = [
        Form.from_proto(item, pdf_url=url_for("customer.form_pdf", form_id=item.id))
        for item in contracts.list_forms(token=_token())
    ]
    return answer(FormList(forms=forms))


@bp.get("/api/v1/forms/<form_id>/pdf")
@token_required("customer")
@operation(
    "getFormPdf",
    "Download a written-only form as PDF (the customer number filled in)",
    "customer",
    {200: PDF},
    params={"form_id": {"type": "string", "minLength": 1, "maxLength": MAX_FORM_ID}},
    errors={404: "Unknown form, or one done online (not_found)"},
)
def form_pdf(form_id: str) -> Response:
    if not form_id or len(form_id) > MAX_FORM_ID:
        raise NotFound("There is no form with this id; GET /api/v1/forms lists them.")
    document = contracts.get_form_pdf(form_id, token=_token())
    return pdf_download(document.content, f"{form_id}.pdf")
