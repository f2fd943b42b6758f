"""The merge wizard (docs/architecture.md, "Markets") and the state of each merge afterwards.

Enter the number to absorb and the proof that it is yours (its customer password, or a
domain of one of its packages and that package's password) -> "Next" -> the comparison:
differing rows highlighted, blocking rows marked with the reason and the contract transfer
form to send -> "Update Data" -> "Send Order" -> the service team checks it, a mail follows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from cc_common.errors import DomainError, InvalidInput
from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gateway_app import use_cases
from gateway_app.clients import merges
from gateway_app.schemas.merges import Merge, MergeStart
from gateway_app.security import current_principal
from gateway_app.uploads import uploaded_file
from gateway_app.use_cases import MAX_LEGAL_PROOF_BYTES, TOO_LARGE, correct_data_in_merge
from gateway_app.web import bp
from gateway_app.web.customer import CONTACT_FIELDS, contact_form, customer_record, save_contact_form
from gateway_app.web.pages import FIELD_MESSAGES, FormState, page, reraise, session_token
from gateway_app.web.session import login_page

FIELD_LABELS = {
    "company": _l("Company"), "first_name": _l("First name"), "last_name": _l("Last name"), "name": _l("Name"),
    "street": _l("Street and house number"), "zip": _l("Postcode"), "city": _l("Town/city"),
    "country": _l("Country"), "phone": _l("Telephone"), "mobile": _l("Mobile"), "fax": _l("Fax"),
    "email": _l("E-mail address"), "iban": _l("IBAN (account number)"), "bic": _l("BIC (bank code)"),
    "card": _l("Credit card"),
}  # fmt: skip

STATUS_LABELS = {
    "needs_legal_proof": _l("Legal proof needed"), "ready": _l("Ready to send"),
    "submitted": _l("Sent, being checked by the service team"), "approved": _l("Approved"),
    "executing": _l("Being carried out"), "completed": _l("Completed"), "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"), "failed": _l("Failed, nothing was changed"),
    "reversing": _l("Being reversed"), "reversed": _l("Reversed"),
}  # fmt: skip

OPEN_STATUSES = ("needs_legal_proof", "ready")
# Until execution starts, the absorbed side of a merge may object (or confirm it).
OBJECTABLE_STATUSES = ("needs_legal_proof", "ready", "submitted", "approved")
START_FIELDS = (
    "source_customer_number", "proof", "source_password", "second_factor_code", "domain", "domain_password",
)  # fmt: skip


def merge_view(message: Any) -> dict[str, Any]:
    """A merge for the templates: the API's shape, plus what the page needs to decide."""
    merge: dict[str, Any] = Merge.from_proto(message).json()
    rows = merge["comparison"]
    merge["differs"] = [r for r in rows if r["result"] == "differs"]
    merge["blocking"] = [r for r in rows if r["result"] == "blocking"]
    merge["open"] = merge["status"] in OPEN_STATUSES
    merge["needs_take_over"] = merge["open"] and bool(merge["differs"]) and not merge["data_taken_over"]
    merge["can_submit"] = (
        merge["open"]
        and not merge["needs_take_over"]
        and (merge["status"] == "ready" or merge["legal_proof_uploaded"])
    )
    merge["status_label"] = str(STATUS_LABELS.get(merge["status"], merge["status"]))
    # The absorbed customer, signed in, sees the merge of its number with its say in it.
    own = current_principal().customer_number
    merge["role"] = "source" if own and own == merge["source_customer_number"] else "target"
    merge["may_object"] = merge["role"] == "source" and merge["status"] in OBJECTABLE_STATUSES
    merge["may_confirm"] = (
        merge["may_object"]
        and merge["proof_method"] == "package_password"
        and not merge["confirmed_by_source"]
    )
    if merge["role"] == "source":
        merge["open"] = merge["needs_take_over"] = merge["can_submit"] = False
    return merge


def _merges() -> list[dict[str, Any]]:
    return [merge_view(m) for m in merges.list_merges(token=session_token())]


@login_page("/customer/merge", "customer")
def merge_start(form: FormState | None = None, status: int = 200) -> Any:
    customer = customer_record()
    views = _merges()
    return page(
        "merge/start.html",
        status,
        form=form or FormState({"proof": "password"}),
        customer=customer,
        merges=[m for m in views if m["role"] == "target"],
        absorbing=[m for m in views if m["role"] == "source"],
    )


@login_page("/customer/merge", "customer", methods=["POST"])
def merge_begin() -> Any:
    form = FormState.from_request(*START_FIELDS)
    proof = form.get("proof") if form.get("proof") in ("password", "domain") else "password"
    form.values["proof"] = proof
    form.values["source_customer_number"] = form.get("source_customer_number").strip()
    proven_by = ("source_password",) if proof == "password" else ("domain", "domain_password")
    form.require("source_customer_number", *proven_by)
    code = form.get("second_factor_code").strip() if proof == "password" else ""
    body = form.check(
        MergeStart,
        source_customer_number=form.get("source_customer_number"),
        **{name: form.get(name) for name in proven_by},
        **({"second_factor_code": code} if code else {}),
    )
    if body is not None and form.ok:
        with form.caught():
            created = use_cases.start_merge(body)
            return redirect(url_for("web.merge_page", merge_id=created.id))
    form.values["source_password"] = form.values["domain_password"] = form.values["second_factor_code"] = ""
    return merge_start(form, 422)


@login_page("/customer/merge/<merge_id>", "customer")
def merge_page(
    merge_id: str, error: str | None = None, status: int = 200, data_form: FormState | None = None
) -> Any:
    view = merge_view(merges.get_merge(merge_id, token=session_token()))
    if data_form is None and view["open"]:
        data_form = contact_form(customer_record())  # the kept number may correct its data here
    return page(
        "merge/compare.html", status, merge=view, labels=FIELD_LABELS, error=error, data_form=data_form
    )


@login_page("/customer/merge/<merge_id>/data", "customer", methods=["POST"])
def merge_correct_data(merge_id: str) -> Any:
    """ "If the current master data has changed, you can change it directly": the kept number
    changes its own contact data (the use case of PATCH /api/v1/customer, with the same
    e-mail re-authentication), then the comparison is made again with the new values."""
    form = FormState.from_request(*CONTACT_FIELDS, "current_password")
    # A merge that is no longer open (409 merge_not_open) changes nothing: the form says so.
    changes = save_contact_form(customer_record(), form, functools.partial(correct_data_in_merge, merge_id))
    if not form.ok:
        return merge_page(merge_id, status=422, data_form=form)
    if not changes:
        merges.refresh_comparison(merge_id, token=session_token())  # nothing changed here; maybe elsewhere
    return redirect(url_for("web.merge_page", merge_id=merge_id, notice="data_corrected"))


def _refused(merge_id: str, error: DomainError) -> Any:
    """The merge again with a service's refusal above it (no login, no permission or no such
    merge: the pages' error pages)."""
    reraise(error, 401, 403, 404)
    form = FormState()
    form.fail_with(error)
    return merge_page(merge_id, error=form.error, status=error.http_status)


def _act(merge_id: str, action: Callable[..., Any], notice: str) -> Any:
    """Runs one action on the merge (the client function the API calls too) and shows the
    merge again, with a notice or the error."""
    try:
        action(merge_id, token=session_token())
    except DomainError as error:
        return _refused(merge_id, error)
    return redirect(url_for("web.merge_page", merge_id=merge_id, notice=notice))


@login_page("/customer/merge/<merge_id>/take-over-data", "customer", methods=["POST"])
def merge_take_over(merge_id: str) -> Any:
    return _act(merge_id, merges.take_over_data, "taken_over")


@login_page("/customer/merge/<merge_id>/submit", "customer", methods=["POST"])
def merge_submit(merge_id: str) -> Any:
    return _act(merge_id, merges.submit_merge, "")


@login_page("/customer/merge/<merge_id>/cancel", "customer", methods=["POST"])
def merge_cancel(merge_id: str) -> Any:
    return _act(merge_id, merges.cancel_merge, "cancelled")


@login_page("/customer/merge/<merge_id>/legal-proof", "customer", methods=["POST"])
def merge_legal_proof(merge_id: str) -> Any:
    merges.merge_id_of(merge_id)
    message = str(FIELD_MESSAGES["file"])
    try:  # the same reading as the API's upload (gateway_app/uploads.py)
        upload = uploaded_file(
            limit=MAX_LEGAL_PROOF_BYTES, too_large=TOO_LARGE, empty=message, missing=message
        )
    except InvalidInput:
        return merge_page(merge_id, error=message, status=422)
    assert upload is not None  # required: a missing file raised
    try:
        merges.upload_legal_proof(
            merge_id,
            filename=upload.filename,
            content_type=upload.mimetype,
            content=upload.content,
            token=session_token(),
        )
    except DomainError as error:
        if error.code == "invalid_input" and error.field == "file":
            message = _("The file is not a PDF. Please upload the signed form as a PDF.")
            return merge_page(merge_id, error=message, status=422)
        return _refused(merge_id, error)
    return redirect(url_for("web.merge_page", merge_id=merge_id, notice="proof_uploaded"))


# --- a merge proven with a package password: the absorbed side's say ------------------------


@login_page("/customer/merge/<merge_id>/object", "customer", methods=["POST"])
def merge_object(merge_id: str) -> Any:
    return _act(merge_id, merges.object_merge, "objected")


@login_page("/customer/merge/<merge_id>/confirm", "customer", methods=["POST"])
def merge_confirm(merge_id: str) -> Any:
    return _act(merge_id, merges.confirm_merge, "merge_confirmed")


@bp.route("/merge-objection", methods=["GET", "POST"])
def merge_objection() -> Any:
    """The link of the notice mailed to the absorbed number: no login. A GET only shows the
    question (mail scanners follow links); the button (POST, CSRF-protected) objects."""
    token = (request.values.get("token") or "")[:512]
    if request.method == "GET":
        return page("merge/objection.html", 200 if token else 400, token=token, done=False, error=None)
    try:
        merges.object_to_merge(token)
    except DomainError as error:
        if error.http_status >= 500:
            raise
        message = (
            _(
                "This link is invalid or was already used. If the merge is still open, log in to object, or contact our service team."
            )
            if error.code == "invalid_token"
            else _(
                "The merge can no longer be stopped here, because it is already being carried out. Please contact our service team."
            )
        )
        return page("merge/objection.html", error.http_status, token="", done=False, error=message)
    return page("merge/objection.html", 200, token="", done=True, error=None)
