"""The service team's endpoints (staff token): customers, packages, invoices and the review,
audit and reversal of merges.

The staff token is forwarded, so every service checks the staff role itself.
"""

from __future__ import annotations

import io

from cc_common.errors import InvalidInput, NotFound
from cc_common.rules.merges import STATUSES as MERGE_STATUSES
from customercenter.v1 import contract_pb2, identity_pb2, merge_pb2, package_pb2
from flask import Blueprint, Response, jsonify, request, send_file

from gateway_app import serializers
from gateway_app import validation as v
from gateway_app.backends import current_backends as backends
from gateway_app.blueprints import require_active_customer
from gateway_app.blueprints.merges import merge_ref
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
        market=body["market"],
        customer_number=body.get("customer_number", ""),
        **{name: body.get(name, "") for name in CUSTOMER_FIELDS},
    )
    if payment:
        request.payment.CopyFrom(contract_pb2.PaymentInput(**payment))
    created = backends().contract.call("CreateCustomer", request, token=token)
    backends().identity.call(
        "SetCustomerPassword",
        identity_pb2.SetCustomerPasswordRequest(
            customer_number=created.customer_number, password=body["password"]
        ),
        token=token,
    )
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
    created = backends().package.call(
        "CreatePackage",
        package_pb2.CreatePackageRequest(
            customer_number=number, product=body["product"], domains=body["domains"]
        ),
        token=token,
    )
    # Every package has its contract (terminations, the contract overview); idempotent per
    # package id, so a repeated call after a failure here does not make a second one.
    backends().contract.call(
        "CreateContract",
        contract_pb2.CreateContractRequest(
            package_id=created.id, customer_number=number, product=created.product or body["product"]
        ),
        token=token,
    )
    if "package_password" in body:
        backends().identity.call(
            "SetPackagePassword",
            identity_pb2.SetPackagePasswordRequest(package_id=created.id, password=body["package_password"]),
            token=token,
        )
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
        current = backends().package.call(
            "GetPackage", package_pb2.GetPackageRequest(package_id=package_id), token=token
        )
        for name in SET_USAGE:
            figures.setdefault(name, getattr(current, name))
    updated = backends().package.call(
        "SetUsage", package_pb2.SetUsageRequest(package_id=package_id, **figures), token=token
    )
    return jsonify(serializers.package(updated))


@bp.post("/customers/<number>/invoices")
@token_required("staff")
def create_invoice(number: str) -> tuple[Response, int]:
    number = _path_customer_number(number)
    body = v.validate(v.json_object(), CREATE_INVOICE)
    created = backends().contract.call(
        "CreateInvoice",
        contract_pb2.CreateInvoiceRequest(
            customer_number=number,
            amount_cents=body["amount"],
            currency=body.get("currency", ""),
            status=body.get("status", ""),
            date=body.get("date", ""),
        ),
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
    reply = backends().merge.call(
        "ListMerges", merge_pb2.ListMergesRequest(status=status), token=current_principal().token
    )
    return jsonify({"merges": [serializers.merge(item) for item in reply.merges]})


@bp.get("/merges/<merge_id>")
@token_required("staff")
def merge_audit(merge_id: str) -> Response:
    audit = backends().merge.call("GetMergeAudit", merge_ref(merge_id), token=current_principal().token)
    return jsonify(serializers.merge_audit(audit))


@bp.post("/merges/<merge_id>/approve")
@token_required("staff")
def approve_merge(merge_id: str) -> tuple[Response, int]:
    item = backends().merge.call("ApproveMerge", merge_ref(merge_id), token=current_principal().token)
    return jsonify(serializers.merge(item)), 202


@bp.post("/merges/<merge_id>/cancel")
@token_required("staff")
def cancel_merge(merge_id: str) -> tuple[Response, int]:
    """A merge that has not started executing (e.g. a draft nobody finishes, which would keep
    both numbers locked) is cancelled by the service team."""
    item = backends().merge.call("CancelMerge", merge_ref(merge_id), token=current_principal().token)
    return jsonify(serializers.merge(item)), 200


@bp.post("/merges/<merge_id>/reject")
@token_required("staff")
def reject_merge(merge_id: str) -> tuple[Response, int]:
    ref = merge_ref(merge_id)
    body = v.validate(v.json_object(), MERGE_REASON)
    item = backends().merge.call(
        "RejectMerge",
        merge_pb2.RejectMergeRequest(merge_id=ref.merge_id, reason=body["reason"]),
        token=current_principal().token,
    )
    return jsonify(serializers.merge(item)), 200


@bp.post("/merges/<merge_id>/reverse")
@token_required("staff")
def reverse_merge(merge_id: str) -> tuple[Response, int]:
    ref = merge_ref(merge_id)
    body = v.validate(v.json_object(), MERGE_REASON)
    item = backends().merge.call(
        "ReverseMerge",
        merge_pb2.ReverseMergeRequest(merge_id=ref.merge_id, reason=body["reason"]),
        token=current_principal().token,
    )
    return jsonify(serializers.merge(item)), 202


@bp.get("/merges/<merge_id>/legal-proof")
@token_required("staff")
def legal_proof(merge_id: str) -> Response:
    ref = merge_ref(merge_id)
    proof = backends().merge.call("GetLegalProof", ref, token=current_principal().token)
    response = send_file(
        io.BytesIO(proof.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=proof.filename or f"legal-proof-{ref.merge_id}.pdf",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
