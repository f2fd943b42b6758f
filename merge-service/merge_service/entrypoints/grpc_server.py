"""The gRPC servicer of merge-service: proto in, one service call, proto out."""

from __future__ import annotations

import json

from cc_common.grpc_server import rpc
from cc_common.tokens import Principal
from customercenter.v1 import merge_pb2, merge_pb2_grpc

from merge_service.domain.model import Merge
from merge_service.service_layer import services


def _iso(value) -> str:
    return value.isoformat() if value else ""


def to_proto(merge: Merge) -> merge_pb2.Merge:
    return merge_pb2.Merge(
        id=merge.id,
        target_customer_number=merge.target_customer_number,
        source_customer_number=merge.source_customer_number,
        status=merge.status,
        comparison=[
            merge_pb2.ComparisonRow(field=r.field, target_value=r.target_value, source_value=r.source_value, result=r.result)
            for r in merge.comparison
        ],
        data_taken_over=merge.data_taken_over,
        legal_proof_uploaded=merge.legal_proof_uploaded,
        market=merge.market,
        rejection_reason=merge.rejection_reason,
        created_at=_iso(merge.created_at),
        updated_at=_iso(merge.updated_at),
        completed_at=_iso(merge.completed_at),
        proof_method=merge.proof_method,
    )


class MergeServicer(merge_pb2_grpc.MergeServiceServicer):
    def __init__(self, uow_factory, backends, saga, *, auto_review: bool) -> None:
        self._uow = uow_factory
        self._backends = backends
        self._saga = saga
        self._auto_review = auto_review

    # Runs in a thread: it calls identity (a password hash) and contract-service.
    @rpc("customer", in_thread=True)
    def StartMerge(self, request, context, caller: Principal):
        return to_proto(
            services.start_merge(
                uow=self._uow(),
                backends=self._backends,
                caller=caller,
                source_customer_number=request.source_customer_number,
                source_password=request.source_password,
                domain=request.domain,
                domain_password=request.domain_password,
                client_address=request.client_address,
            )
        )

    @rpc("customer", "staff")
    def GetMerge(self, request, context, caller: Principal):
        return to_proto(services.get_merge(uow=self._uow(), caller=caller, merge_id=request.merge_id))

    @rpc("customer", "staff")
    def ListMerges(self, request, context, caller: Principal):
        merges = services.list_merges(uow=self._uow(), caller=caller, status=request.status)
        return merge_pb2.MergeList(merges=[to_proto(m) for m in merges])

    @rpc("customer")
    def TakeOverData(self, request, context, caller: Principal):
        return to_proto(services.take_over_data(uow=self._uow(), caller=caller, merge_id=request.merge_id))

    @rpc("customer")
    def SubmitMerge(self, request, context, caller: Principal):
        return to_proto(
            services.submit_merge(
                uow=self._uow(), caller=caller, merge_id=request.merge_id, auto_review=self._auto_review, schedule=self._saga.schedule
            )
        )

    @rpc("customer", "staff")
    def CancelMerge(self, request, context, caller: Principal):
        return to_proto(services.cancel_merge(uow=self._uow(), caller=caller, merge_id=request.merge_id))

    @rpc("customer")
    def UploadLegalProof(self, request, context, caller: Principal):
        return to_proto(
            services.upload_legal_proof(
                uow=self._uow(),
                caller=caller,
                merge_id=request.merge_id,
                filename=request.filename,
                content_type=request.content_type,
                content=request.content,
            )
        )

    @rpc("staff")
    def GetLegalProof(self, request, context, caller: Principal):
        filename, content_type, content, uploaded_at = services.get_legal_proof(
            uow=self._uow(), caller=caller, merge_id=request.merge_id
        )
        return merge_pb2.LegalProof(filename=filename, content_type=content_type, content=content, uploaded_at=_iso(uploaded_at))

    @rpc("staff")
    def ApproveMerge(self, request, context, caller: Principal):
        return to_proto(services.approve_merge(uow=self._uow(), merge_id=request.merge_id, schedule=self._saga.schedule))

    @rpc("staff")
    def RejectMerge(self, request, context, caller: Principal):
        return to_proto(services.reject_merge(uow=self._uow(), merge_id=request.merge_id, reason=request.reason))

    @rpc("staff")
    def GetMergeAudit(self, request, context, caller: Principal):
        merge, steps, moved = services.audit(uow=self._uow(), merge_id=request.merge_id)
        return merge_pb2.MergeAudit(
            merge=to_proto(merge),
            target_snapshot_json=json.dumps(merge.target_snapshot, sort_keys=True),
            source_snapshot_json=json.dumps(merge.source_snapshot, sort_keys=True),
            steps=[
                merge_pb2.MergeStep(
                    name=f"{s.saga}:{s.step}", state=s.state, started_at=_iso(s.started_at), finished_at=_iso(s.finished_at), error=s.error
                )
                for s in steps
            ],
            moved=[merge_pb2.MovedRecords(kind=kind, ids=ids) for kind, ids in moved.items()],
            reversal_reason=merge.reversal_reason,
        )

    @rpc("staff")
    def ReverseMerge(self, request, context, caller: Principal):
        return to_proto(
            services.reverse_merge(uow=self._uow(), backends=self._backends, merge_id=request.merge_id, reason=request.reason, schedule=self._saga.schedule)
        )
