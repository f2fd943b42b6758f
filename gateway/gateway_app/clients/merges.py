"""merge-service: merges of customer numbers, their legal proof, review and audit.

A merge id is opaque; an absurdly long one cannot exist (404, as merge-service would say).
Each function returns the merge (or list, audit, proof) its RPC's <Rpc>Response carries."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cc_common.errors import NotFound
from cc_common.protoconv import enum_value
from customercenter.v2 import merge_pb2, merge_pb2_grpc
from google.protobuf.message import Message

from gateway_app.backends import Backend, current_backends
from gateway_app.proxy import client_address

M = TypeVar("M", bound=Message)  # a request message

MAX_MERGE_ID = 100
MAX_FILENAME = 255


def _merge() -> Backend[merge_pb2_grpc.MergeServiceStub]:
    return current_backends().merge


def merge_id_of(merge_id: str) -> str:
    if not merge_id or len(merge_id) > MAX_MERGE_ID:
        raise NotFound("No such merge.")
    return merge_id


def _ref(request_type: Callable[..., M], merge_id: str) -> M:
    """The RPC's request (`merge_pb2.GetMergeRequest`, ...) naming one merge."""
    return request_type(merge_id=merge_id_of(merge_id))


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
) -> merge_pb2.Merge:
    request = merge_pb2.StartMergeRequest(
        source_customer_number=source_customer_number,
        source_password=source_password,
        domain=domain,
        domain_password=domain_password,
        client_address=client_address(),
        source_second_factor_code=second_factor_code,
    )
    return _merge().invoke(_merge().stub.StartMerge, request, token=token).merge


def list_merges(status: str = "", *, token: str) -> list[merge_pb2.Merge]:
    request = merge_pb2.ListMergesRequest(status=enum_value(merge_pb2.MergeStatus, status))
    return list(_merge().invoke(_merge().stub.ListMerges, request, token=token).merges)


def get_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return (
        _merge().invoke(_merge().stub.GetMerge, _ref(merge_pb2.GetMergeRequest, merge_id), token=token).merge
    )


def take_over_data(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return (
        _merge()
        .invoke(_merge().stub.TakeOverData, _ref(merge_pb2.TakeOverDataRequest, merge_id), token=token)
        .merge
    )


def refresh_comparison(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return (
        _merge()
        .invoke(
            _merge().stub.RefreshComparison, _ref(merge_pb2.RefreshComparisonRequest, merge_id), token=token
        )
        .merge
    )


def submit_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return (
        _merge()
        .invoke(_merge().stub.SubmitMerge, _ref(merge_pb2.SubmitMergeRequest, merge_id), token=token)
        .merge
    )


def cancel_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return (
        _merge()
        .invoke(_merge().stub.CancelMerge, _ref(merge_pb2.CancelMergeRequest, merge_id), token=token)
        .merge
    )


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
    return _merge().invoke(_merge().stub.UploadLegalProof, request, token=token).merge


# --- a merge proven with a package password: the absorbed side's say ------------------------


def object_by_link(link_token: str) -> merge_pb2.Merge:
    """The objection link (anyone holding it): the merge is cancelled, both sides are told."""
    return (
        _merge().invoke(_merge().stub.ObjectToMerge, merge_pb2.ObjectToMergeRequest(token=link_token)).merge
    )


def object_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    """The absorbed customer, signed in, objects."""
    return (
        _merge()
        .invoke(_merge().stub.ObjectMerge, _ref(merge_pb2.ObjectMergeRequest, merge_id), token=token)
        .merge
    )


def confirm_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    """The absorbed customer, signed in, agrees: the waiting period for objections ends."""
    return (
        _merge()
        .invoke(_merge().stub.ConfirmMerge, _ref(merge_pb2.ConfirmMergeRequest, merge_id), token=token)
        .merge
    )


# --- the service team ------------------------------------------------------------------------


def get_merge_audit(merge_id: str, *, token: str) -> merge_pb2.GetMergeAuditResponse:
    return _merge().invoke(
        _merge().stub.GetMergeAudit, _ref(merge_pb2.GetMergeAuditRequest, merge_id), token=token
    )


def get_legal_proof(merge_id: str, *, token: str) -> merge_pb2.GetLegalProofResponse:
    return _merge().invoke(
        _merge().stub.GetLegalProof, _ref(merge_pb2.GetLegalProofRequest, merge_id), token=token
    )


def approve_merge(merge_id: str, *, token: str) -> merge_pb2.Merge:
    return (
        _merge()
        .invoke(_merge().stub.ApproveMerge, _ref(merge_pb2.ApproveMergeRequest, merge_id), token=token)
        .merge
    )


def reject_merge(merge_id: str, reason: str, *, token: str) -> merge_pb2.Merge:
    request = merge_pb2.RejectMergeRequest(merge_id=merge_id_of(merge_id), reason=reason)
    return _merge().invoke(_merge().stub.RejectMerge, request, token=token).merge


def reverse_merge(merge_id: str, reason: str, *, token: str) -> merge_pb2.Merge:
    request = merge_pb2.ReverseMergeRequest(merge_id=merge_id_of(merge_id), reason=reason)
    return _merge().invoke(_merge().stub.ReverseMerge, request, token=token).merge
