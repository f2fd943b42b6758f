"""The tables of merge-service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from cc_common.outbox import outbox_table
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    # Every row class maps one table (DeclarativeBase types it as any FromClause).
    __table__: ClassVar[Table]


class MergeRow(Base):
    __tablename__ = "merges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    target_customer_number: Mapped[str] = mapped_column(String(20), index=True)
    source_customer_number: Mapped[str] = mapped_column(String(20), index=True)
    market: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(24), index=True)
    comparison_json: Mapped[str] = mapped_column(Text, default="[]")
    data_taken_over: Mapped[bool] = mapped_column(Boolean, default=False)
    proof_method: Mapped[str] = mapped_column(String(30), default="")
    needs_review: Mapped[bool] = mapped_column(Boolean, default=True)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    reversal_reason: Mapped[str] = mapped_column(Text, default="")
    target_snapshot_json: Mapped[str] = mapped_column(Text, default="{}")
    source_snapshot_json: Mapped[str] = mapped_column(Text, default="{}")
    legal_proof_filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    legal_proof_content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    legal_proof: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    legal_proof_uploaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A merge proven with a package password (a two-sided agreement): the absorbed side's
    # notice, its confirmation, and the SHA-256 of the single-use token of its objection link.
    source_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    source_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    objection_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    cancelled_by: Mapped[str] = mapped_column(String(16), default="")
    # The saga's lease (docs/merge-saga.md): the copy of merge-service running it and until
    # when; after a failure, when it is tried next and how many tries failed so far.
    saga_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    saga_lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    saga_next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    saga_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The W3C traceparent of the saga's own trace ("00-<trace id>-<span id>-<flags>").
    saga_trace: Mapped[str | None] = mapped_column(String(55), nullable=True)


class MergeLockRow(Base):
    """ "Only two numbers at a time": a number in an open merge has a row here (primary key)."""

    __tablename__ = "merge_locks"

    customer_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    merge_id: Mapped[str] = mapped_column(ForeignKey("merges.id"), index=True)


class MergeStepRow(Base):
    """The saga's step log: written before (started) and after (done) each step."""

    __tablename__ = "merge_steps"

    merge_id: Mapped[str] = mapped_column(ForeignKey("merges.id"), primary_key=True)
    saga: Mapped[str] = mapped_column(String(16), primary_key=True)  # execute, reverse
    step: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16))  # started, done, compensated, failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


class MovedRecordsRow(Base):
    """The ids of every record of one kind a merge moved, for the audit (one row per kind:
    10,000 ids are one write, not 10,000)."""

    __tablename__ = "moved_record_sets"

    merge_id: Mapped[str] = mapped_column(ForeignKey("merges.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    ids: Mapped[str] = mapped_column(Text, default="")  # comma-separated


outbox = outbox_table(Base.metadata)
