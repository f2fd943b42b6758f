"""The service team's endpoints (staff token): customers, packages, invoices and the review,
audit and reversal of merges.

The staff token is forwarded, so every service checks the staff role itself.
"""

from __future__ import annotations

from cc_common.errors import InvalidInput
from cc_common.protoconv import enum_value
from cc_common.rules.customers import MAX_DIGITS, PATTERN, is_customer_number
from cc_common.rules.merges import STATUSES as MERGE_STATUSES
from customercenter.v2 import common_pb2, contract_pb2, merge_pb2, package_pb2
from flask import Blueprint, Response, request

from gateway_app.api import MERGE, MERGE_NOT_OPEN, PACKAGE, PDF, Api, Param
from gateway_app.clients import contracts, identity, merges, packages
from gateway_app.schemas.admin import (
    CustomerCreate,
    CustomerCreated,
    InvoiceCreate,
    PackageCreate,
    UsageUpdate,
)
from gateway_app.schemas.customers import CUSTOMER_FIELDS
from gateway_app.schemas.invoices import Invoice
from gateway_app.schemas.merges import Merge, MergeAudit, MergeList, MergeReason
from gateway_app.schemas.packages import Package
from gateway_app.security import current_token
from gateway_app.use_cases import legal_proof_download, package_id_of, require_active_customer

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")
NUMBER = Param(
    {"type": "string", "pattern": PATTERN},
    "Unknown customer number (not_found)",
    "Invalid input (invalid_input, with field; customer_number for the path)",
)
api = Api(
    bp,
    "admin",
    "staff",
    number=NUMBER,
    package_id=PACKAGE,
    merge_id=MERGE,
)
PACKAGE_CONFLICT = (
    "A domain belongs to another package (domain_taken), or the customer number is frozen or retired "
    "(customer_not_active)"
)
APPROVAL_CONFLICT = (
    "merge_not_open, or objection_period_running: a merge proven with a package password before "
    "MERGE_OBJECTION_HOURS have passed since the absorbed side was told (unless it confirmed); the error "
    "names objection_period_ends_at"
)
PAYMENT_FIELDS = ("iban", "bic", "card_token", "card_last4", "card_expiry")


def _path_customer_number(number: str) -> str:
    if not is_customer_number(number):
        raise InvalidInput(f"A customer number is 1 to {MAX_DIGITS} digits.", field="customer_number")
    return number


@api.post(
    "/customers",
    {201: CustomerCreated},
    errors={
        409: "The customer number is taken (customer_number_taken), or the card has expired (card_expired)",
        422: "Invalid input (invalid_input, with field): also a phone number, e-mail address, IBAN or BIC that "
        "is not valid, or a zip that does not fit the country (or the market's country); a card number "
        "(card_number_refused)",
    },
)
def create_customer(body: CustomerCreate) -> CustomerCreated:
    """Create a customer with its customer password"""
    # Everything, the password included, is checked before anything is created.
    given = body.given()
    payment = {name: given[name] for name in PAYMENT_FIELDS if name in given}
    request = contract_pb2.CreateCustomerRequest(
        market=enum_value(common_pb2.Market, body.market),
        customer_number=body.customer_number or "",
        **{name: given.get(name, "") for name in CUSTOMER_FIELDS},
    )
    if payment:
        request.payment.CopyFrom(contract_pb2.PaymentInput(**payment))
    created = contracts.create_customer(request, token=current_token())
    identity.set_customer_password(created.customer_number, body.password, token=current_token())
    return CustomerCreated(customer_number=created.customer_number)


@api.post("/customers/<number>/packages", {201: Package}, errors={409: PACKAGE_CONFLICT})
def create_package(number: str, body: PackageCreate) -> package_pb2.Package:
    """Create a package for a customer"""
    number = _path_customer_number(number)
    token = current_token()
    # 404 not_found for an unknown customer number, 409 customer_not_active for a frozen or
    # retired one, before a package is made for it.
    require_active_customer(number, token=token)
    created = packages.create_package(number, body.product, body.domains, token=token)
    # Every package has its contract (terminations, the contract overview); idempotent per
    # package id, so a repeated call after a failure here does not make a second one.
    contracts.create_contract(created.id, number, created.product or body.product, token=token)
    if body.package_password is not None:
        identity.set_package_password(created.id, body.package_password, token=token)
    return created


@api.post("/packages/<package_id>/usage", {200: Package})
def set_package_usage(package_id: str, body: UsageUpdate) -> package_pb2.Package:
    """Set the usage figures of a package (what the hosting platform would report)

    For tests and demos; a figure left out keeps its value."""
    package_id = package_id_of(package_id)
    figures = body.given()
    if len(figures) < len(UsageUpdate.model_fields):
        current = packages.get_package(package_id, token=current_token())
        for name in UsageUpdate.model_fields:
            figures.setdefault(name, getattr(current, name))
    return packages.set_usage(package_id, figures, token=current_token())


@api.post("/customers/<number>/invoices", {201: Invoice})
def create_invoice(number: str, body: InvoiceCreate) -> contract_pb2.Invoice:
    """Create an invoice for a customer"""
    return contracts.create_invoice(
        _path_customer_number(number),
        body.amount,
        currency=str(body.currency or "").upper(),
        status=body.status or "",
        date=body.date or "",
        token=current_token(),
    )


# --- merges ---------------------------------------------------------------------------------


@api.get(
    "/merges",
    {200: MergeList},
    query={"status": {"type": "string", "enum": list(MERGE_STATUSES)}},
    errors={422: "An unknown status (invalid_input, field status)"},
)
def list_merges_for_review() -> MergeList:
    """The review queue: merges, optionally by status"""
    status = request.args.get("status", "")
    if status and status not in MERGE_STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(MERGE_STATUSES)}.", field="status")
    return MergeList(
        merges=[Merge.from_proto(item) for item in merges.list_merges(status, token=current_token())]
    )


@api.get("/merges/<merge_id>", {200: MergeAudit})
def get_merge_audit(merge_id: str) -> merge_pb2.GetMergeAuditResponse:
    """The merge with both master-data snapshots, the step log and the moved records"""
    return merges.get_merge_audit(merge_id, token=current_token())


@api.post("/merges/<merge_id>/approve", {202: Merge}, errors={409: APPROVAL_CONFLICT})
def approve_merge(merge_id: str) -> merge_pb2.Merge:
    """Approve a submitted merge; execution starts"""
    return merges.approve_merge(merge_id, token=current_token())


@api.post("/merges/<merge_id>/cancel", {200: Merge}, errors={409: MERGE_NOT_OPEN})
def cancel_merge_as_staff(merge_id: str) -> merge_pb2.Merge:
    """Cancel a merge that has not started executing (frees both numbers)

    E.g. a draft nobody finishes, which would keep both numbers locked."""
    return merges.cancel_merge(merge_id, token=current_token())


@api.post("/merges/<merge_id>/reject", {200: Merge}, errors={409: MERGE_NOT_OPEN})
def reject_merge(merge_id: str, body: MergeReason) -> merge_pb2.Merge:
    """Reject a submitted merge with a reason"""
    return merges.reject_merge(merge_id, body.reason, token=current_token())


@api.post(
    "/merges/<merge_id>/reverse",
    {202: Merge},
    errors={409: "More than 30 days since completion (reversal_window_over), or merge_not_open"},
)
def reverse_merge(merge_id: str, body: MergeReason) -> merge_pb2.Merge:
    """Reverse a completed merge within 30 days"""
    return merges.reverse_merge(merge_id, body.reason, token=current_token())


@api.get(
    "/merges/<merge_id>/legal-proof",
    {200: PDF},
    errors={404: "Unknown merge, or no form uploaded (not_found)"},
)
def get_legal_proof(merge_id: str) -> Response:
    """Download the signed contract-transfer form"""
    return legal_proof_download(merge_id, token=current_token())
