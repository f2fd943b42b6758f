"""Reading and writing merges, locks, the step log and moved records."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, overload

from cc_common import outbox as outbox_mod
from cc_common.db import rowcount
from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from merge_service.adapters.orm import MergeLockRow, MergeRow, MergeStepRow, MovedRecordsRow, outbox
from merge_service.domain.model import EXECUTING, REVERSING, ComparisonRow, Merge


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: datetime | None) -> datetime | None: ...
def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class StepRecord:
    saga: str
    step: str
    position: int
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    error: str


class LockTaken(Exception):
    """One of the numbers is already in an open merge."""


class MergeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # merges ------------------------------------------------------------------------------
    def add(self, merge: Merge) -> None:
        row = MergeRow(id=merge.id)
        self._write(row, merge)
        self.session.add(row)
        self.session.flush()

    def save(self, merge: Merge) -> None:
        row = self.session.get(MergeRow, merge.id)
        assert row is not None
        self._write(row, merge)
        self.session.flush()

    def get(self, merge_id: str, *, for_update: bool = False) -> Merge | None:
        stmt = select(MergeRow).where(MergeRow.id == merge_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.scalar(stmt)
        return self._read(row) if row else None

    def by_objection_token(self, token_hash: str) -> Merge | None:
        """The merge whose objection link carries this token (its SHA-256), locked."""
        if not token_hash:
            return None
        row = self.session.scalar(
            select(MergeRow).where(MergeRow.objection_token_hash == token_hash).with_for_update()
        )
        return self._read(row) if row else None

    def set_objection_token(self, merge_id: str, token_hash: str | None) -> None:
        """Stores the token of the objection link (None: the link is used up)."""
        row = self.session.get(MergeRow, merge_id)
        assert row is not None
        row.objection_token_hash = token_hash
        self.session.flush()

    def list_for_customer(self, customer_number: str) -> list[Merge]:
        rows = self.session.scalars(
            select(MergeRow)
            .where(
                (MergeRow.target_customer_number == customer_number)
                | (MergeRow.source_customer_number == customer_number)
            )
            .order_by(MergeRow.created_at.desc())
        )
        return [self._read(r) for r in rows]

    def list_by_status(self, status: str | None) -> list[Merge]:
        stmt = select(MergeRow).order_by(MergeRow.created_at)
        if status:
            stmt = stmt.where(MergeRow.status == status)
        return [self._read(r) for r in self.session.scalars(stmt)]

    def ids_in_status(self, *statuses: str) -> list[str]:
        return list(self.session.scalars(select(MergeRow.id).where(MergeRow.status.in_(statuses))))

    def legal_proof(self, merge_id: str) -> tuple[str, str, bytes, datetime | None] | None:
        row = self.session.get(MergeRow, merge_id)
        if row is None or row.legal_proof is None:
            return None
        return (
            row.legal_proof_filename or "legal-proof.pdf",
            row.legal_proof_content_type or "application/pdf",
            row.legal_proof,
            _aware(row.legal_proof_uploaded_at),
        )

    def store_legal_proof(
        self, merge_id: str, filename: str, content_type: str, content: bytes, at: datetime
    ) -> None:
        row = self.session.get(MergeRow, merge_id)
        assert row is not None
        row.legal_proof_filename = filename
        row.legal_proof_content_type = content_type
        row.legal_proof = content
        row.legal_proof_uploaded_at = at

    # locks -------------------------------------------------------------------------------
    def lock(self, merge_id: str, numbers: list[str]) -> None:
        """Takes the lock of each number; LockTaken when one is held by an open merge."""
        # Always in the same order: two merges locking {A, B} from either side wait for each
        # other instead of deadlocking, and the second one finds the first one's row.
        try:
            with self.session.begin_nested():
                for number in sorted(set(numbers)):
                    self.session.add(MergeLockRow(customer_number=number, merge_id=merge_id))
                self.session.flush()
        except IntegrityError:
            raise LockTaken() from None
        except OperationalError as exc:  # a deadlock or serialization failure: the other won
            if getattr(getattr(exc, "orig", None), "sqlstate", "") in ("40P01", "40001"):
                raise LockTaken() from None
            raise

    def unlock(self, merge_id: str) -> None:
        self.session.execute(delete(MergeLockRow).where(MergeLockRow.merge_id == merge_id))

    # saga --------------------------------------------------------------------------------
    def steps(self, merge_id: str, saga: str | None = None) -> list[StepRecord]:
        stmt = select(MergeStepRow).where(MergeStepRow.merge_id == merge_id)
        if saga:
            stmt = stmt.where(MergeStepRow.saga == saga)
        rows = self.session.scalars(stmt.order_by(MergeStepRow.saga, MergeStepRow.position))
        return [
            StepRecord(
                r.saga,
                r.step,
                r.position,
                r.state,
                _aware(r.started_at),
                _aware(r.finished_at),
                r.error or "",
            )
            for r in rows
        ]

    def step_state(self, merge_id: str, saga: str, step: str) -> str | None:
        row = self.session.get(MergeStepRow, (merge_id, saga, step))
        return row.state if row else None

    def mark_step(
        self, merge_id: str, saga: str, step: str, position: int, state: str, at: datetime, error: str = ""
    ) -> None:
        row = self.session.get(MergeStepRow, (merge_id, saga, step))
        if row is None:
            row = MergeStepRow(merge_id=merge_id, saga=saga, step=step, position=position, started_at=at)
            self.session.add(row)
        row.state = state
        row.error = error[:2000]
        if state != "started":
            row.finished_at = at
        self.session.flush()

    def record_moved(self, merge_id: str, kind: str, ids: list[str]) -> None:
        """Stores what a step moved; a repeated step (after a crash) stores nothing new."""
        if self.session.get(MovedRecordsRow, (merge_id, kind)) is None:
            self.session.add(MovedRecordsRow(merge_id=merge_id, kind=kind, count=len(ids), ids=",".join(ids)))
            self.session.flush()

    def moved(self, merge_id: str) -> dict[str, list[str]]:
        rows = self.session.scalars(
            select(MovedRecordsRow).where(MovedRecordsRow.merge_id == merge_id).order_by(MovedRecordsRow.kind)
        )
        return {row.kind: sorted(i for i in row.ids.split(",") if i) for row in rows}

    # saga leases --------------------------------------------------------------------------
    # One copy of merge-service at a time runs the saga of a merge: the one named in
    # saga_owner while saga_lease_until has not passed. Every change of the lease is a
    # compare-and-set UPDATE (rowcount 1: it worked), correct on SQLite without row locks; on
    # PostgreSQL a poller picks its candidate with FOR UPDATE SKIP LOCKED as well.
    def _set_lease(self, where: tuple[ColumnElement[bool], ...], **values: Any) -> bool:
        result = self.session.execute(
            update(MergeRow).where(*where).values(**values).execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    @staticmethod
    def _free(owner: str, now: datetime) -> ColumnElement[bool]:
        return or_(
            MergeRow.saga_owner.is_(None), MergeRow.saga_lease_until < now, MergeRow.saga_owner == owner
        )

    def claim_saga(self, merge_id: str, owner: str, now: datetime, until: datetime) -> bool:
        """Takes the lease of one open saga (executing or reversing) unless another copy holds
        it; due or not (scheduled at once by this copy)."""
        return self._set_lease(
            (MergeRow.id == merge_id, MergeRow.status.in_((EXECUTING, REVERSING)), self._free(owner, now)),
            saga_owner=owner,
            saga_lease_until=until,
        )

    @staticmethod
    def _due(now: datetime) -> ColumnElement[bool]:
        return and_(
            MergeRow.status.in_((EXECUTING, REVERSING)),
            or_(MergeRow.saga_owner.is_(None), MergeRow.saga_lease_until < now),
            or_(MergeRow.saga_next_attempt_at.is_(None), MergeRow.saga_next_attempt_at <= now),
        )

    def claim_due_saga(self, owner: str, now: datetime, until: datetime) -> tuple[bool, str | None]:
        """(False, None): no saga is due. (True, id): this copy now holds the lease of that
        merge. (True, None): another copy took the one picked first."""
        pick = select(MergeRow.id).where(self._due(now)).order_by(MergeRow.updated_at).limit(1)
        if self.session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        merge_id = self.session.scalar(pick)
        if merge_id is None:
            return False, None
        taken = self._set_lease(
            (MergeRow.id == merge_id, self._due(now)), saga_owner=owner, saga_lease_until=until
        )
        return True, merge_id if taken else None

    def hold_saga(self, merge_id: str, owner: str, now: datetime, until: datetime) -> bool:
        """Renews the lease if this copy still holds it (the fence of every write of a step)."""
        return self._set_lease(
            (MergeRow.id == merge_id, MergeRow.saga_owner == owner, MergeRow.saga_lease_until >= now),
            saga_lease_until=until,
        )

    def release_saga(
        self, merge_id: str, owner: str, *, next_attempt_at: datetime | None, attempts: int | None
    ) -> bool:
        """Gives the lease up (if still held); `attempts` None leaves the count as it is."""
        values: dict[str, Any] = {
            "saga_owner": None,
            "saga_lease_until": None,
            "saga_next_attempt_at": next_attempt_at,
        }
        if attempts is not None:
            values["saga_attempts"] = attempts
        return self._set_lease((MergeRow.id == merge_id, MergeRow.saga_owner == owner), **values)

    def set_saga_trace(self, merge_id: str, traceparent: str) -> None:
        self.session.execute(update(MergeRow).where(MergeRow.id == merge_id).values(saga_trace=traceparent))

    def saga_attempts(self, merge_id: str) -> int:
        return self.session.scalar(select(MergeRow.saga_attempts).where(MergeRow.id == merge_id)) or 0

    # mail --------------------------------------------------------------------------------
    def queue_mail(self, *, dedup_key: str, recipient: str, subject: str, body: str) -> None:
        if recipient:
            outbox_mod.enqueue(
                self.session, outbox, dedup_key=dedup_key, recipient=recipient, subject=subject, body=body
            )

    # mapping -----------------------------------------------------------------------------
    @staticmethod
    def _write(row: MergeRow, merge: Merge) -> None:
        row.target_customer_number = merge.target_customer_number
        row.source_customer_number = merge.source_customer_number
        row.market = merge.market
        row.status = merge.status
        row.comparison_json = json.dumps([asdict(r) for r in merge.comparison])
        row.data_taken_over = merge.data_taken_over
        row.proof_method = merge.proof_method
        row.needs_review = merge.needs_review
        row.rejection_reason = merge.rejection_reason
        row.reversal_reason = merge.reversal_reason
        row.target_snapshot_json = json.dumps(merge.target_snapshot, sort_keys=True)
        row.source_snapshot_json = json.dumps(merge.source_snapshot, sort_keys=True)
        row.created_at = merge.created_at
        row.updated_at = merge.updated_at
        row.completed_at = merge.completed_at
        row.source_notified_at = merge.source_notified_at
        row.source_confirmed_at = merge.source_confirmed_at
        row.cancelled_by = merge.cancelled_by
        row.saga_trace = merge.saga_trace or None

    @staticmethod
    def _read(row: MergeRow) -> Merge:
        return Merge(
            id=row.id,
            target_customer_number=row.target_customer_number,
            source_customer_number=row.source_customer_number,
            market=row.market,
            status=row.status,
            comparison=[ComparisonRow(**r) for r in json.loads(row.comparison_json or "[]")],
            data_taken_over=row.data_taken_over,
            proof_method=row.proof_method,
            legal_proof_uploaded=row.legal_proof_uploaded_at is not None,
            needs_review=row.needs_review,
            rejection_reason=row.rejection_reason,
            reversal_reason=row.reversal_reason,
            target_snapshot=json.loads(row.target_snapshot_json or "{}"),
            source_snapshot=json.loads(row.source_snapshot_json or "{}"),
            created_at=_aware(row.created_at),
            updated_at=_aware(row.updated_at),
            completed_at=_aware(row.completed_at),
            source_notified_at=_aware(row.source_notified_at),
            source_confirmed_at=_aware(row.source_confirmed_at),
            cancelled_by=row.cancelled_by or "",
            saga_trace=row.saga_trace or "",
        )
