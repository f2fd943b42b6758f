"""Use cases of merge-service: one function each, keyword-only arguments.

The caller (from the verified token) decides: a customer acts on merges where it is the
target (the number that is kept); staff review, approve, reject, audit and reverse.
"""

from __future__ import annotations

from collections.abc import Callable

from cc_common.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from cc_common.tokens import Principal

from merge_service.adapters.repository import LockTaken
from merge_service.domain import model
from merge_service.service_layer import mails
from merge_service.service_layer.ports import Backends

MAX_LEGAL_PROOF_BYTES = 5 * 1024 * 1024

Schedule = Callable[[str], None]


def _own(uow, caller: Principal, merge_id: str, *, for_update: bool = False) -> model.Merge:
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


def _own_as_target(uow, caller: Principal, merge_id: str) -> model.Merge:
    merge = _own(uow, caller, merge_id, for_update=True)
    if caller.kind != "customer" or merge.target_customer_number != caller.customer_number:
        raise Forbidden("Only the customer number that is kept can change this merge.")
    return merge


def start_merge(
    *,
    uow,
    backends: Backends,
    caller: Principal,
    source_customer_number: str,
    source_password: str = "",
    domain: str = "",
    domain_password: str = "",
    client_address: str = "",
) -> model.Merge:
    target = caller.customer_number or ""
    source = model.check_customer_number(source_customer_number, "source_customer_number")
    if source == target:
        raise InvalidInput(
            "This is the customer number you are signed in with. Enter the number you want to absorb.",
            code="same_customer_number",
            field="source_customer_number",
        )
    # The proof of ownership, checked and throttled like a login; it is bound to this merge
    # (recorded with it) and used once.
    if source_password:
        backends_call = lambda: backends.verify_customer_password(  # noqa: E731
            customer_number=source, password=source_password, client_address=client_address
        )
        method = "customer_password"
    elif domain and domain_password:
        backends_call = lambda: backends.verify_domain_password(  # noqa: E731
            customer_number=source, domain=domain, password=domain_password, client_address=client_address
        )
        method = "domain"
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
    market = target_data["market"]
    target_values = model.snapshot_values(target_data)
    source_values = model.snapshot_values(source_data)
    comparison = model.compare(market, target_values, source_values)
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
        uow.commit()
    return merge


def _masked_snapshot(data: dict[str, str]) -> dict[str, str]:
    keep = (
        "customer_number market company first_name last_name street zip city country phone "
        "mobile fax email bic card_last4 card_expiry status"
    ).split()
    snap = {k: data.get(k, "") for k in keep}
    snap["iban"] = model.mask("iban", data.get("iban", ""))
    return snap


def get_merge(*, uow, caller: Principal, merge_id: str) -> model.Merge:
    with uow:
        return _own(uow, caller, merge_id)


def list_merges(*, uow, caller: Principal, status: str = "") -> list[model.Merge]:
    with uow:
        if caller.kind == "customer":
            return uow.merges.list_for_customer(caller.customer_number or "")
        return uow.merges.list_by_status(status or None)


def take_over_data(*, uow, caller: Principal, merge_id: str) -> model.Merge:
    with uow:
        merge = _own_as_target(uow, caller, merge_id)
        merge.take_over_data()
        uow.merges.save(merge)
        uow.commit()
    return merge


def submit_merge(*, uow, caller: Principal, merge_id: str, auto_review: bool, schedule: Schedule) -> model.Merge:
    with uow:
        merge = _own_as_target(uow, caller, merge_id)
        merge.submit(auto_review=auto_review)
        mails.queue(uow, merge, "submitted")
        if merge.status == model.APPROVED:
            mails.queue(uow, merge, "approved")
            merge.start_execution()
        uow.merges.save(merge)
        uow.commit()
    if merge.status == model.EXECUTING:
        schedule(merge.id)
    return merge


def cancel_merge(*, uow, caller: Principal, merge_id: str) -> model.Merge:
    """The kept number, the absorbed number (so nobody can hold its number in a draft for
    ever) and staff can cancel a merge until execution starts."""
    with uow:
        merge = _own(uow, caller, merge_id, for_update=True)
        merge.cancel()
        uow.merges.unlock(merge.id)
        uow.merges.save(merge)
        uow.commit()
    return merge


def upload_legal_proof(
    *, uow, caller: Principal, merge_id: str, filename: str, content_type: str, content: bytes
) -> model.Merge:
    if not content:
        raise InvalidInput("Please choose the signed contract-transfer form (a PDF file).", field="file")
    if len(content) > MAX_LEGAL_PROOF_BYTES:
        raise InvalidInput("The file is larger than 5 MB. Please upload a smaller scan.", field="file")
    if not content.startswith(b"%PDF-") or b"%%EOF" not in content[-2048:]:
        raise InvalidInput("The file is not a PDF document. Please upload the form as a PDF.", field="file")
    with uow:
        merge = _own_as_target(uow, caller, merge_id)
        merge.attach_legal_proof()
        uow.merges.store_legal_proof(
            merge.id, (filename or "legal-proof.pdf")[:255], "application/pdf", content, model.utcnow()
        )
        uow.merges.save(merge)
        uow.commit()
    return merge


def get_legal_proof(*, uow, caller: Principal, merge_id: str):
    with uow:
        _own(uow, caller, merge_id)
        proof = uow.merges.legal_proof(merge_id)
    if proof is None:
        raise NotFound("No legal proof has been uploaded for this merge.")
    return proof


def approve_merge(*, uow, merge_id: str, schedule: Schedule) -> model.Merge:
    with uow:
        merge = uow.merges.get(merge_id, for_update=True)
        if merge is None:
            raise NotFound("No such merge.")
        merge.approve()
        mails.queue(uow, merge, "approved")
        merge.start_execution()
        uow.merges.save(merge)
        uow.commit()
    schedule(merge.id)
    return merge


def reject_merge(*, uow, merge_id: str, reason: str) -> model.Merge:
    with uow:
        merge = uow.merges.get(merge_id, for_update=True)
        if merge is None:
            raise NotFound("No such merge.")
        merge.reject(reason)
        uow.merges.unlock(merge.id)
        mails.queue(uow, merge, "rejected")
        uow.merges.save(merge)
        uow.commit()
    return merge


def reverse_merge(*, uow, backends: Backends, merge_id: str, reason: str, schedule: Schedule) -> model.Merge:
    with uow:
        found = uow.merges.get(merge_id)
    if found is None:
        raise NotFound("No such merge.")
    if found.status == model.COMPLETED:
        # Only while the numbers are as the merge left them: the kept number active, the
        # absorbed one retired into it (not, say, absorbed itself by a later merge).
        target = backends.customer_snapshot(found.target_customer_number)
        source = backends.customer_snapshot(found.source_customer_number)
        if target.get("status") != "active" or source.get("status") != "retired" or (
            source.get("merged_into") or found.target_customer_number
        ) != found.target_customer_number:
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
            try:
                uow.merges.lock(merge.id, [merge.target_customer_number, merge.source_customer_number])
            except LockTaken:
                raise Conflict(
                    "One of the customer numbers is in an open merge; finish that first.", code="merge_conflict"
                ) from None
        uow.merges.save(merge)
        uow.commit()
    schedule(merge.id)
    return merge


def audit(*, uow, merge_id: str):
    with uow:
        merge = uow.merges.get(merge_id)
        if merge is None:
            raise NotFound("No such merge.")
        return merge, uow.merges.steps(merge_id), uow.merges.moved(merge_id)


