"""The service team's endpoints (staff token): customers, packages, invoices and the review,
audit and reversal of merges.

The staff token is forwarded, so every service checks the staff role itself.
"""

from __future__ import annotations

from cc_common.errors import InvalidInput, NotFound
from cc_common.protoconv import enum_value
from cc_common.rules.merges import STATUSES as MERGE_STATUSES
from customercenter.v2 import common_pb2, contract_pb2
from flask import Blueprint, Response, jsonify, request

from gateway_app import serializers
from gateway_app import validation as v
from gateway_app.blueprints import require_active_customer
from gateway_app.clients import contracts, identity, merges, packages
from gateway_app.downloads import pdf_download
from gateway_app.security import current_principal, token_required
from gateway_app.serializers import CUSTOMER_FIELDS

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")

PAYMENT_FIELDS = ("iban", "bic", "card_token", "card_last4", "card_expiry")

CREATE_CUSTOMER = {
    "market": v.choice("de", "nl", "uk", aliases={"gb": "uk"}),
    "password": v.password(new=True),
    "customer_number": v.customer_number_field(required=False),
    **{name: v.text(required=False) for name in CUSTOMER_FIELDS},
    **{name: v.text(max_len=64, required=False) for name in PAYMENT_FIELDS},
}

CREATE_PACKAGE = {
    "product": v.text(min_len=1, max_len=100),
    "domains": v.domain_list(),
    "package_password": v.password(new=True, required=False),
}

CREATE_INVOICE = {
    "amount": v.Field(v.amount_cents),
    "currency": v.currency(required=False),
    "status": v.choice("open", "paid", required=False),
    "date": v.text(max_len=10, required=False),
}


MAX_REASON = 1000
MERGE_REASON = {"reason": v.text(min_len=1, max_len=MAX_REASON)}


def _path_customer_number(number: str) -> str:
    return v.customer_number("customer_number", number)


@bp.post("/customers")
@token_required("staff")
def create_customer() -> tuple[Response, int]:
    # Everything, the password included, is checked before anything is created.
    body = v.validate(v.json_object(), CREATE_CUSTOMER)
    token = current_principal().token
    payment = {name: body[name] for name in PAYMENT_FIELDS if name in body}
    request = contract_pb2.CreateCustomerRequest(
        market=enum_value(common_pb2.Market, body["market"]),
        customer_number=body.get("customer_number", ""),
        **{name: body.get(name, "") for name in CUSTOMER_FIELDS},
    )
    if payment:
        request.payment.CopyFrom(contract_pb2.PaymentInput(**payment))
    created = contracts.create_customer(request, token=token)
    identity.set_customer_password(created.customer_number, body["password"], token=token)
    return jsonify({"customer_number": created.customer_number}), 201


@bp.post("/customers/<number>/packages")
@token_required("staff")
def create_package(number: str) -> tuple[Response, int]:
    number = _path_customer_number(number)
    body = v.validate(v.json_object(), CREATE_PACKAGE)
    token = current_principal().token
    # 404 not_found for an unknown customer number, 409 customer_not_active for a frozen or
    # retired one, before a package is made for it.
    require_active_customer(number, token=token)
    created = packages.create_package(number, body["product"], body["domains"], token=token)
    # Every package has its contract (terminations, the contract overview); idempotent per
    # package id, so a repeated call after a failure here does not make a second one.
    contracts.create_contract(created.id, number, created.product or body["product"], token=token)
    if "package_password" in body:
        identity.set_package_password(created.id, body["package_password"], token=token)
    return jsonify(serializers.package(created)), 201


SET_USAGE = {
    "storage_used_gb": v.whole_number(required=False),
    "mailboxes_used": v.whole_number(required=False),
    "databases_used": v.whole_number(required=False),
}


@bp.post("/packages/<package_id>/usage")
@token_required("staff")
def set_usage(package_id: str) -> Response:
    """The usage figures the hosting platform would report (tests, demo); a figure left out
    keeps its value."""
    if not package_id or len(package_id) > v.MAX_OPAQUE_ID:
        raise NotFound("There is no such package.")
    body = v.validate(v.json_object(), SET_USAGE)
    if not body:
        raise InvalidInput("Give at least one of: " + ", ".join(SET_USAGE) + ".")
    token = current_principal().token
    figures = dict(body)
    if len(figures) < len(SET_USAGE):
        current = packages.get_package(package_id, token=token)
        for name in SET_USAGE:
            figures.setdefault(name, getattr(current, name))
    updated = packages.set_usage(package_id, figures, token=token)
    return jsonify(serializers.package(updated))


@bp.post("/customers/<number>/invoices")
@token_required("staff")
def create_invoice(number: str) -> tuple[Response, int]:
    number = _path_customer_number(number)
    body = v.validate(v.json_object(), CREATE_INVOICE)
    created = contracts.create_invoice(
        number,
        body["amount"],
        currency=body.get("currency", ""),
        status=body.get("status", ""),
        date=body.get("date", ""),
        token=current_principal().token,
    )
    return jsonify(serializers.invoice(created)), 201


# --- merges ---------------------------------------------------------------------------------


@bp.get("/merges")
@token_required("staff")
def list_merges() -> Response:
    status = request.args.get("status", "")
    if status and status not in MERGE_STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(MERGE_STATUSES)}.", field="status")
    items = merges.list_merges(status, token=current_principal().token)
    return jsonify({"merges": [serializers.merge(item) for item in items]})


@bp.get("/merges/<merge_id>")
@token_required("staff")
def merge_audit(merge_id: str) -> Response:
    audit = merges.get_merge_audit(merge_id, token=current_principal().token)
    return jsonify(serializers.merge_audit(audit))


@bp.post("/merges/<merge_id>/approve")
@token_required("staff")
def approve_merge(merge_id: str) -> tuple[Response, int]:
    item = merges.approve_merge(merge_id, token=current_principal().token)
    return jsonify(serializers.merge(item)), 202


@bp.post("/merges/<merge_id>/cancel")
@token_required("staff")
def cancel_merge(merge_id: str) -> tuple[Response, int]:
    """A merge that has not started executing (e.g. a draft nobody finishes, which would keep
    both numbers locked) is cancelled by the service team."""
    item = merges.cancel_merge(merge_id, token=current_principal().token)
    return jsonify(serializers.merge(item)), 200


@bp.post("/merges/<merge_id>/reject")
@token_required("staff")
def reject_merge(merge_id: str) -> tuple[Response, int]:
    merges.merge_id_of(merge_id)
    body = v.validate(v.json_object(), MERGE_REASON)
    item = merges.reject_merge(merge_id, body["reason"], token=current_principal().token)
    return jsonify(serializers.merge(item)), 200


@bp.post("/merges/<merge_id>/reverse")
@token_required("staff")
def reverse_merge(merge_id: str) -> tuple[Response, int]:
    merges.merge_id_of(merge_id)
    body = v.validate(v.json_object(), MERGE_REASON)
    item = merges.reverse_merge(merge_id, body["reason"], token=current_principal().token)
    return jsonify(serializers.merge(item)), 202


@bp.get("/merges/<merge_id>/legal-proof")
@token_required("staff")
def legal_proof(merge_id: str) -> Response:
    return legal_proof_download(merge_id, token=current_principal().token)


def legal_proof_download(merge_id: str, *, token: str) -> Response:
    """The uploaded signed form of a merge (the API and the back office page)."""
    proof = merges.get_legal_proof(merge_id, token=token)
    return pdf_download(proof.content, proof.filename or f"legal-proof-{merge_id}.pdf")
