"""The states of a merge order: merge-service runs the state machine, the gateway shows and
filters by these names."""

from __future__ import annotations

NEEDS_LEGAL_PROOF = "needs_legal_proof"
READY = "ready"
SUBMITTED = "submitted"
APPROVED = "approved"
EXECUTING = "executing"
COMPLETED = "completed"
REJECTED = "rejected"
CANCELLED = "cancelled"
FAILED = "failed"
REVERSING = "reversing"
REVERSED = "reversed"

# Every state, in the order of a merge's life.
STATUSES = (
    NEEDS_LEGAL_PROOF, READY, SUBMITTED, APPROVED, EXECUTING, COMPLETED,
    REJECTED, CANCELLED, FAILED, REVERSING, REVERSED,
)  # fmt: skip
