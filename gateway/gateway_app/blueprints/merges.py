"""Merging customer numbers (customer token of the number that is kept; docs/architecture.md).

merge-service takes the target from the forwarded token and checks ownership of every merge;
the gateway only validates input, forwards and shapes the answer. A package token gets 403.
"""

from __future__ import annotations

from typing import Any

from cc_common.errors import InvalidInput
from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from gateway_app import serializers
from gateway_app import validation as v
from gateway_app.clients import merges
from gateway_app.errors import size_text
from gateway_app.security import current_principal, token_required

bp = Blueprint("merges", __name__, url_prefix="/api/v1/merges")
# The objection link of a merge proven with a package password: no login, the link's token.
objections_bp = Blueprint("merge_objections", __name__)

# The signed contract-transfer form: at most 5 MB of PDF. The request may be a little larger
# (multipart boundaries and part headers); the app-wide limit of 1 MB is raised for this view
# only. A larger body or file answers 413 payload_too_large.
MAX_LEGAL_PROOF_BYTES = 5 * 1024 * 1024
MAX_LEGAL_PROOF_REQUEST = MAX_LEGAL_PROOF_BYTES + 64 * 1024
TOO_LARGE = (
    f"The file is larger than {size_text(MAX_LEGAL_PROOF_BYTES)}, the limit for the signed form. "
    "Please upload a smaller scan."
)

START_MERGE = {
    "source_customer_number": v.customer_number_field(),
    "source_password": v.password(required=False),
    "domain": v.domain_field(required=False),
    "domain_password": v.password(required=False),
}


def _proof_of_ownership(body: dict[str, Any]) -> None:
    """Either source_password, or domain and domain_password."""
    has_password = "source_password" in body
    has_domain = "domain" in body or "domain_password" in body
    if has_password and has_domain:
        raise InvalidInput(
            "Give either source_password, or domain and domain_password, not both.", field="domain"
        )
    if has_password:
        return
    if not has_domain:
        raise InvalidInput(
            "Prove that the number is yours: give its customer password (source_password), or a "
            "domain of one of its packages with that package's password (domain, domain_password).",
            field="source_password",
        )
    if "domain" not in body:
        raise InvalidInput("domain is required with domain_password.", field="domain")
    if "domain_password" not in body:
        raise InvalidInput("domain_password is required with domain.", field="domain_password")


def _merge_json(message: Any, status: int = 200) -> tuple[Response, int]:
    return jsonify(serializers.merge(message)), status


@bp.post("")
@token_required("customer")
def start_merge() -> tuple[Response, int, dict[str, str]]:
    body = v.validate(v.json_object(), START_MERGE)
    _proof_of_ownership(body)
    created = merges.start_merge(
        body["source_customer_number"],
        source_password=body.get("source_password", ""),
        domain=body.get("domain", ""),
        domain_password=body.get("domain_password", ""),
        token=current_principal().token,
    )
    location = url_for("merges.get_merge", merge_id=created.id)
    return jsonify(serializers.merge(created)), 201, {"Location": location}


@bp.get("")
@token_required("customer")
def list_merges() -> Response:
    items = merges.list_merges(token=current_principal().token)
    return jsonify({"merges": [serializers.merge(item) for item in items]})


@bp.get("/<merge_id>")
@token_required("customer", "staff")
def get_merge(merge_id: str) -> tuple[Response, int]:
    item = merges.get_merge(merge_id, token=current_principal().token)
    return _merge_json(item)


@bp.post("/<merge_id>/take-over-data")
@token_required("customer")
def take_over_data(merge_id: str) -> tuple[Response, int]:
    item = merges.take_over_data(merge_id, token=current_principal().token)
    return _merge_json(item)


@bp.post("/<merge_id>/submit")
@token_required("customer")
def submit_merge(merge_id: str) -> tuple[Response, int]:
    item = merges.submit_merge(merge_id, token=current_principal().token)
    return _merge_json(item, 202)


@bp.delete("/<merge_id>")
@token_required("customer")
def cancel_merge(merge_id: str) -> tuple[str, int]:
    merges.cancel_merge(merge_id, token=current_principal().token)
    return "", 204


# --- a merge proven with a package password: the absorbed side's say ------------------------


OBJECTION = {"token": v.text(min_len=1, max_len=512)}


@objections_bp.post("/api/v1/merge-objections")
def object_with_link() -> tuple[str, int]:
    body = v.validate(v.json_object(), OBJECTION)
    merges.object_by_link(body["token"])
    return "", 204


@bp.post("/<merge_id>/object")
@token_required("customer")
def object_to_merge(merge_id: str) -> tuple[str, int]:
    merges.object_merge(merge_id, token=current_principal().token)
    return "", 204


@bp.post("/<merge_id>/confirm")
@token_required("customer")
def confirm(merge_id: str) -> tuple[str, int]:
    merges.confirm_merge(merge_id, token=current_principal().token)
    return "", 204


@bp.post("/<merge_id>/legal-proof")
@token_required("customer")
def upload_legal_proof(merge_id: str) -> tuple[Response, int]:
    merges.merge_id_of(merge_id)
    # Raised for this view only (Flask >= 3.1 reads the limit from the request); werkzeug
    # answers 413 for a larger Content-Length, or cuts a chunked body at the limit.
    request.max_content_length = MAX_LEGAL_PROOF_REQUEST
    if request.content_length is not None and request.content_length > MAX_LEGAL_PROOF_REQUEST:
        raise RequestEntityTooLarge(TOO_LARGE)
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:  # a chunked body over the limit, cut while parsing
        raise RequestEntityTooLarge(TOO_LARGE) from None
    if upload is None or (not upload.filename and not upload.content_length):
        raise InvalidInput(
            "Please choose the signed contract-transfer form (a PDF file) as the multipart field `file`.",
            field="file",
        )
    content = upload.stream.read(MAX_LEGAL_PROOF_BYTES + 1)
    if len(content) > MAX_LEGAL_PROOF_BYTES:
        raise RequestEntityTooLarge(TOO_LARGE)
    if not content:
        raise InvalidInput("The file is empty. Please upload the signed form as a PDF.", field="file")
    # merge-service checks that the content is a PDF (422 on field file otherwise).
    item = merges.upload_legal_proof(
        merge_id,
        filename=upload.filename,
        content_type=upload.mimetype or "",
        content=content,
        token=current_principal().token,
    )
    return _merge_json(item, 201)
