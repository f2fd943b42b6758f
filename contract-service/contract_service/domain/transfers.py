"""The rules of the merge's transfer step (no I/O): which kinds move, when a call is a repeat
that only replays the record, and when it is refused.

A transfer is keyed by the merge id and its direction (forward: source -> target; reverse:
back). The first call of a direction applies it and records it; every later call of the same
direction replays the record. A reverse moves exactly what the forward of the same merge
recorded (and still belongs to the target). Once a merge's reverse has been applied, a
forward of that merge (e.g. a late, delayed call) is refused so nothing moves after the undo.
"""

from __future__ import annotations

from dataclasses import dataclass

from cc_common.errors import Conflict, InvalidInput
from cc_common.rules.customers import check_customer_number

KINDS = ("invoices", "contracts", "terminations", "offer_orders", "contact_requests")
FORWARD = "forward"
REVERSE = "reverse"
APPLY = "apply"
REPLAY = "replay"


class TransferRace(Exception):
    """The same merge and direction was applied by a concurrent call."""


@dataclass(frozen=True)
class AppliedTransfer:
    merge_id: str
    direction: str
    source_customer_number: str
    target_customer_number: str


def check_transfer_request(merge_id: str, source: str, target: str) -> tuple[str, str, str]:
    mid = (merge_id or "").strip()
    if not mid or len(mid) > 64:
        raise InvalidInput("Name the merge by its id (1 to 64 characters).", field="merge_id")
    src = check_customer_number(source, field_name="source_customer_number")
    tgt = check_customer_number(target, field_name="target_customer_number")
    if src == tgt:
        raise InvalidInput("Source and target are the same customer number.", field="target_customer_number")
    return mid, src, tgt


def _same_numbers(applied: AppliedTransfer, source: str, target: str) -> bool:
    return (applied.source_customer_number, applied.target_customer_number) == (source, target)


def plan_transfer(
    *,
    direction: str,
    source: str,
    target: str,
    forward: AppliedTransfer | None,
    reverse: AppliedTransfer | None,
) -> str:
    """APPLY or REPLAY; Conflict transfer_mismatch when the merge id was used with other
    numbers, transfer_reversed for a forward after the merge's reverse."""
    for applied in (forward, reverse):
        if applied is not None and not _same_numbers(applied, source, target):
            raise Conflict(
                f"Merge {applied.merge_id} moved records between other customer numbers.",
                code="transfer_mismatch",
            )
    mine = forward if direction == FORWARD else reverse
    if mine is not None:
        return REPLAY
    if direction == FORWARD and reverse is not None:
        raise Conflict(
            f"Merge {reverse.merge_id} has been reversed; its records are not moved again.",
            code="transfer_reversed",
        )
    return APPLY
