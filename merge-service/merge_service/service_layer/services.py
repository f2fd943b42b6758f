"""Use cases of merge-service: one function each, keyword-only arguments.

The caller (from the verified token) decides: a customer acts on merges where it is the
target (the number that is kept); staff review, approve, reject, audit and reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cc_common import link_tokens
from cc_common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidToken,
    NotFound,
)
from cc_common.rules import documents
from cc_common.rules import merges as merge_states
from cc_common.rules.customers import check_customer_number
from cc_common.tokens import Principal

from merge_service.adapters.repository import LockTaken, StepRecord
from merge_service.domain import model
from merge_service.service_layer import mails
from merge_service.service_layer.ports import Backends
from merge_service.service_layer.saga import start_trace
from merge_service.service_layer.unit_of_work import UnitOfWork

MAX_LEGAL_PROOF_BYTES = documents.MAX_PDF_BYTES

Schedule = Callable[[str], None]


@dataclass(frozen=True)
class AgreementPolicy:
    """A merge proven with a package password: where the objection link points, and how long
    the absorbed side may object before staff may approve (MERGE_OBJECTION_HOURS)."""

    public_base_url: str = "http://127.0.0.1:8000"
    objection_period: timedelta = model.DEFAULT_OBJECTION_PERIOD

    @property
    def hours(self) -> int:
        return int(self.objection_period.total_seconds() // 3600)

    def objection_link(self, token: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/merge-objection?token={token}"

    @property
    def merges_page(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/customer/merge"


def _own(uow: UnitOfWork, caller: Principal, merge_id: str, *, for_update: bool = False) -> model.Merge:
    merge = uow.merges.get(merge_id, for_update=for_update)
    if merge is None:
        raise NotFound("No such merge.")
    if caller.kind == "staff":
        return merge
    if caller.kind == "customer" and caller.customer_number in (
        merge.target_customer_number,
        merge.source_customer_number,
    ):
        return merge
    raise NotFound("No such merge.")


def _own_as_target(uow: UnitOfWork, caller: Principal, merge_id: str) -> model.Merge:
    merge = _own(uow, caller, merge_id, for_update=True)
    if caller.kind != "customer" or merge.target_customer_number != caller.customer_number:
        raise Forbidden("Only the customer number that is kept can change this merge.")
    return merge


def _own_as_source(uow: UnitOfWork, caller: Principal, merge_id: str) -> model.Merge:
    merge = _own(uow, caller, merge_id, for_update=True)
    if caller.kind != "customer" or merge.source_customer_number != caller.customer_number:
        raise Forbidden(
            "Only the customer number that would be absorbed can object to or confirm this merge."
        )
    return merge


def _role_of(caller: Principal, merge: model.Merge) -> str:
    if caller.kind == "staff":
        return "staff"
    return "source" if caller.customer_number == merge.source_customer_number else "target"


def start_merge(
    *,
    uow: UnitOfWork,
    backends: Backends,
    caller: Principal,
    source_customer_number: str,
    source_password: str = "",
    domain: str = "",
    domain_password: str = "",
    client_address: str = "",
    second_factor_code: str = "",
    agreement: AgreementPolicy | None = None,
    on_mail: Callable[[], None] = lambda: None,
) -> model.Merge:
    """Starts a merge. Proven with a package password (which may be held by a third party),
    it is a two-sided agreement: the absorbed side's values are masked in the comparison, and
    its contact address is told at once, with a single-use link to object."""
    agreement = agreement or AgreementPolicy()
    target = caller.customer_number or ""
    source = check_customer_number(source_customer_number, field_name="source_customer_number")
    if source == target:
        raise InvalidInput(
            "This is the customer number you are signed in with. Enter the number you want to absorb.",
            code="same_customer_number",
            field="source_customer_number",
        )
    # The proof of ownership, checked and throttled like a login; it is bound to this merge
    # (recorded with it) and used once.
    if source_password:
        backends_call: Callable[[], None] = lambda: backends.verify_customer_password(  # noqa: E731
            customer_number=source,
            password=source_password,
            client_address=client_address,
            second_factor_code=second_factor_code,
        )
        method = model.CUSTOMER_PASSWORD
    elif domain and domain_password:
        backends_call = lambda: backends.verify_domain_password(  # noqa: E731
            customer_number=source, domain=domain, password=domain_password, client_address=client_address
        )
        method = model.PACKAGE_PASSWORD
    else:
        raise InvalidInput(
            "Prove that the number is yours: give its customer password, or a domain of one of "
            "its packages with that package's password.",
            field="source_password",
        )
    try:
        backends_call()
    except DomainError as exc:
        if exc.code == "customer_number_merged":
            raise Conflict("This customer number has already been merged.", code="merge_conflict") from None
        raise

    target_data, source_data, comparison = _compare(backends, target, source, method)
    market = target_data["market"]
    merge = model.Merge(
        id=model.new_merge_id(),
        target_customer_number=target,
        source_customer_number=source,
        market=market,
        status=model.READY,
        comparison=comparison,
        proof_method=method,
        target_snapshot=_masked_snapshot(target_data),
        source_snapshot=_masked_snapshot(source_data),
    )
    if merge.blocked:
        merge.status = model.NEEDS_LEGAL_PROOF
    objection_token = ""
    if merge.needs_agreement:
        objection_token, objection_hash = link_tokens.new_token()
        merge.source_notified_at = merge.created_at
    with uow:
        uow.merges.add(merge)
        try:
            uow.merges.lock(merge.id, [target, source])
        except LockTaken:
            raise Conflict(
                "One of these customer numbers is already in an open merge. Only two numbers can "
                "be merged at a time; finish or cancel the other merge first.",
                code="merge_conflict",
            ) from None
        if objection_token:
            uow.merges.set_objection_token(merge.id, objection_hash)
            mails.queue_agreement(
                uow,
                merge,
                "objection_notice",
                to=("source",),
                link=agreement.objection_link(objection_token),
                manage=agreement.merges_page,
                domain=domain,
                hours=agreement.hours,
            )
        uow.commit()
    if objection_token:
        on_mail()
    return merge


def _compare(
    backends: Backends, target: str, source: str, method: str
) -> tuple[dict[str, str], dict[str, str], list[model.ComparisonRow]]:
    """Both numbers' master data as contract-service has them now, and their comparison by the
    market's policy (the absorbed side masked for a merge proven with a package password)."""
    target_data = backends.customer_snapshot(target)
    try:
        source_data = backends.customer_snapshot(source)
    except NotFound:
        raise Conflict("This customer number cannot be merged.", code="merge_conflict") from None
    if target_data.get("status") != "active" or source_data.get("status") != "active":
        raise Conflict("One of the customer numbers is retired or being merged.", code="merge_conflict")
    if target_data.get("market") != source_data.get("market"):
        raise Conflict(
            "Customer numbers of different countries cannot be merged online.", code="different_markets"
        )
    comparison = model.compare(
        target_data["market"],
        model.snapshot_values(target_data),
        model.snapshot_values(source_data),
        mask_source=method == model.PACKAGE_PASSWORD,
    )
    return target_data, source_data, comparison


def refresh_comparison(
    *, uow: UnitOfWork, backends: Backends, caller: Principal, merge_id: str
) -> model.Merge:
    """Compares the two numbers' master data again, as contract-service has them now: the kept
    number (the target) may correct its own contact data while the merge is open, and the
    comparison shows the result. A changed comparison needs "take over data" again."""
    with uow:
        merge = _own_as_target(uow, caller, merge_id)
        merge.require_open()
    target_data, source_data, comparison = _compare(
        backends, merge.target_customer_number, merge.source_customer_number, merge.proof_method
    )
    with uow:
        merge = _own_as_target(uow, caller, merge_id)  # read again, locked: it may have moved on
        merge.refresh(
            comparison,
            target_snapshot=_masked_snapshot(target_data),
            source_snapshot=_masked_snapshot(source_data),
        )
        uow.merges.save(merge)
        uow.commit()
    return merge


def _masked_snapshot(data: dict[str, str]) -> dict[str, str]:
    keep = (
        "customer_number market company first_name last_name street zip city country phone "
        "mobile fax email bic card_last4 card_expiry status language"
    ).split()
    snap = {k: data.get(k, "") for k in keep}
    snap["iban"] = model.mask("iban", data.get("iban", ""))
    return snap


def get_merge(*, uow: UnitOfWork, caller: Principal, merge_id: str) -> model.Merge:
    with uow:
        return _own(uow, caller, merge_id)


def list_merges(*, uow: UnitOfWork, caller: Principal, status: str = "") -> list[model.Merge]:
    """A customer's own merges; for staff every merge, or those in `status` (one of
    cc_common/rules/merges.py)."""
    if status and status not in merge_states.STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(merge_states.STATUSES)}.", field="status")
    with uow:
        if caller.kind == "customer":
            return uow.merges.list_for_customer(caller.customer_number or "")
        return uow.merges.list_by_status(status or None)


def take_over_data(*, uow: UnitOfWork, caller: Principal, merge_id: str) -> model.Merge:
    with uow:
        merge = _own_as_target(uow, caller, merge_id)
        merge.take_over_data()
        uow.merges.save(merge)
        uow.commit()
    return merge


def submit_merge(
    *, uow: UnitOfWork, caller: Principal, merge_id: str, auto_review: bool, schedule: Schedule
) -> model.Merge:
    with uow:
        merge = _own_as_target(uow, caller, merge_id)
        merge.submit(auto_review=auto_review)
        mails.queue(uow, merge, "submitted")
        if merge.status == model.APPROVED:
            mails.queue(uow, merge, "approved")
            merge.start_execution()
            merge.saga_trace = start_trace(merge, "execute")
        uow.merges.save(merge)
        uow.commit()
    if merge.status == model.EXECUTING:
        schedule(merge.id)
    return merge


def cancel_merge(
    *, uow: UnitOfWork, caller: Principal, merge_id: str, on_mail: Callable[[], None] = lambda: None
) -> model.Merge:
    """The kept number, the absorbed number (so nobody can hold its number in a draft for
    ever) and staff can cancel a merge until execution starts. An absorbed side that was told
    of the merge is told that it is off."""
    with uow:
        merge = _own(uow, caller, merge_id, for_update=True)
        merge.cancel(by=_role_of(caller, merge))
        _close(uow, merge, "cancelled")
        uow.commit()
    if merge.source_notified_at is not None:
        on_mail()
    return merge


def _close(uow: UnitOfWork, merge: model.Merge, event: str) -> None:
    """Frees the numbers of a merge that ended before execution, uses up its objection link
    and tells both sides where the absorbed one was told of it."""
    uow.merges.unlock(merge.id)
    uow.merges.set_objection_token(merge.id, None)
    uow.merges.save(merge)
    if merge.source_notified_at is not None:
        mails.queue_agreement(uow, merge, event, to=("source", "target"))


def object_by_token(
    *, uow: UnitOfWork, token: str, on_mail: Callable[[], None] = lambda: None
) -> model.Merge:
    """The objection link of the notice (no login needed): the merge is cancelled and both
    sides are told. The link works once; an unknown or used one is `invalid_token`."""
    with uow:
        found = link_tokens.looks_like_token(token)
        merge = uow.merges.by_objection_token(link_tokens.hash_token(token)) if found else None
        if merge is None:
            raise InvalidToken(
                "This objection link is invalid or was already used. If a merge of your customer number "
                "is still open, sign in to object, or contact our service team.",
                field="token",
            )
        merge.object()
        _close(uow, merge, "objected")
        uow.commit()
    on_mail()
    return merge


def object_merge(
    *, uow: UnitOfWork, caller: Principal, merge_id: str, on_mail: Callable[[], None] = lambda: None
) -> model.Merge:
    """The absorbed customer, signed in, objects: the same as the link."""
    with uow:
        merge = _own_as_source(uow, caller, merge_id)
        merge.object()
        _close(uow, merge, "objected")
        uow.commit()
    on_mail()
    return merge


def confirm_merge(
    *, uow: UnitOfWork, caller: Principal, merge_id: str, now: datetime | None = None
) -> model.Merge:
    """The absorbed customer, signed in, agrees: the waiting period for objections ends."""
    with uow:
        merge = _own_as_source(uow, caller, merge_id)
        merge.confirm_by_source(now)
        uow.merges.save(merge)
        uow.commit()
    return merge


def upload_legal_proof(
    *, uow: UnitOfWork, caller: Principal, merge_id: str, filename: str, content_type: str, content: bytes
) -> model.Merge:
    documents.check_pdf(content, field="file", what="the signed contract-transfer form")
    with uow:
        merge = _own_as_target(uow, caller, merge_id)
        merge.attach_legal_proof()
        uow.merges.store_legal_proof(
            merge.id, (filename or "legal-proof.pdf")[:255], "application/pdf", content, model.utcnow()
        )
        uow.merges.save(merge)
        uow.commit()
    return merge


def get_legal_proof(
    *, uow: UnitOfWork, caller: Principal, merge_id: str
) -> tuple[str, str, bytes, datetime | None]:
    with uow:
        _own(uow, caller, merge_id)
        proof = uow.merges.legal_proof(merge_id)
    if proof is None:
        raise NotFound("No legal proof has been uploaded for this merge.")
    return proof


def approve_merge(
    *,
    uow: UnitOfWork,
    merge_id: str,
    schedule: Schedule,
    objection_period: timedelta = model.DEFAULT_OBJECTION_PERIOD,
    now: datetime | None = None,
) -> model.Merge:
    """Staff approve a submitted merge; one proven with a package password not before its
    objection period is over (or the absorbed side confirmed): 409 objection_period_running."""
    with uow:
        merge = uow.merges.get(merge_id, for_update=True)
        if merge is None:
            raise NotFound("No such merge.")
        merge.approve(now=now, objection_period=objection_period)
        mails.queue(uow, merge, "approved")
        merge.start_execution()
        merge.saga_trace = start_trace(merge, "execute")
        uow.merges.save(merge)
        uow.commit()
    schedule(merge.id)
    return merge


def reject_merge(*, uow: UnitOfWork, merge_id: str, reason: str) -> model.Merge:
    with uow:
        merge = uow.merges.get(merge_id, for_update=True)
        if merge is None:
            raise NotFound("No such merge.")
        merge.reject(reason)
        uow.merges.unlock(merge.id)
        uow.merges.set_objection_token(merge.id, None)
        mails.queue(uow, merge, "rejected")
        uow.merges.save(merge)
        uow.commit()
    return merge


def reverse_merge(
    *, uow: UnitOfWork, backends: Backends, merge_id: str, reason: str, schedule: Schedule
) -> model.Merge:
    with uow:
        found = uow.merges.get(merge_id)
    if found is None:
        raise NotFound("No such merge.")
    if found.status == model.COMPLETED:
        # Only while the numbers are as the merge left them: the kept number active, the
        # absorbed one retired into it (not, say, absorbed itself by a later merge).
        target = backends.customer_snapshot(found.target_customer_number)
        source = backends.customer_snapshot(found.source_customer_number)
        if (
            target.get("status") != "active"
            or source.get("status") != "retired"
            or (source.get("merged_into") or found.target_customer_number) != found.target_customer_number
        ):
            raise Conflict(
                "The customer numbers have changed since this merge (e.g. a later merge); it "
                "cannot be reversed automatically.",
                code="merge_conflict",
            )
    with uow:
        merge = uow.merges.get(merge_id, for_update=True)
        if merge is None:
            raise NotFound("No such merge.")
        already = merge.status == model.REVERSING
        merge.start_reversal(reason)
        if not already:
            merge.saga_trace = start_trace(merge, "reverse")
            try:
                uow.merges.lock(merge.id, [merge.target_customer_number, merge.source_customer_number])
            except LockTaken:
                raise Conflict(
                    "One of the customer numbers is in an open merge; finish that first.",
                    code="merge_conflict",
                ) from None
        uow.merges.save(merge)
        uow.commit()
    schedule(merge.id)
    return merge


def audit(*, uow: UnitOfWork, merge_id: str) -> tuple[model.Merge, list[StepRecord], dict[str, list[str]]]:
    with uow:
        merge = uow.merges.get(merge_id)
        if merge is None:
            raise NotFound("No such merge.")
        return merge, uow.merges.steps(merge_id), uow.merges.moved(merge_id)
