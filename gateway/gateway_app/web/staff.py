"""The service team's back office: the review queue, a merge's comparison and audit record,
the uploaded legal proof, approve, reject with a reason, reverse; the contact requests, their
attachments and the answer by mail."""

from __future__ import annotations

from typing import Any

from cc_common.rules.merges import STATUSES as MERGE_STATUSES
from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l

from gateway_app.clients import contracts, merges
from gateway_app.downloads import pdf_download
from gateway_app.schemas.billing import ContactAnswer, ContactRequest
from gateway_app.schemas.merges import MergeAudit, MergeReason
from gateway_app.use_cases import answer_contact, legal_proof_download
from gateway_app.web.merge import FIELD_LABELS, STATUS_LABELS, merge_view
from gateway_app.web.pages import PAGE_ERRORS, FormState, page, session_token
from gateway_app.web.session import login_page

QUEUE_FILTERS = ("submitted", "needs_legal_proof", "ready", "executing", "completed", "rejected", "failed",
                 "reversed", "")  # fmt: skip


# The audit record's saga steps ("<saga>:<step>", merge-service's saga.py), their states and
# the kinds of moved records, as the service team reads them.
SAGA_LABELS = {"execute": _l("Merge"), "reverse": _l("Reversal")}
STEP_LABELS = {
    "freeze": _l("Freeze the customer numbers"), "move_packages": _l("Move the packages"),
    "move_contracts": _l("Move the contracts, invoices and terminations"),
    "retire_contract": _l("Retire the absorbed customer number"),
    "retire_credentials": _l("Retire the logins of the absorbed number"),
    "unfreeze": _l("Release the customer numbers"),
    "restore_credentials": _l("Restore the logins of the absorbed number"),
    "return_packages": _l("Return the packages"),
    "return_contracts": _l("Return the contracts, invoices and terminations"),
}  # fmt: skip
STEP_STATE_LABELS = {"started": _l("started"), "done": _l("done"), "failed": _l("failed"),
                     "compensated": _l("undone")}  # fmt: skip
MOVED_KIND_LABELS = {"packages": _l("Packages"), "invoices": _l("Invoices"), "contracts": _l("Contracts"),
                     "terminations": _l("Terminations")}  # fmt: skip


def step_label(name: str) -> str:
    saga, _sep, step = name.partition(":") if ":" in name else ("", "", name)
    label = str(STEP_LABELS.get(step, step))
    return f"{SAGA_LABELS[saga]}: {label}" if saga in SAGA_LABELS else label


@login_page("/staff/merges", "staff")
def staff_queue() -> Any:
    status = request.args.get("status", "submitted")
    if status not in MERGE_STATUSES and status != "":
        status = "submitted"
    return page(
        "staff/queue.html",
        merges=[merge_view(m) for m in merges.list_merges(status, token=session_token())],
        current_status=status,
        filters=QUEUE_FILTERS,
        status_labels=STATUS_LABELS,
    )


@login_page("/staff/merges/<merge_id>", "staff")
def staff_merge(merge_id: str, form: FormState | None = None, status: int = 200) -> Any:
    audit = merges.get_merge_audit(merge_id, token=session_token())
    data = MergeAudit.from_proto(audit).json()
    for key in ("target_snapshot", "source_snapshot"):  # the known fields first, in the table's order
        snapshot = data[key]
        order = [name for name in FIELD_LABELS if name in snapshot]
        data[key] = {name: snapshot[name] for name in [*order, *sorted(set(snapshot) - set(order))]}
    for step in data["steps"]:
        step["label"] = step_label(step["name"])
        step["state_label"] = str(STEP_STATE_LABELS.get(step["state"], step["state"]))
    data["moved"] = [
        {"kind": kind, "label": str(MOVED_KIND_LABELS.get(kind, kind)), "ids": ids}
        for kind, ids in data["moved"].items()
    ]
    return page(
        "staff/merge.html",
        status,
        merge=merge_view(audit.merge),
        audit=data,
        labels=FIELD_LABELS,
        form=form or FormState(),
    )


@login_page("/staff/merges/<merge_id>/legal-proof", "staff")
def staff_legal_proof(merge_id: str) -> Any:
    return legal_proof_download(merge_id, token=session_token())


def _decide(merge_id: str, decision: str, notice: str, needs_reason: bool) -> Any:
    merges.merge_id_of(merge_id)
    form = FormState.from_request("reason")
    reason = form.get("reason").strip()
    if needs_reason or reason:
        form.check(MergeReason, reason=reason)
    if form.ok:
        with form.caught(401, 403, 404):
            if decision == "approve":
                merges.approve_merge(merge_id, token=session_token())
            elif decision == "reject":
                merges.reject_merge(merge_id, reason, token=session_token())
            else:
                merges.reverse_merge(merge_id, reason, token=session_token())
            return redirect(url_for("web.staff_merge", merge_id=merge_id, notice=notice))
    return staff_merge(merge_id, form, form.status(409))


@login_page("/staff/merges/<merge_id>/approve", "staff", methods=["POST"])
def staff_approve(merge_id: str) -> Any:
    return _decide(merge_id, "approve", "approved", needs_reason=False)


@login_page("/staff/merges/<merge_id>/reject", "staff", methods=["POST"])
def staff_reject(merge_id: str) -> Any:
    return _decide(merge_id, "reject", "rejected", needs_reason=True)


@login_page("/staff/merges/<merge_id>/reverse", "staff", methods=["POST"])
def staff_reverse(merge_id: str) -> Any:
    return _decide(merge_id, "reverse", "reversed", needs_reason=True)


# --- contact requests: the queue, the attachment, the answer by mail ---------------------------


@login_page("/staff/contact-requests", "staff")
def staff_contact_requests(status: int = 200, form: FormState | None = None, failed: str = "") -> Any:
    listed = [
        ContactRequest.of(item).json() for item in contracts.list_contact_requests(token=session_token())
    ]
    return page(
        "staff/contact_requests.html", status, requests=listed, form=form or FormState(), failed=failed
    )


@login_page("/staff/contact-requests/<request_id>/attachment", "staff")
def staff_contact_attachment(request_id: str) -> Any:
    document = contracts.get_contact_attachment(request_id, token=session_token())
    return pdf_download(document.content, document.filename)


@login_page("/staff/contact-requests/<request_id>/answer", "staff", methods=["POST"])
def staff_answer_contact(request_id: str) -> Any:
    """The same path as POST /api/v1/admin/contact-requests/{id}/answer."""
    form = FormState.from_request("message")
    form.require("message")
    body = form.check(ContactAnswer, **form.values)
    if body is not None and form.ok:
        with form.caught(*PAGE_ERRORS):
            answer_contact(request_id, body.message)
            return redirect(url_for("web.staff_contact_requests", notice="contact_answered"))
    return staff_contact_requests(form.status(409), form, request_id)
