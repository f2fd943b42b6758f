"""Merging customer numbers (customer token of the number that is kept; docs/architecture.md).

merge-service takes the target from the forwarded token and checks ownership of every merge;
the gateway only validates input, forwards and shapes the answer. A package token gets 403.
"""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from gateway_app.api import answer, operation
from gateway_app.clients import merges
from gateway_app.errors import size_text
from gateway_app.schemas.merges import MERGE_ID, Merge, MergeList, MergeStart, Objection
from gateway_app.security import current_principal, token_required
from gateway_app.uploads import uploaded_file

bp = Blueprint("merges", __name__, url_prefix="/api/v1/merges")
# The objection link of a merge proven with a package password: no login, the link's token.
objections_bp = Blueprint("merge_objections", __name__)

# The signed contract-transfer form: at most 5 MB of PDF. The request may be a little larger
# (multipart boundaries and part headers); the app-wide limit of 1 MB is raised for this view
# only. A larger body or file answers 413 payload_too_large.
MAX_LEGAL_PROOF_BYTES = 5 * 1024 * 1024
TOO_LARGE = (
    f"The file is larger than {size_text(MAX_LEGAL_PROOF_BYTES)}, the limit for the signed form. "
    "Please upload a smaller scan."
)
PARAMS = {"merge_id": MERGE_ID}
NOT_FOUND = {404: "Unknown merge, or one of another customer (not_found)"}
NOT_OPEN = "The merge is not in a state that allows this (merge_not_open)"
ABSORBED_ONLY = {
    **NOT_FOUND,
    403: "The caller is not the absorbed customer number (forbidden)",
    409: NOT_OPEN,
}


@bp.post("")
@token_required("customer")
@operation(
    "startMerge",
    "Start merging another customer number into the signed-in one",
    "merges",
    {201: Merge},
    body=MergeStart,
    location=True,
    errors={
        401: "Bad proof of ownership (invalid_credentials: a wrong password or second_factor_code), "
        "the source number has two-factor authentication and no second_factor_code was given "
        "(second_factor_required), or no valid token",
        409: "A number already merged or in an open merge (merge_conflict), or two markets (different_markets)",
        422: "Invalid input (invalid_input, with field), or the signed-in number itself (same_customer_number)",
        429: "",
    },
)
def start_merge(body: MergeStart) -> Response:
    created = merges.start_merge(
        body.source_customer_number,
        source_password=body.source_password or "",
        domain=body.domain or "",
        domain_password=body.domain_password or "",
        token=current_principal().token,
        second_factor_code=body.second_factor_code or "",
    )
    location = url_for("merges.get_merge", merge_id=created.id)
    return answer(Merge.from_proto(created), 201, {"Location": location})


@bp.get("")
@token_required("customer")
@operation(
    "listMerges", "The merges of the signed-in customer (the absorbed side's too)", "merges", {200: MergeList}
)
def list_merges() -> Response:
    items = merges.list_merges(token=current_principal().token)
    return answer(MergeList(merges=[Merge.from_proto(item) for item in items]))


@bp.get("/<merge_id>")
@token_required("customer", "staff")
@operation("getMerge", "One merge", "merges", {200: Merge}, params=PARAMS, errors=NOT_FOUND)
def get_merge(merge_id: str) -> Response:
    return answer(Merge.from_proto(merges.get_merge(merge_id, token=current_principal().token)))


@bp.post("/<merge_id>/take-over-data")
@token_required("customer")
@operation(
    "takeOverData",
    "Take over data: the kept number's values stand for every highlighted field",
    "merges",
    {200: Merge},
    params=PARAMS,
    errors={**NOT_FOUND, 409: NOT_OPEN},
)
def take_over_data(merge_id: str) -> Response:
    return answer(Merge.from_proto(merges.take_over_data(merge_id, token=current_principal().token)))


@bp.post("/<merge_id>/refresh-comparison")
@token_required("customer")
@operation(
    "refreshMergeComparison",
    "Compare the master data of both numbers again, after the kept number changed its own "
    "(PATCH /api/v1/customer); a changed comparison needs take-over-data again",
    "merges",
    {200: Merge},
    params=PARAMS,
    errors={**NOT_FOUND, 403: "The absorbed number's login (forbidden)", 409: NOT_OPEN},
)
def refresh_comparison(merge_id: str) -> Response:
    return answer(Merge.from_proto(merges.refresh_comparison(merge_id, token=current_principal().token)))


@bp.post("/<merge_id>/submit")
@token_required("customer")
@operation(
    "submitMerge",
    "Send the order (status submitted, or approved without review)",
    "merges",
    {202: Merge},
    params=PARAMS,
    errors={
        **NOT_FOUND,
        409: "Highlighted fields not taken over (differences_not_resolved), the signed form is missing "
        "(legal_proof_required), or merge_not_open",
    },
)
def submit_merge(merge_id: str) -> Response:
    return answer(Merge.from_proto(merges.submit_merge(merge_id, token=current_principal().token)), 202)


@bp.delete("/<merge_id>")
@token_required("customer")
@operation(
    "cancelMerge",
    "Cancel a merge that is not executing yet",
    "merges",
    {204: "Cancelled"},
    params=PARAMS,
    errors={**NOT_FOUND, 409: NOT_OPEN},
)
def cancel_merge(merge_id: str) -> tuple[str, int]:
    merges.cancel_merge(merge_id, token=current_principal().token)
    return "", 204


# --- a merge proven with a package password: the absorbed side's say ------------------------


@objections_bp.post("/api/v1/merge-objections")
@operation(
    "objectWithLink",
    "Object to a merge with the single-use link mailed to the absorbed customer number (no login)",
    "merges",
    {204: "The merge is cancelled and both sides are told"},
    body=Objection,
    errors={400: "The link's token is unknown or was already used (invalid_token)", 409: NOT_OPEN},
)
def object_with_link(body: Objection) -> tuple[str, int]:
    merges.object_by_link(body.token)
    return "", 204


@bp.post("/<merge_id>/object")
@token_required("customer")
@operation(
    "objectToMerge",
    "The absorbed customer objects to a merge of its number: it is cancelled and both sides are told",
    "merges",
    {204: "Cancelled"},
    params=PARAMS,
    errors=ABSORBED_ONLY,
)
def object_to_merge(merge_id: str) -> tuple[str, int]:
    merges.object_merge(merge_id, token=current_principal().token)
    return "", 204


@bp.post("/<merge_id>/confirm")
@token_required("customer")
@operation(
    "confirmMerge",
    "The absorbed customer agrees to a merge proven with a package password: the waiting period ends",
    "merges",
    {204: "Confirmed"},
    params=PARAMS,
    errors=ABSORBED_ONLY,
)
def confirm(merge_id: str) -> tuple[str, int]:
    merges.confirm_merge(merge_id, token=current_principal().token)
    return "", 204


LEGAL_PROOF_FORM = {
    "schema": {
        "type": "object",
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "contentMediaType": "application/pdf",
                "maxLength": MAX_LEGAL_PROOF_BYTES,
                "description": "A PDF document (it begins with %PDF- and has %%EOF in its last 2 KB), not empty",
            }
        },
        "required": ["file"],
    },
    "encoding": {"file": {"contentType": "application/pdf"}},
    "example": {"file": "%PDF-1.7 ... (the signed form)"},
}


@bp.post("/<merge_id>/legal-proof")
@token_required("customer")
@operation(
    "uploadLegalProof",
    "Upload the signed contract-transfer form (PDF, at most 5 MB)",
    "merges",
    {201: Merge},
    multipart=LEGAL_PROOF_FORM,
    params=PARAMS,
    errors={
        **NOT_FOUND,
        409: NOT_OPEN,
        413: "The file is larger than 5 MB (5242880 bytes), or the request larger than the file's limit plus "
        "64 KB (payload_too_large, the message states the limit); a request refused before its body was "
        "read closes the connection",
        422: "No file, an empty file or not a PDF (invalid_input, field file)",
    },
)
def upload_legal_proof(merge_id: str) -> Response:
    merges.merge_id_of(merge_id)
    upload = uploaded_file(
        limit=MAX_LEGAL_PROOF_BYTES,
        too_large=TOO_LARGE,
        empty="The file is empty. Please upload the signed form as a PDF.",
        missing="Please choose the signed contract-transfer form (a PDF file) as the multipart field `file`.",
    )
    assert upload is not None  # required: a missing file raised
    # merge-service checks that the content is a PDF (422 on field file otherwise).
    item = merges.upload_legal_proof(
        merge_id,
        filename=upload.filename,
        content_type=upload.mimetype,
        content=upload.content,
        token=current_principal().token,
    )
    return answer(Merge.from_proto(item), 201)
