"""Merging customer numbers (customer token of the number that is kept; docs/architecture.md).

merge-service takes the target from the forwarded token and checks ownership of every merge;
the gateway only validates input, forwards and shapes the answer. A package token gets 403.
"""

from __future__ import annotations

from customercenter.v2 import merge_pb2
from flask import Blueprint

from gateway_app import use_cases
from gateway_app.api import MERGE, MERGE_NOT_OPEN, THROTTLED, Api
from gateway_app.clients import merges
from gateway_app.schemas.merges import Merge, MergeList, MergeStart, Objection
from gateway_app.security import current_token
from gateway_app.uploads import uploaded_file
from gateway_app.use_cases import MAX_LEGAL_PROOF_BYTES, TOO_LARGE

bp = Blueprint("merges", __name__, url_prefix="/api/v1/merges")
api = Api(bp, "merges", "customer", merge_id=MERGE)
# The objection link of a merge proven with a package password: no login, the link's token.
objections_bp = Blueprint("merge_objections", __name__)
ABSORBED_ONLY = {403: "The caller is not the absorbed customer number (forbidden)", 409: MERGE_NOT_OPEN}
START_FAILED = (
    "Bad proof of ownership (invalid_credentials: a wrong password or second_factor_code), the source number "
    "has two-factor authentication and no second_factor_code was given (second_factor_required), or no valid "
    "token"
)
NOT_SUBMITTABLE = (
    "Highlighted fields not taken over (differences_not_resolved), the signed form is missing "
    "(legal_proof_required), or merge_not_open"
)
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
PROOF_TOO_LARGE = (
    "The file is larger than 5 MB (5242880 bytes), or the request larger than the file's limit plus 64 KB "
    "(payload_too_large, the message states the limit); a request refused before its body was read closes "
    "the connection"
)


@api.post(
    "",
    {201: Merge},
    location="merges.get_merge",
    errors={
        401: START_FAILED,
        409: "A number already merged or in an open merge (merge_conflict), or two markets (different_markets)",
        422: "Invalid input (invalid_input, with field), or the signed-in number itself (same_customer_number)",
        **THROTTLED,
    },
)
def start_merge(body: MergeStart) -> merge_pb2.Merge:
    """Start merging another customer number into the signed-in one"""
    return use_cases.start_merge(body)


@api.get("", {200: MergeList})
def list_merges() -> MergeList:
    """The merges of the signed-in customer (the absorbed side's too)"""
    return MergeList(merges=[Merge.from_proto(item) for item in merges.list_merges(token=current_token())])


@api.get("/<merge_id>", {200: Merge}, kinds=("customer", "staff"))
def get_merge(merge_id: str) -> merge_pb2.Merge:
    """One merge"""
    return merges.get_merge(merge_id, token=current_token())


@api.post("/<merge_id>/take-over-data", {200: Merge}, errors={409: MERGE_NOT_OPEN})
def take_over_data(merge_id: str) -> merge_pb2.Merge:
    """Take over data: the kept number's values stand for every highlighted field"""
    return merges.take_over_data(merge_id, token=current_token())


@api.post(
    "/<merge_id>/refresh-comparison",
    {200: Merge},
    errors={403: "The absorbed number's login (forbidden)", 409: MERGE_NOT_OPEN},
)
def refresh_merge_comparison(merge_id: str) -> merge_pb2.Merge:
    """Compare the master data of both numbers again, after the kept number changed its own
    (PATCH /api/v1/customer); a changed comparison needs take-over-data again"""
    return merges.refresh_comparison(merge_id, token=current_token())


@api.post("/<merge_id>/submit", {202: Merge}, errors={409: NOT_SUBMITTABLE})
def submit_merge(merge_id: str) -> merge_pb2.Merge:
    """Send the order (status submitted, or approved without review)"""
    return merges.submit_merge(merge_id, token=current_token())


@api.delete("/<merge_id>", {204: "Cancelled"}, errors={409: MERGE_NOT_OPEN})
def cancel_merge(merge_id: str) -> None:
    """Cancel a merge that is not executing yet"""
    merges.cancel_merge(merge_id, token=current_token())


# --- a merge proven with a package password: the absorbed side's say ------------------------


@Api(objections_bp, "merges").post(
    "/api/v1/merge-objections",
    {204: "The merge is cancelled and both sides are told"},
    errors={400: "The link's token is unknown or was already used (invalid_token)", 409: MERGE_NOT_OPEN},
)
def object_with_link(body: Objection) -> None:
    """Object to a merge with the single-use link mailed to the absorbed customer number (no login)"""
    merges.object_to_merge(body.token)


@api.post("/<merge_id>/object", {204: "Cancelled"}, errors=ABSORBED_ONLY)
def object_to_merge(merge_id: str) -> None:
    """The absorbed customer objects to a merge of its number: it is cancelled and both sides are told"""
    merges.object_merge(merge_id, token=current_token())


@api.post("/<merge_id>/confirm", {204: "Confirmed"}, errors=ABSORBED_ONLY)
def confirm_merge(merge_id: str) -> None:
    """The absorbed customer agrees to a merge proven with a package password: the waiting period ends"""
    merges.confirm_merge(merge_id, token=current_token())


@api.post(
    "/<merge_id>/legal-proof",
    {201: Merge},
    multipart=LEGAL_PROOF_FORM,
    errors={
        409: MERGE_NOT_OPEN,
        413: PROOF_TOO_LARGE,
        422: "No file, an empty file or not a PDF (invalid_input, field file)",
    },
)
def upload_legal_proof(merge_id: str) -> merge_pb2.Merge:
    """Upload the signed contract-transfer form (PDF, at most 5 MB)"""
    merges.merge_id_of(merge_id)  # a malformed id answers 404 before the file is read
    upload = uploaded_file(
        limit=MAX_LEGAL_PROOF_BYTES,
        too_large=TOO_LARGE,
        empty="The file is empty. Please upload the signed form as a PDF.",
        missing="Please choose the signed contract-transfer form (a PDF file) as the multipart field `file`.",
    )
    assert upload is not None  # required: a missing file raised
    # merge-service checks that the content is a PDF (422 on field file otherwise).
    return merges.upload_legal_proof(
        merge_id,
        filename=upload.filename,
        content_type=upload.mimetype,
        content=upload.content,
        token=current_token(),
    )
