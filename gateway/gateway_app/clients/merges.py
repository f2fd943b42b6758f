"""merge-service: merges of customer numbers, their legal proof, review and audit.

A merge id is opaque; an absurdly long one cannot exist (404, as merge-service would say)."""

from __future__ import annotations

from cc_common.errors import NotFound
from customercenter.v1 import merge_pb2, merge_pb2_grpc

from gateway_app.backends import Backend, current_backends
from gateway_app.proxy import client_address

MAX_MERGE_ID = 100
MAX_FILENAME = 255


def _merge() -> Backend[merge_pb2_grpc.MergeServiceStub]:
    return current_backends().merge


def merge_id_of(merge_id: str) -> str:
    if not merge_id or len(merge_id) > MAX_MERGE_ID:
        raise NotFound("No such merge.")
    return merge_id


def _ref(merge_id: str) -> merge_pb2.MergeRef:
    return merge_pb2.MergeRef(merge_id=merge_id_of(merge_id))


def clean_filename(name: str | None) -> str:
    """Valid UTF-8 without control characters (a proto string), at most 255 characters."""
    text = (name or "").encode("utf-8", "replace").decode("utf-8")
    return "".join(ch for ch in text if ch.isprintable())[:MAX_FILENAME]


def start_merge(
    source_customer_number: str, *, source_password: str, domain: str, domain_password: str, token: str
) -> merge_pb2.Merge:
    request = merge_pb2.StartMergeRequest(
        source_customer_number=source_customer_number,
        source_password=source_password,
        domain=domain,
        domain_password=domain_password,
        client_address=client_address(),
    )
    return _merge().invoke(_merge().stub.StartMerge, request, token=token)


def list_merges(status: str = "", *, token: str) -> list[merge_pb2.Merge]:
    request = merge_pb2.ListMergesRequest(status=status)
    return list(_merge().invoke(_merge().stub.ListMerges, request, token=token).merges)


def get_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return _merge().invoke(_merge().stub.GetMerge, _ref(merge_id), token=token)


def take_over_data(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return _merge().invoke(_merge().stub.TakeOverData, _ref(merge_id), token=token)


def submit_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return _merge().invoke(_merge().stub.SubmitMerge, _ref(merge_id), token=token)


def cancel_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return _merge().invoke(_merge().stub.CancelMerge, _ref(merge_id), token=token)


def upload_legal_proof(
    merge_id: str, *, filename: str | None, content_type: str, content: bytes, token: str
) -> merge_pb2.Merge:
    """The signed contract-transfer form; merge-service checks that it is a PDF (422 on field
    file otherwise)."""
    request = merge_pb2.UploadLegalProofRequest(
        merge_id=merge_id_of(merge_id),
        filename=clean_filename(filename),
        content_type=content_type,
        content=content,
    )
    return _merge().invoke(_merge().stub.UploadLegalProof, request, token=token)


# --- a merge proven with a package password: the absorbed side's say ------------------------


def object_by_link(link_token: str) -> merge_pb2.Merge:
    """The objection link (anyone holding it): the merge is cancelled, both sides are told."""
    return _merge().invoke(_merge().stub.ObjectToMerge, merge_pb2.ObjectionRequest(token=link_token))


def object_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    """The absorbed customer, signed in, objects."""
    return _merge().invoke(_merge().stub.ObjectMerge, _ref(merge_id), token=token)


def confirm_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    """The absorbed customer, signed in, agrees: the waiting period for objections ends."""
    return _merge().invoke(_merge().stub.ConfirmMerge, _ref(merge_id), token=token)


# --- the service team ------------------------------------------------------------------------


def get_merge_audit(merge_id: str, *, token: str) -> merge_pb2.MergeAudit:
    return _merge().invoke(_merge().stub.GetMergeAudit, _ref(merge_id), token=token)


def get_legal_proof(merge_id: str, *, token: str) -> merge_pb2.LegalProof:
    return _merge().invoke(_merge().stub.GetLegalProof, _ref(merge_id), token=token)


def approve_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return _merge().invoke(_merge().stub.ApproveMerge, _ref(merge_id), token=token)


def reject_merge(merge_id: str, reason: str, *, token: str) -> merge_pb2.Merge:
    request = merge_pb2.RejectMergeRequest(merge_id=merge_id_of(merge_id), reason=reason)
    return _merge().invoke(_merge().stub.RejectMerge, request, token=token)


def reverse_merge(merge_id: str, reason: str, *, token: str) -> merge_pb2.Merge:
    request = merge_pb2.ReverseMergeRequest(merge_id=merge_id_of(merge_id), reason=reason)
    return _merge().invoke(_merge().stub.ReverseMerge, request, token=token)
