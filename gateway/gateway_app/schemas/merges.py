"""Merging customer numbers (/api/v1/merges/..., /api/v1/merge-objections, the staff review)."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from cc_common.errors import InvalidInput
from cc_common.protoconv import enum_name
from cc_common.rules.merges import STATUSES
from customercenter.v2 import common_pb2
from pydantic import ConfigDict, model_validator

from gateway_app.schemas import MAX_OPAQUE_ID, Answer, Body, exactly_one_of, fields, omitted
from gateway_app.schemas.auth import SecondFactorCode

MERGE_ID = {"type": "string", "minLength": 1, "maxLength": MAX_OPAQUE_ID, "description": "e.g. mrg_9a8b"}
MAX_REASON = 1000
MOVED_KINDS = ("packages", "invoices", "contracts", "terminations", "offer_orders", "contact_requests")


class ComparisonRow(Answer):
    field: str
    target_value: str | None  # masked for payment data
    source_value: str | None
    result: Literal["equal", "differs", "blocking"]
    EXAMPLE: ClassVar = {"field": "last_name", "target_value": "Mustermann", "source_value": "Mustermann"}


class Merge(Answer):
    """A merge, with the comparison of both numbers' master data"""

    id: str
    target_customer_number: str
    source_customer_number: str
    status: Literal[STATUSES]  # cc_common/rules/merges.py
    market: fields.MarketName
    comparison: list[ComparisonRow]
    data_taken_over: bool
    legal_proof_uploaded: bool
    proof_method: Literal["customer_password", "package_password"]
    # A merge proven with a package password: until when the absorbed side may object (null
    # for other merges and once it confirmed), and whether it confirmed.
    objection_period_ends_at: fields.DateTime
    confirmed_by_source: bool
    cancelled_by: Literal["target", "source", "staff", "objection"] | None
    rejection_reason: str | None
    created_at: fields.DateTime
    updated_at: fields.DateTime
    completed_at: fields.DateTime
    EXAMPLE: ClassVar = {
        "id": "mrg_9a8b", "target_customer_number": "10001", "source_customer_number": "10002", "status": "ready",
        "objection_period_ends_at": None, "completed_at": None,
    }  # fmt: skip


class MergeList(Answer):
    """Merges"""

    merges: list[Merge]


class Step(Answer):
    name: str
    state: Literal["started", "done", "compensated", "failed"]
    started_at: str | None
    finished_at: str | None
    error: str | None
    EXAMPLE: ClassVar = {
        "name": "move_packages", "state": "done", "started_at": "2026-03-02T08:59:59+00:00",
        "finished_at": "2026-03-02T09:00:00+00:00",
    }  # fmt: skip


def _snapshot(raw: str) -> dict[str, Any]:
    """A master-data snapshot as an object; {} when merge-service sent none (or no object)."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class MergeAudit(Merge):
    """The merge with both master-data snapshots (when it started), the saga's step log and the
    ids of every record it moved, by kind (packages, invoices, contracts, terminations)"""

    target_snapshot: dict[str, Any]
    source_snapshot: dict[str, Any]
    steps: list[Step]
    moved: dict[str, list[str]]
    reversal_reason: str | None
    EXAMPLE: ClassVar = {
        "status": "completed", "completed_at": "2026-03-02T09:00:00+00:00",
        "target_snapshot": {"last_name": "Mustermann"}, "source_snapshot": {"last_name": "Mustermann"},
        "moved": {kind: ["pkg_3f2a9c"] if kind == "packages" else [] for kind in MOVED_KINDS},
    }  # fmt: skip

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> MergeAudit:
        moved: dict[str, list[str]] = {kind: [] for kind in MOVED_KINDS}
        for group in message.moved:
            moved.setdefault(enum_name(common_pb2.RecordKind, group.kind), []).extend(group.ids)
        return super().from_proto(
            message.merge, target_snapshot=_snapshot(message.target_snapshot_json),
            source_snapshot=_snapshot(message.source_snapshot_json), steps=[Step.from_proto(s) for s in message.steps],
            moved=moved, reversal_reason=message.reversal_reason or None,
        )  # fmt: skip


class MergeStart(Body):
    """Either source_password, or domain and domain_password (a domain of one of the source's
    packages with that package's password)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of(("source_password",), ("domain", "domain_password")))  # fmt: skip
    source_customer_number: fields.CustomerNumber
    source_password: fields.Password = omitted()
    domain: fields.Domain = omitted()
    domain_password: fields.Password = omitted()
    # With source_password, when the source number has two-factor authentication: a code of it
    # (a TOTP code or a recovery code, used up). Missing: 401 second_factor_required.
    second_factor_code: SecondFactorCode = omitted()
    EXAMPLE: ClassVar = {"source_customer_number": "10002", "source_password": "the other password"}

    @model_validator(mode="after")
    def _proof_of_ownership(self) -> MergeStart:
        has_password = self.source_password is not None
        has_domain = self.domain is not None or self.domain_password is not None
        if has_password and has_domain:
            raise InvalidInput("Give either source_password, or domain and domain_password, not both.", field="domain")  # fmt: skip
        if not has_password and not has_domain:
            raise InvalidInput(
                "Prove that the number is yours: give its customer password (source_password), or a "
                "domain of one of its packages with that package's password (domain, domain_password).",
                field="source_password",
            )
        if self.second_factor_code is not None and not has_password:
            message = "second_factor_code goes with source_password (the number's own login)."
            raise InvalidInput(message, field="second_factor_code")
        for name, other in (("domain", "domain_password"), ("domain_password", "domain")):
            if has_domain and getattr(self, name) is None:
                raise InvalidInput(f"{name} is required with {other}.", field=name)
        return self


class Objection(Body):
    token: fields.LinkToken
    EXAMPLE: ClassVar = {"token": "0bj3ct10nL1nk"}


class MergeReason(Body):
    reason: fields.text(min_len=1, max_len=MAX_REASON)
    EXAMPLE: ClassVar = {"reason": "The signed form does not match the customer number."}
