"""The service team's endpoints (staff token): customers, packages, invoices and the review,
audit and reversal of merges.

The staff token is forwarded, so every service checks the staff role itself.
"""

from __future__ import annotations

from cc_common.errors import InvalidInput, NotFound
from cc_common.protoconv import enum_value
from cc_common.rules.customers import MAX_DIGITS, PATTERN, is_customer_number
from cc_common.rules.merges import STATUSES as MERGE_STATUSES
from customercenter.v2 import common_pb2, contract_pb2
from flask import Blueprint, Response, request

from gateway_app.api import PDF, answer, operation
from gateway_app.blueprints import require_active_customer
from gateway_app.clients import contracts, identity, merges, packages
from gateway_app.downloads import pdf_download
from gateway_app.schemas import MAX_OPAQUE_ID
from gateway_app.schemas.admin import (
    CustomerCreate,
    CustomerCreated,
    InvoiceCreate,
    PackageCreate,
    UsageUpdate,
)
from gateway_app.schemas.customers import CUSTOMER_FIELDS
from gateway_app.schemas.invoices import Invoice
from gateway_app.schemas.merges import MERGE_ID, Merge, MergeAudit, MergeList, MergeReason
from gateway_app.schemas.packages import PACKAGE_ID, Package
from gateway_app.security import current_principal, token_required

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")

PAYMENT_FIELDS = ("iban", "bic", "card_token", "card_last4", "card_expiry")
NUMBER = {"number": {"type": "string", "pattern": PATTERN}}
UNKNOWN_NUMBER = {404: "Unknown customer number (not_found)"}
MERGE = {"merge_id": MERGE_ID}
MERGE_NOT_FOUND = {404: "Unknown merge (not_found)"}
NOT_OPEN = "The merge is not in a state that allows this (merge_not_open)"


def _path_customer_number(number: str) -> str:
    if not is_customer_number(number):
        raise InvalidInput(f"A customer number is 1 to {MAX_DIGITS} digits.", field="customer_number")
    return number


@bp.post("/customers")
@token_required("staff")
@operation(
    "createCustomer",
    "Create a customer with its customer password",
    "admin",
    {201: CustomerCreated},
    body=CustomerCreate,
    errors={
        409: "The customer number is taken (customer_number_taken), or the card has expired (card_expired)",
        422: "Invalid input (invalid_input, with field): also a phone number, e-mail address, IBAN or BIC that "
        "is not valid, or a zip that does not fit the country (or the market's country); a card number "
        "(card_number_refused)",
    },
)
def create_customer(body: CustomerCreate) -> Response:
    # Everything, the password included, is checked before anything is created.
    given = body.given()
    token = current_principal().token
    payment = {name: given[name] for name in PAYMENT_FIELDS if name in given}
    request = contract_pb2.CreateCustomerRequest(
        market=enum_value(common_pb2.Market, body.market),
        customer_number=body.customer_number or "",
        **{name: given.get(name, "") for name in CUSTOMER_FIELDS},
    )
    if payment:
        request.payment.CopyFrom(contract_pb2.PaymentInput(**payment))
    created = contracts.create_customer(request, token=token)
    identity.set_customer_password(created.customer_number, body.password, token=token)
    return answer(CustomerCreated(customer_number=created.customer_number), 201)


@bp.post("/customers/<number>/packages")
@token_required("staff")
@operation(
    "createPackage",
    "Create a package for a customer",
    "admin",
    {201: Package},
    body=PackageCreate,
    params=NUMBER,
    errors={
        **UNKNOWN_NUMBER,
        409: "A domain belongs to another package (domain_taken), or the customer number is frozen or "
        "retired (customer_not_active)",
        422: "Invalid input (invalid_input, with field; customer_number for the path)",
    },
)
def create_package(number: str, body: PackageCreate) -> Response:
    number = _path_customer_number(number)
    token = current_principal().token
    # 404 not_found for an unknown customer number, 409 customer_not_active for a frozen or
    # retired one, before a package is made for it.
    require_active_customer(number, token=token)
    created = packages.create_package(number, body.product, body.domains, token=token)
    # Every package has its contract (terminations, the contract overview); idempotent per
    # package id, so a repeated call after a failure here does not make a second one.
    contracts.create_contract(created.id, number, created.product or body.product, token=token)
    if body.package_password is not None:
        identity.set_package_password(created.id, body.package_password, token=token)
    return answer(Package.from_proto(created), 201)


@bp.post("/packages/<package_id>/usage")
@token_required("staff")
@operation(
    "setPackageUsage",
    "Set the usage figures of a package (what the hosting platform would report)",
    "admin",
    {200: Package},
    body=UsageUpdate,
    params={"package_id": PACKAGE_ID},
    errors={404: "Unknown package (not_found)"},
)
def set_usage(package_id: str, body: UsageUpdate) -> Response:
    """The usage figures the hosting platform would report (tests, demo); a figure left out
    keeps its value."""
    if not package_id or len(package_id) > MAX_OPAQUE_ID:
        raise NotFound("There is no such package.")
    token = current_principal().token
    figures = body.given()
    if len(figures) < len(UsageUpdate.model_fields):
        current = packages.get_package(package_id, token=token)
        for name in UsageUpdate.model_fields:
            figures.setdefault(name, getattr(current, name))
    return answer(Package.from_proto(packages.set_usage(package_id, figures, token=token)))


@bp.post("/customers/<number>/invoices")
@token_required("staff")
@operation(
    "createInvoice",
    "Create an invoice for a customer",
    "admin",
    {201: Invoice},
    body=InvoiceCreate,
    params=NUMBER,
    errors={**UNKNOWN_NUMBER, 422: "Invalid input (invalid_input, with field; customer_number for the path)"},
)
def create_invoice(number: str, body: InvoiceCreate) -> Response:
    number = _path_customer_number(number)
    created = contracts.create_invoice(
        number,
        body.amount,
        currency=str(body.currency or "").upper(),
        status=body.status or "",
        date=body.date or "",
        token=current_principal().token,
    )
    return answer(Invoice.from_proto(created), 201)


# --- merges ---------------------------------------------------------------------------------


@bp.get("/merges")
@token_required("staff")
@operation(
    "listMergesForReview",
    "The review queue: merges, optionally by status",
    "admin",
    {200: MergeList},
    query={"status": {"type": "string", "enum": list(MERGE_STATUSES)}},
    errors={422: "An unknown status (invalid_input, field status)"},
)
def list_merges() -> Response:
    status = request.args.get("status", "")
    if status and status not in MERGE_STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(MERGE_STATUSES)}.", field="status")
    items = merges.list_merges(status, token=current_principal().token)
    return answer(MergeList(merges=[Merge.from_proto(item) for item in items]))


@bp.get("/merges/<merge_id>")
@token_required("staff")
@operation(
    "getMergeAudit",
    "The merge with both master-data snapshots, the step log and the moved records",
    "admin",
    {200: MergeAudit},
    params=MERGE,
    errors=MERGE_NOT_FOUND,
)
def merge_audit(merge_id: str) -> Response:
    return answer(MergeAudit.from_proto(merges.get_merge_audit(merge_id, token=current_principal().token)))


@bp.post("/merges/<merge_id>/approve")
@token_required("staff")
@operation(
    "approveMerge",
    "Approve a submitted merge; execution starts",
    "admin",
    {202: Merge},
    params=MERGE,
    errors={
        **MERGE_NOT_FOUND,
        409: "merge_not_open, or objection_period_running: a merge proven with a package password before "
        "MERGE_OBJECTION_HOURS have passed since the absorbed side was told (unless it confirmed); the "
        "error names objection_period_ends_at",
    },
)
def approve_merge(merge_id: str) -> Response:
    return answer(Merge.from_proto(merges.approve_merge(merge_id, token=current_principal().token)), 202)


@bp.post("/merges/<merge_id>/cancel")
@token_required("staff")
@operation(
    "cancelMergeAsStaff",
    "Cancel a merge that has not started executing (frees both numbers)",
    "admin",
    {200: Merge},
    params=MERGE,
    errors={**MERGE_NOT_FOUND, 409: NOT_OPEN},
)
def cancel_merge(merge_id: str) -> Response:
    """A merge that has not started executing (e.g. a draft nobody finishes, which would keep
    both numbers locked) is cancelled by the service team."""
    return answer(Merge.from_proto(merges.cancel_merge(merge_id, token=current_principal().token)))


@bp.post("/merges/<merge_id>/reject")
@token_required("staff")
@operation(
    "rejectMerge",
    "Reject a submitted merge with a reason",
    "admin",
    {200: Merge},
    body=MergeReason,
    params=MERGE,
    errors={**MERGE_NOT_FOUND, 409: NOT_OPEN},
)
def reject_merge(merge_id: str, body: MergeReason) -> Response:
    merges.merge_id_of(merge_id)
    return answer(
        Merge.from_proto(merges.reject_merge(merge_id, body.reason, token=current_principal().token))
    )


@bp.post("/merges/<merge_id>/reverse")
@token_required("staff")
@operation(
    "reverseMerge",
    "Reverse a completed merge within 30 days",
    "admin",
    {202: Merge},
    body=MergeReason,
    params=MERGE,
    errors={
        **MERGE_NOT_FOUND,
        409: "More than 30 days since completion (reversal_window_over), or merge_not_open",
    },
)
def reverse_merge(merge_id: str, body: MergeReason) -> Response:
    merges.merge_id_of(merge_id)
    item = merges.reverse_merge(merge_id, body.reason, token=current_principal().token)
    return answer(Merge.from_proto(item), 202)


@bp.get("/merges/<merge_id>/legal-proof")
@token_required("staff")
@operation(
    "getLegalProof",
    "Download the signed contract-transfer form",
    "admin",
    {200: PDF},
    params=MERGE,
    errors={404: "Unknown merge, or no form uploaded (not_found)"},
)
def legal_proof(merge_id: str) -> Response:
    return legal_proof_download(merge_id, token=current_principal().token)


def legal_proof_download(merge_id: str, *, token: str) -> Response:
    """The uploaded signed form of a merge (the API and the back office page)."""
    proof = merges.get_legal_proof(merge_id, token=token)
    return pdf_download(proof.content, proof.filename or f"legal-proof-{merge_id}.pdf")
