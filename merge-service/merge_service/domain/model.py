"""Merge orders: the comparison of master data and the state machine. No I/O here."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cc_common.errors import Conflict, InvalidInput
from cc_common.rules.merges import (
    APPROVED,
    CANCELLED,
    COMPLETED,
    EXECUTING,
    FAILED,
    NEEDS_LEGAL_PROOF,
    READY,
    REJECTED,
    REVERSED,
    REVERSING,
    SUBMITTED,
)

from merge_service.domain.policy import MARKET_POLICY, PAYMENT_FIELDS

EQUAL, DIFFERS, BLOCKING = "equal", "differs", "blocking"
# The states (NEEDS_LEGAL_PROOF ... REVERSED) are named once, in cc_common/rules/merges.py.

# How the kept number proved that it owns the absorbed one.
CUSTOMER_PASSWORD = "customer_password"  # the absorbed number's own customer password
PACKAGE_PASSWORD = "package_password"  # a domain of one of its packages + that package's password
PROOF_METHODS = frozenset({CUSTOMER_PASSWORD, PACKAGE_PASSWORD})

# A package password may be held by a third party (an agency that looks after the websites),
# so a merge proven with one is a two-sided agreement: the absorbed number is told at once and
# may object; staff may approve it only after this waiting period, unless the absorbed side
# confirmed it earlier.
DEFAULT_OBJECTION_PERIOD = timedelta(hours=72)

# While a merge is in one of these states, neither of its numbers may be in another merge.
OPEN_STATES = frozenset({NEEDS_LEGAL_PROOF, READY, SUBMITTED, APPROVED, EXECUTING, REVERSING})
CANCELLABLE = frozenset({NEEDS_LEGAL_PROOF, READY, SUBMITTED, APPROVED})
REVERSAL_WINDOW = timedelta(days=30)

_SPACE = re.compile(r"\s+")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def new_merge_id() -> str:
    return "mrg_" + secrets.token_hex(8)


# --- normalising: only formatting, never content -----------------------------------------


def _text(value: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", value or "")).strip().casefold()


def _compact(value: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFC", value or "")).upper()


def _phone(value: str) -> str:
    digits = re.sub(r"[^\d+]", "", value or "")
    return "+" + digits[2:] if digits.startswith("00") else digits


NORMALISERS = {
    "email": lambda v: (v or "").strip().casefold(),
    "iban": _compact,
    "bic": _compact,
    "zip": lambda v: _SPACE.sub(" ", (v or "").strip()).upper(),
    "phone": _phone,
    "mobile": _phone,
    "card": _compact,
}


def normalise(field_name: str, value: str) -> str:
    return NORMALISERS.get(field_name, _text)(value)


def mask(field_name: str, value: str) -> str:
    """Payment values as shown: an IBAN keeps country, check digits and the last 4 characters."""
    if not value or field_name not in PAYMENT_FIELDS:
        return value
    if field_name == "iban":
        iban = _compact(value)
        masked = iban[:4] + "*" * (len(iban) - 8) + iban[-4:]
        return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))
    return value  # a card is already compared and shown as "**** 1234 12/27"


def mask_contact(field_name: str, value: str) -> str:
    """A contact value shown to the other side of a merge proven with a package password: enough
    to recognise one's own data, not enough to learn someone else's (`Ga***g 5`,
    `+49 40 ****4321`, `m***@example.org`). Payment values keep their own masking."""
    value = (value or "").strip()
    if not value or field_name in PAYMENT_FIELDS:
        return mask(field_name, value)
    if field_name == "email" and "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if field_name in ("phone", "mobile"):
        digits = [i for i, ch in enumerate(value) if ch.isdigit()]
        if len(digits) <= 4:
            return "****"
        groups = value.split(" ")
        head = " ".join(groups[:2]) + " " if len(groups) > 2 else value[:3]
        return head + "****" + "".join(value[i] for i in digits[-4:])
    if len(value) <= 3:
        return value[:1] + "***"
    return value[: max(1, len(value) // 4)] + "***" + value[len(value) - len(value) // 3 :]


@dataclass(frozen=True)
class ComparisonRow:
    field: str
    target_value: str
    source_value: str
    result: str


def compare(
    market: str, target: Mapping[str, str], source: Mapping[str, str], *, mask_source: bool = False
) -> list[ComparisonRow]:
    """Compares two master-data snapshots by the market's policy. With `mask_source` (a merge
    proven with a package password) the absorbed side's values are shown masked; the result
    of each row is computed on the real values and stays exact."""
    shown = mask_contact if mask_source else mask
    policy = MARKET_POLICY[market]
    rows = []
    for kind, fields in (("blocking", policy["blocking"]), ("highlighted", policy["highlighted"])):
        for name in fields:
            t, s = target.get(name, "") or "", source.get(name, "") or ""
            if normalise(name, t) == normalise(name, s):
                result = EQUAL
            else:
                result = BLOCKING if kind == "blocking" else DIFFERS
            rows.append(ComparisonRow(name, mask(name, t), shown(name, s), result))
    return rows


def snapshot_values(customer: Mapping[str, str]) -> dict[str, str]:
    """The comparable values of a customer as contract-service reports it."""
    card = ""
    if customer.get("card_last4"):
        card = f"**** {customer['card_last4']} {customer.get('card_expiry', '')}".strip()
    return {
        "company": customer.get("company", ""),
        "first_name": customer.get("first_name", ""),
        "last_name": customer.get("last_name", ""),
        "street": customer.get("street", ""),
        "zip": customer.get("zip", ""),
        "city": customer.get("city", ""),
        "phone": customer.get("phone", ""),
        "mobile": customer.get("mobile", ""),
        "email": customer.get("email", ""),
        "iban": customer.get("iban", ""),
        "bic": customer.get("bic", ""),
        "card": card,
    }


# --- the merge order ---------------------------------------------------------------------


@dataclass
class Merge:
    id: str
    target_customer_number: str
    source_customer_number: str
    market: str
    status: str
    comparison: list[ComparisonRow] = field(default_factory=list)
    data_taken_over: bool = False
    proof_method: str = ""
    legal_proof_uploaded: bool = False
    needs_review: bool = True
    rejection_reason: str = ""
    reversal_reason: str = ""
    target_snapshot: dict[str, str] = field(default_factory=dict)
    source_snapshot: dict[str, str] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    completed_at: datetime | None = None
    # A merge proven with a package password: when the absorbed side was told, and when it
    # confirmed (which ends the waiting period early).
    source_notified_at: datetime | None = None
    source_confirmed_at: datetime | None = None
    cancelled_by: str = ""  # target, source, staff or objection
    # The W3C traceparent of the saga's own trace (a root started when execution or a reversal
    # starts, linked to that request): every step is a span of it, in whichever copy runs it.
    saga_trace: str = ""

    @property
    def needs_agreement(self) -> bool:
        """Proven with a package password: the absorbed side must agree, or stay silent."""
        return self.proof_method == PACKAGE_PASSWORD

    def objection_period_ends_at(self, period: timedelta) -> datetime | None:
        if not self.needs_agreement or self.source_confirmed_at is not None:
            return None
        notified = _aware(self.source_notified_at or self.created_at)
        return notified + period

    @property
    def blocked(self) -> bool:
        return any(r.result == BLOCKING for r in self.comparison)

    @property
    def has_differences(self) -> bool:
        return any(r.result == DIFFERS for r in self.comparison)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def _touch(self) -> None:
        self.updated_at = utcnow()

    def _require(self, *states: str, action: str) -> None:
        if self.status not in states:
            raise Conflict(f"This merge is {self.status}; it cannot be {action} now.", code="merge_not_open")

    def require_open(self) -> None:
        self._require(NEEDS_LEGAL_PROOF, READY, action="changed")

    def refresh(
        self,
        comparison: list[ComparisonRow],
        *,
        target_snapshot: dict[str, str],
        source_snapshot: dict[str, str],
    ) -> None:
        """A new comparison of the current master data (the kept number corrected its own).
        A different comparison voids an earlier "take over data"; the status follows whether
        a blocking row remains."""
        self.require_open()
        if comparison != self.comparison:
            self.data_taken_over = False
        self.comparison = comparison
        self.target_snapshot, self.source_snapshot = target_snapshot, source_snapshot
        self.status = NEEDS_LEGAL_PROOF if self.blocked else READY
        self._touch()

    def take_over_data(self) -> None:
        self._require(NEEDS_LEGAL_PROOF, READY, action="changed")
        self.data_taken_over = True
        self._touch()

    def attach_legal_proof(self) -> None:
        self._require(NEEDS_LEGAL_PROOF, action="given a legal proof")
        self.legal_proof_uploaded = True
        self._touch()

    def submit(self, *, auto_review: bool) -> None:
        """ "Send order". Returns with status submitted, or approved when review is automatic."""
        self._require(NEEDS_LEGAL_PROOF, READY, action="submitted")
        if self.blocked and not self.legal_proof_uploaded:
            raise Conflict(
                "Company or name (or payment details) differ. Please upload the signed "
                "contract-transfer form first.",
                code="legal_proof_required",
            )
        if self.has_differences and not self.data_taken_over:
            raise Conflict(
                'Some contact details differ. Please confirm with "take over data" that the '
                "data of your customer number is kept.",
                code="differences_not_resolved",
            )
        # A merge that needed legal proof, or that was proven with a package password, always
        # goes to the service team.
        self.needs_review = self.blocked or self.needs_agreement or not auto_review
        self.status = SUBMITTED if self.needs_review else APPROVED
        self._touch()

    def cancel(self, by: str = "") -> None:
        if self.status not in CANCELLABLE:
            raise Conflict(
                f"This merge is {self.status}; it can no longer be cancelled.", code="merge_not_open"
            )
        self.status = CANCELLED
        self.cancelled_by = by
        self._touch()

    def object(self) -> None:
        """The absorbed side objects: the merge is cancelled (until execution starts)."""
        if self.status not in CANCELLABLE:
            raise Conflict(
                f"This merge is {self.status}; it can no longer be objected to here. Please contact "
                "our service team.",
                code="merge_not_open",
            )
        self.cancel(by="objection")

    def confirm_by_source(self, now: datetime | None = None) -> None:
        """The absorbed side agrees: the waiting period ends."""
        self._require(*CANCELLABLE, action="confirmed")
        if self.source_confirmed_at is None:
            self.source_confirmed_at = now or utcnow()
        self._touch()

    def approve(
        self, *, now: datetime | None = None, objection_period: timedelta = DEFAULT_OBJECTION_PERIOD
    ) -> None:
        self._require(SUBMITTED, action="approved")
        ends = self.objection_period_ends_at(objection_period)
        if ends is not None and (now or utcnow()) < ends:
            raise Conflict(
                "The absorbed customer number may still object to this merge (it was proven with a "
                f"package password). It can be approved from {ends.strftime('%Y-%m-%d %H:%M')} UTC, "
                "or earlier once the absorbed customer confirms it.",
                code="objection_period_running",
                extra={"objection_period_ends_at": ends.isoformat()},
            )
        self.status = APPROVED
        self._touch()

    def start_execution(self) -> None:
        self._require(APPROVED, EXECUTING, action="executed")
        self.status = EXECUTING
        self._touch()

    def reject(self, reason: str) -> None:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("Please give a reason for the rejection.", field="reason")
        self._require(SUBMITTED, action="rejected")
        self.status = REJECTED
        self.rejection_reason = reason[:1000]
        self._touch()

    def complete(self) -> None:
        self.status = COMPLETED
        self.completed_at = utcnow()
        self._touch()

    def fail(self) -> None:
        self.status = FAILED
        self._touch()

    def start_reversal(self, reason: str, now: datetime | None = None) -> None:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("Please give a reason for the reversal.", field="reason")
        if self.status == REVERSING:
            return
        self._require(COMPLETED, action="reversed")
        now = now or utcnow()
        completed = self.completed_at
        if completed is not None and completed.tzinfo is None:
            completed = completed.replace(tzinfo=UTC)
        if completed is None or now - completed > REVERSAL_WINDOW:
            raise Conflict(
                "A merge can only be reversed within 30 days of completion.", code="reversal_window_over"
            )
        self.status = REVERSING
        self.reversal_reason = reason[:1000]
        self._touch()

    def finish_reversal(self) -> None:
        self.status = REVERSED
        self._touch()
