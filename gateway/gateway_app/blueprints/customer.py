"""The customer's own record, payment data, invoices, contracts and forms (customer token).

Everything here is contractual: a package token gets 403 forbidden (the package login
administrates the package technically, but makes no contractual changes:
docs/trust-boundaries.md). contract-service takes the customer number from the forwarded token,
never from a field, so another customer's invoice answers 404.
"""

from __future__ import annotations

from typing import Any

from cc_common.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from cc_common.rules.cards import field_with_card_number
from cc_common.rules.written_only import refuse_written_only
from customercenter.v2 import contract_pb2
from flask import Blueprint, Response, jsonify, request, url_for

from gateway_app import serializers
from gateway_app import validation as v
from gateway_app.clients import contracts, identity
from gateway_app.downloads import pdf_download
from gateway_app.security import current_principal, token_required

bp = Blueprint("customer", __name__)

# Master data a customer may change online; company and name need the signed contract
# handover form (common/cc_common/rules/written_only.py; docs/architecture.md, "Online or on a
# signed form").
ONLINE_FIELDS = ("street", "zip", "city", "country", "phone", "mobile", "fax", "email")
CLEARABLE_FIELDS = ("phone", "mobile", "fax")
UPDATE_CUSTOMER = {
    name: v.text(max_len=254 if name == "email" else v.MAX_TEXT, required=False) for name in ONLINE_FIELDS
} | {"current_password": v.password(required=False)}

SEPA_FIELDS = ("iban", "bic")
CARD_FIELDS = ("card_token", "card_last4", "card_expiry")
SET_PAYMENT = {name: v.text(min_len=1, max_len=64, required=False) for name in (*SEPA_FIELDS, *CARD_FIELDS)}

MAX_FORM_ID = 64


def _token() -> str:
    return current_principal().token


def _customer_json(record: Any) -> Response:
    return jsonify(serializers.customer(record))


@bp.get("/api/v1/customer")
@token_required("customer")
def get_customer() -> Response:
    return _customer_json(contracts.get_customer(token=_token()))


@bp.patch("/api/v1/customer")
@token_required("customer")
def update_customer() -> Response:
    if not request.get_data(cache=True).strip():
        raise InvalidInput("Give at least one field to change: " + ", ".join(ONLINE_FIELDS) + ".")
    body = v.json_object()
    # contract-service's own rule, said here first so that nothing is forwarded or saved, not
    # even the other fields of the same request, and before any other field is checked.
    refuse_written_only(body)
    # null clears phone, mobile or fax (as "" does); the other fields cannot be cleared.
    body = {
        name: ("" if value is None and name in CLEARABLE_FIELDS else value) for name, value in body.items()
    }
    for name, value in body.items():
        if value is None and name in UPDATE_CUSTOMER:
            raise InvalidInput(f"{name} cannot be removed; give the new value.", field=name)
    changes = v.validate(body, UPDATE_CUSTOMER)
    current_password = changes.pop("current_password", None)
    if not changes:
        raise InvalidInput("Give at least one field to change: " + ", ".join(ONLINE_FIELDS) + ".")
    return _customer_json(change_customer_data(changes, current_password=current_password))


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
def email_restore() -> Response:
    """The link mailed to the old address after an e-mail change puts it back (no login:
    whoever holds the old mailbox holds the link)."""
    body = v.validate(v.json_object(), {"token": v.text(min_len=1, max_len=512)})
    restore_email(body["token"])
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
def set_payment() -> Response:
    # The body holds payment data: it is never logged, and a card number is never forwarded.
    body = v.json_object()
    if "card_number" in body:
        raise InvalidInput(
            "A card number is never accepted: give the card_token from the payment provider, "
            "with card_last4 and card_expiry.",
            code="card_number_refused",
            field="card_token",
        )
    record = store_payment(v.validate(body, SET_PAYMENT))
    return _customer_json(record)


def refuse_card_numbers(payment: dict[str, str]) -> None:
    """InvalidInput card_number_refused, with the field, if a card number was typed anywhere
    (cc_common/rules/cards.py, the rule contract-service applies too): it is never forwarded."""
    name = field_with_card_number(payment)
    if name is not None:
        raise InvalidInput(
            "This looks like a card number, which is never accepted: give the card_token from the "
            "payment provider.",
            code="card_number_refused",
            field=name,
        )


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
def list_invoices() -> Response:
    return jsonify({"invoices": [serializers.invoice(item) for item in contracts.list_invoices(token=_token())]})


@bp.get("/api/v1/invoices/<number>/pdf")
@token_required("customer")
def invoice_pdf(number: str) -> Response:
    document = contracts.get_invoice_pdf(number, token=_token())
    return pdf_download(document.content, f"{number}.pdf")


@bp.post("/api/v1/invoices/<number>/repeat-debit")
@token_required("customer")
def repeat_debit(number: str) -> tuple[Response, int]:
    debit = contracts.repeat_debit(number, token=_token())
    return jsonify(serializers.debit_request(debit)), 202


# --- contracts and forms -------------------------------------------------------------------


@bp.get("/api/v1/contracts")
@token_required("customer")
def list_contracts() -> Response:
    return jsonify({"contracts": [serializers.contract(item) for item in contracts.list_contracts(token=_token())]})


@bp.get("/api/v1/forms")
@token_required("customer")
def list_forms() -> Response:
    forms = [
        serializers.form(
            item, pdf_url=url_for("customer.form_pdf", form_id=item.id) if item.has_pdf else None
        )
        for item in contracts.list_forms(token=_token())
    ]
    return jsonify({"forms": forms})


@bp.get("/api/v1/forms/<form_id>/pdf")
@token_required("customer")
def form_pdf(form_id: str) -> Response:
    if not form_id or len(form_id) > MAX_FORM_ID:
        raise NotFound("There is no form with this id; GET /api/v1/forms lists them.")
    document = contracts.get_form_pdf(form_id, token=_token())
    return pdf_download(document.content, f"{form_id}.pdf")
