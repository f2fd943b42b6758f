"""merge-service: merges of customer numbers, their legal proof, review and audit.

A merge id is opaque; an absurdly long one cannot exist (404, as merge-service would say)."""

from __future__ import annotations

from collections.abc import Callable

from cc_common.protoconv import enum_value
from customercenter.v2 import merge_pb2 as pb
from customercenter.v2 import merge_pb2_grpc
from grpc import UnaryUnaryMultiCallable as Rpc

from gateway_app.backends import Q, R, current_backends, known_id
from gateway_app.proxy import client_address

MAX_FILENAME = 255


def _stub() -> merge_pb2_grpc.MergeServiceStub:
    return current_backends().merge.stub


def _call(method: Rpc[Q, R], request: Q, token: str | None = None) -> R:
    return current_backends().merge.invoke(method, request, token=token)


def _on(method: Rpc[Q, R], request_type: Callable[..., Q], merge_id: str, token: str) -> R:
    """`method` called with its request (`pb.GetMergeRequest`, ...) naming one merge."""
    return _call(method, request_type(merge_id=merge_id_of(merge_id)), token)


def merge_id_of(merge_id: str) -> str:
    return known_id(merge_id, "No such merge.")


def clean_filename(name: str | None) -> str:
    """Valid UTF-8 without control characters (a proto string), at most 255 characters."""
    text = (name or "").encode("utf-8", "replace").decode("utf-8")
    return "".join(ch for ch in text if ch.isprintable())[:MAX_FILENAME]


def start_merge(
    source_customer_number: str,
    *,
    source_password: str,
    domain: str,
    domain_password: str,
    token: str,
    second_factor_code: str = "",
) -> pb.Merge:
    request = pb.StartMergeRequest(
        source_customer_number=source_customer_number,
        source_password=source_password,
        domain=domain,
        domain_password=domain_password,
        client_address=client_address(),
        source_second_factor_code=second_factor_code,
    )
    return _call(_stub().StartMerge, request, token).merge


def list_merges(status: str = "", *, token: str) -> list[pb.Merge]:
    request = pb.ListMergesRequest(status=enum_value(pb.MergeStatus, status))
    return list(_call(_stub().ListMerges, request, token).merges)


def get_merge(merge_id: str, *, token: str) -> pb.Merge:
    return _on(_stub().GetMerge, pb.GetMergeRequest, merge_id, token).merge


def take_over_data(merge_id: str, *, token: str) -> pb.Merge:
    return _on(_stub().TakeOverData, pb.TakeOverDataRequest, merge_id, token).merge


def refresh_comparison(merge_id: str, *, token: str) -> pb.Merge:
    return _on(_stub().RefreshComparison, pb.RefreshComparisonRequest, merge_id, token).merge


def submit_merge(merge_id: str, *, token: str) -> pb.Merge:
    return _on(_stub().SubmitMerge, pb.SubmitMergeRequest, merge_id, token).merge


def cancel_merge(merge_id: str, *, token: str) -> pb.Merge:
    return _on(_stub().CancelMerge, pb.CancelMergeRequest, merge_id, token).merge


def upload_legal_proof(
    merge_id: str, *, filename: str | None, content_type: str, content: bytes, token: str
) -> pb.Merge:
    """The signed contract-transfer form; merge-service checks that it is a PDF (422 on field
    file otherwise)."""
    request = pb.UploadLegalProofRequest(
        merge_id=merge_id_of(merge_id),
        filename=clean_filename(filename),
        content_type=content_type,
        content=content,
    )
    return _call(_stub().UploadLegalProof, request, token).merge


# --- a merge proven with a package password: the absorbed side's say ------------------------


def object_to_merge(link_token: str) -> pb.Merge:
    """The objection link (anyone holding it): the merge is cancelled, both sides are told."""
    return _call(_stub().ObjectToMerge, pb.ObjectToMergeRequest(token=link_token)).merge


def object_merge(merge_id: str, *, token: str) -> pb.Merge:
    """The absorbed customer, signed in, objects."""
    return _on(_stub().ObjectMerge, pb.ObjectMergeRequest, merge_id, token).merge


def confirm_merge(merge_id: str, *, token: str) -> pb.Merge:
    """The absorbed customer, signed in, agrees: the waiting period for objections ends."""
    return _on(_stub().ConfirmMerge, pb.ConfirmMergeRequest, merge_id, token).merge


# --- the service team ------------------------------------------------------------------------


def get_merge_audit(merge_id: str, *, token: str) -> pb.GetMergeAuditResponse:
    return _on(_stub().GetMergeAudit, pb.GetMergeAuditRequest, merge_id, token)


def get_legal_proof(merge_id: str, *, token: str) -> pb.GetLegalProofResponse:
    return _on(_stub().GetLegalProof, pb.GetLegalProofRequest, merge_id, token)


def approve_merge(merge_id: str, *, token: str) -> pb.Merge:
    return _on(_stub().ApproveMerge, pb.ApproveMergeRequest, merge_id, token).merge


def reject_merge(merge_id: str, reason: str, *, token: str) -> pb.Merge:
    request = pb.RejectMergeRequest(merge_id=merge_id_of(merge_id), reason=reason)
    return _call(_stub().RejectMerge, request, token).merge


def reverse_merge(merge_id: str, reason: str, *, token: str) -> pb.Merge:
    request = pb.ReverseMergeRequest(merge_id=merge_id_of(merge_id), reason=reason)
    return _call(_stub().ReverseMerge, request, token).merge
