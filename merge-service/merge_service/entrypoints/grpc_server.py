"""The gRPC servicer of merge-service: proto in, one service call, proto out (enums and
Timestamps mapped to the domain's names and datetimes with cc_common.protoconv)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from cc_common.grpc_server import rpc
from cc_common.grpc_types import Context
from cc_common.protoconv import enum_name, enum_value, timestamp
from cc_common.tokens import Principal
from customercenter.v2 import common_pb2, merge_pb2, merge_pb2_grpc

from merge_service.domain.model import DEFAULT_OBJECTION_PERIOD, Merge
from merge_service.service_layer import services
from merge_service.service_layer.ports import Backends
from merge_service.service_layer.saga import SagaRunner
from merge_service.service_layer.unit_of_work import UnitOfWork


def to_proto(merge: Merge, objection_period: timedelta = DEFAULT_OBJECTION_PERIOD) -> merge_pb2.Merge:
    return merge_pb2.Merge(
        id=merge.id,
        target_customer_number=merge.target_customer_number,
        source_customer_number=merge.source_customer_number,
        status=enum_value(merge_pb2.MergeStatus, merge.status),
        comparison=[
            merge_pb2.ComparisonRow(
                field=r.field,
                target_value=r.target_value,
                source_value=r.source_value,
                result=enum_value(merge_pb2.ComparisonResult, r.result),
            )
            for r in merge.comparison
        ],
        data_taken_over=merge.data_taken_over,
        legal_proof_uploaded=merge.legal_proof_uploaded,
        market=enum_value(common_pb2.Market, merge.market),
        rejection_reason=merge.rejection_reason,
        created_at=timestamp(merge.created_at),
        updated_at=timestamp(merge.updated_at),
        completed_at=timestamp(merge.completed_at),
        proof_method=enum_value(merge_pb2.ProofMethod, merge.proof_method),
        objection_period_ends_at=timestamp(merge.objection_period_ends_at(objection_period)),
        confirmed_by_source=merge.source_confirmed_at is not None,
        cancelled_by=enum_value(merge_pb2.MergeCanceller, merge.cancelled_by),
    )


class MergeServicer(merge_pb2_grpc.MergeServiceServicer):
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        backends: Backends,
        saga: SagaRunner,
        *,
        auto_review: bool,
        agreement: services.AgreementPolicy | None = None,
        on_mail: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow_factory
        self._backends = backends
        self._saga = saga
        self._auto_review = auto_review
        self._agreement = agreement or services.AgreementPolicy()
        self._on_mail = on_mail  # wakes the outbox dispatcher

    def _proto(self, merge: Merge) -> merge_pb2.Merge:
        return to_proto(merge, self._agreement.objection_period)

    # Runs in a thread: it calls identity (a password hash) and contract-service.
    @rpc("customer", in_thread=True)
    def StartMerge(
        self, request: merge_pb2.StartMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.StartMergeResponse:
        merge = services.start_merge(
            uow=self._uow(),
            backends=self._backends,
            caller=caller,
            source_customer_number=request.source_customer_number,
            source_password=request.source_password,
            domain=request.domain,
            domain_password=request.domain_password,
            client_address=request.client_address,
            second_factor_code=request.source_second_factor_code,
            agreement=self._agreement,
            on_mail=self._on_mail,
        )
        return merge_pb2.StartMergeResponse(merge=self._proto(merge))

    @rpc("customer", "staff")
    def GetMerge(
        self, request: merge_pb2.GetMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.GetMergeResponse:
        merge = services.get_merge(uow=self._uow(), caller=caller, merge_id=request.merge_id)
        return merge_pb2.GetMergeResponse(merge=self._proto(merge))

    @rpc("customer", "staff")
    def ListMerges(
        self, request: merge_pb2.ListMergesRequest, context: Context, caller: Principal
    ) -> merge_pb2.ListMergesResponse:
        merges = services.list_merges(
            uow=self._uow(), caller=caller, status=enum_name(merge_pb2.MergeStatus, request.status)
        )
        return merge_pb2.ListMergesResponse(merges=[self._proto(m) for m in merges])

    @rpc("customer")
    def TakeOverData(
        self, request: merge_pb2.TakeOverDataRequest, context: Context, caller: Principal
    ) -> merge_pb2.TakeOverDataResponse:
        merge = services.take_over_data(uow=self._uow(), caller=caller, merge_id=request.merge_id)
        return merge_pb2.TakeOverDataResponse(merge=self._proto(merge))

    @rpc("customer")
    def RefreshComparison(
        self, request: merge_pb2.RefreshComparisonRequest, context: Context, caller: Principal
    ) -> merge_pb2.RefreshComparisonResponse:
        merge = services.refresh_comparison(
            uow=self._uow(), backends=self._backends, caller=caller, merge_id=request.merge_id
        )
        return merge_pb2.RefreshComparisonResponse(merge=self._proto(merge))

    @rpc("customer")
    def SubmitMerge(
        self, request: merge_pb2.SubmitMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.SubmitMergeResponse:
        merge = services.submit_merge(
            uow=self._uow(),
            caller=caller,
            merge_id=request.merge_id,
            auto_review=self._auto_review,
            schedule=self._saga.schedule,
        )
        return merge_pb2.SubmitMergeResponse(merge=self._proto(merge))

    @rpc("customer", "staff")
    def CancelMerge(
        self, request: merge_pb2.CancelMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.CancelMergeResponse:
        merge = services.cancel_merge(
            uow=self._uow(), caller=caller, merge_id=request.merge_id, on_mail=self._on_mail
        )
        return merge_pb2.CancelMergeResponse(merge=self._proto(merge))

    @rpc("customer")
    def UploadLegalProof(
        self, request: merge_pb2.UploadLegalProofRequest, context: Context, caller: Principal
    ) -> merge_pb2.UploadLegalProofResponse:
        merge = services.upload_legal_proof(
            uow=self._uow(),
            caller=caller,
            merge_id=request.merge_id,
            filename=request.filename,
            content_type=request.content_type,
            content=request.content,
        )
        return merge_pb2.UploadLegalProofResponse(merge=self._proto(merge))

    @rpc("staff")
    def GetLegalProof(
        self, request: merge_pb2.GetLegalProofRequest, context: Context, caller: Principal
    ) -> merge_pb2.GetLegalProofResponse:
        filename, content_type, content, uploaded_at = services.get_legal_proof(
            uow=self._uow(), caller=caller, merge_id=request.merge_id
        )
        return merge_pb2.GetLegalProofResponse(
            filename=filename, content_type=content_type, content=content, uploaded_at=timestamp(uploaded_at)
        )

    @rpc("staff")
    def ApproveMerge(
        self, request: merge_pb2.ApproveMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.ApproveMergeResponse:
        merge = services.approve_merge(
            uow=self._uow(),
            merge_id=request.merge_id,
            schedule=self._saga.schedule,
            objection_period=self._agreement.objection_period,
        )
        return merge_pb2.ApproveMergeResponse(merge=self._proto(merge))

    @rpc("staff")
    def RejectMerge(
        self, request: merge_pb2.RejectMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.RejectMergeResponse:
        merge = services.reject_merge(uow=self._uow(), merge_id=request.merge_id, reason=request.reason)
        return merge_pb2.RejectMergeResponse(merge=self._proto(merge))

    @rpc("staff")
    def GetMergeAudit(
        self, request: merge_pb2.GetMergeAuditRequest, context: Context, caller: Principal
    ) -> merge_pb2.GetMergeAuditResponse:
        merge, steps, moved = services.audit(uow=self._uow(), merge_id=request.merge_id)
        return merge_pb2.GetMergeAuditResponse(
            merge=self._proto(merge),
            target_snapshot_json=json.dumps(merge.target_snapshot, sort_keys=True),
            source_snapshot_json=json.dumps(merge.source_snapshot, sort_keys=True),
            steps=[
                merge_pb2.MergeStep(
                    name=f"{s.saga}:{s.step}",
                    state=enum_value(merge_pb2.MergeStepState, s.state),
                    started_at=timestamp(s.started_at),
                    finished_at=timestamp(s.finished_at),
                    error=s.error,
                )
                for s in steps
            ],
            moved=[
                merge_pb2.MovedRecords(kind=enum_value(common_pb2.RecordKind, kind), ids=ids)
                for kind, ids in moved.items()
            ],
            reversal_reason=merge.reversal_reason,
        )

    @rpc("staff")
    def ReverseMerge(
        self, request: merge_pb2.ReverseMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.ReverseMergeResponse:
        merge = services.reverse_merge(
            uow=self._uow(),
            backends=self._backends,
            merge_id=request.merge_id,
            reason=request.reason,
            schedule=self._saga.schedule,
        )
        return merge_pb2.ReverseMergeResponse(merge=self._proto(merge))

    # --- a merge proven with a package password: the absorbed side's say --------------------

    @rpc("service:gateway")
    def ObjectToMerge(
        self, request: merge_pb2.ObjectToMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.ObjectToMergeResponse:
        merge = services.object_by_token(uow=self._uow(), token=request.token, on_mail=self._on_mail)
        return merge_pb2.ObjectToMergeResponse(merge=self._proto(merge))

    @rpc("customer")
    def ObjectMerge(
        self, request: merge_pb2.ObjectMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.ObjectMergeResponse:
        merge = services.object_merge(
            uow=self._uow(), caller=caller, merge_id=request.merge_id, on_mail=self._on_mail
        )
        return merge_pb2.ObjectMergeResponse(merge=self._proto(merge))

    @rpc("customer")
    def ConfirmMerge(
        self, request: merge_pb2.ConfirmMergeRequest, context: Context, caller: Principal
    ) -> merge_pb2.ConfirmMergeResponse:
        merge = services.confirm_merge(uow=self._uow(), caller=caller, merge_id=request.merge_id)
        return merge_pb2.ConfirmMergeResponse(merge=self._proto(merge))
