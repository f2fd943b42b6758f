"""Merging customer numbers (customer token of the number that is kept; docs/architecture.md).

merge-service takes the target from the forwarded token and checks ownership of every merge;
the gateway only validates input, forwards and shapes the answer. A package token gets 403.
"""

from __future__ import annotations

from typing import Any

from cc_common.errors import InvalidInput, NotFound
from customercenter.v1 import merge_pb2
from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from gateway_app import serializers
from gateway_app import validation as v
from gateway_app.backends import current_backends as backends
from gateway_app.errors import size_text
from gateway_app.proxy import client_address
from gateway_app.security import current_principal, token_required

bp = Blueprint("merges", __name__, url_prefix="/api/v1/merges")
# The objection link of a merge proven with a package password: no login, the link's token.
objections_bp = Blueprint("merge_objections", __name__)

MAX_MERGE_ID = 100
# The signed contract-transfer form: at most 5 MB of PDF. The request may be a little larger
# (multipart boundaries and part headers); the app-wide limit of 1 MB is raised for this view
# only. A larger body or file answers 413 payload_too_large.
MAX_LEGAL_PROOF_BYTES = 5 * 1024 * 1024
MAX_LEGAL_PROOF_REQUEST = MAX_LEGAL_PROOF_BYTES + 64 * 1024
MAX_FILENAME = 255
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


def merge_id_of(merge_id: str) -> str:
    """An opaque id; an absurdly long one cannot exist (404, as merge-service would say)."""
    if not merge_id or len(merge_id) > MAX_MERGE_ID:
        raise NotFound("No such merge.")
    return merge_id


def merge_ref(merge_id: str) -> merge_pb2.MergeRef:
    return merge_pb2.MergeRef(merge_id=merge_id_of(merge_id))


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


def _clean_filename(name: str | None) -> str:
    """Valid UTF-8 without control characters (a proto string), at most 255 characters."""
    text = (name or "").encode("utf-8", "replace").decode("utf-8")
    return "".join(ch for ch in text if ch.isprintable())[:MAX_FILENAME]


def _merge_json(message: Any, status: int = 200) -> tuple[Response, int]:
    return jsonify(serializers.merge(message)), status


@bp.post("")
@token_required("customer")
def start_merge() -> tuple[Response, int, dict[str, str]]:
    body = v.validate(v.json_object(), START_MERGE)
    _proof_of_ownership(body)
    created = backends().merge.call(
        "StartMerge",
        merge_pb2.StartMergeRequest(
            source_customer_number=body["source_customer_number"],
            source_password=body.get("source_password", ""),
            domain=body.get("domain", ""),
            domain_password=body.get("domain_password", ""),
            client_address=client_address(),
        ),
        token=current_principal().token,
    )
    location = url_for("merges.get_merge", merge_id=created.id)
    return jsonify(serializers.merge(created)), 201, {"Location": location}


@bp.get("")
@token_required("customer")
def list_merges() -> Response:
    reply = backends().merge.call(
        "ListMerges", merge_pb2.ListMergesRequest(), token=current_principal().token
    )
    return jsonify({"merges": [serializers.merge(item) for item in reply.merges]})


@bp.get("/<merge_id>")
@token_required("customer", "staff")
def get_merge(merge_id: str) -> tuple[Response, int]:
    item = backends().merge.call("GetMerge", merge_ref(merge_id), token=current_principal().token)
    return _merge_json(item)


@bp.post("/<merge_id>/take-over-data")
@token_required("customer")
def take_over_data(merge_id: str) -> tuple[Response, int]:
    item = backends().merge.call("TakeOverData", merge_ref(merge_id), token=current_principal().token)
    return _merge_json(item)


@bp.post("/<merge_id>/submit")
@token_required("customer")
def submit_merge(merge_id: str) -> tuple[Response, int]:
    item = backends().merge.call("SubmitMerge", merge_ref(merge_id), token=current_principal().token)
    return _merge_json(item, 202)


@bp.delete("/<merge_id>")
@token_required("customer")
def cancel_merge(merge_id: str) -> tuple[str, int]:
    backends().merge.call("CancelMerge", merge_ref(merge_id), token=current_principal().token)
    return "", 204


# --- a merge proven with a package password: the absorbed side's say ------------------------
# One function per use case, called by the API below and by the web pages.


def object_by_token(token: str) -> Any:
    """The objection link (anyone holding it): the merge is cancelled, both sides are told."""
    return backends().merge.call("ObjectToMerge", merge_pb2.ObjectionRequest(token=token))


def object_merge(merge_id: str) -> Any:
    """The absorbed customer, signed in, objects."""
    return backends().merge.call("ObjectMerge", merge_ref(merge_id), token=current_principal().token)


def confirm_merge(merge_id: str) -> Any:
    """The absorbed customer, signed in, agrees: the waiting period for objections ends."""
    return backends().merge.call("ConfirmMerge", merge_ref(merge_id), token=current_principal().token)


OBJECTION = {"token": v.text(min_len=1, max_len=512)}


@objections_bp.post("/api/v1/merge-objections")
def object_with_link() -> tuple[str, int]:
    body = v.validate(v.json_object(), OBJECTION)
    object_by_token(body["token"])
    return "", 204


@bp.post("/<merge_id>/object")
@token_required("customer")
def object_to_merge(merge_id: str) -> tuple[str, int]:
    object_merge(merge_id)
    return "", 204


@bp.post("/<merge_id>/confirm")
@token_required("customer")
def confirm(merge_id: str) -> tuple[str, int]:
    confirm_merge(merge_id)
    return "", 204


@bp.post("/<merge_id>/legal-proof")
@token_required("customer")
def upload_legal_proof(merge_id: str) -> tuple[Response, int]:
    ref = merge_ref(merge_id)
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
    item = backends().merge.call(
        "UploadLegalProof",
        merge_pb2.UploadLegalProofRequest(
            merge_id=ref.merge_id,
            filename=_clean_filename(upload.filename),
            content_type=upload.mimetype or "",
            content=content,
        ),
        token=current_principal().token,
    )
    return _merge_json(item, 201)
