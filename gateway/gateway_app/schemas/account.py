"""The customer's sessions, login history and data export (/api/v1/sessions, /login-history,
/customer/export; docs/passwords-and-sessions.md)."""

from __future__ import annotations

from typing import ClassVar, Literal

from cc_common.protoconv import iso
from customercenter.v2 import contract_pb2

from gateway_app.schemas import Answer, DateTime, money
from gateway_app.schemas.billing import ContactRequest
from gateway_app.schemas.customers import Contract, ContractList, Customer
from gateway_app.schemas.invoices import Invoice
from gateway_app.schemas.merges import Merge
from gateway_app.schemas.packages import Package
from gateway_app.schemas.terminations import Termination

SESSION_ID = {
    "type": "string",
    "description": "e.g. ses_0f3c9a6e1b2d4c5e6f7a8b9c (unknown or another customer's: 404)",
}


class Session(Answer):
    """A signed-in session: a token issued at a login; current is true for the token of this request"""

    id: str
    kind: Literal["customer", "package", "staff"]
    created_at: DateTime
    last_used_at: DateTime  # updated at most about once a minute
    client_address: str
    user_agent: str
    current: bool
    EXAMPLE: ClassVar = {
        "id": "ses_0f3c9a6e1b2d4c5e6f7a8b9c", "kind": "customer", "created_at": "2026-12-02T09:00:00+00:00",
        "last_used_at": "2026-12-02T09:41:00+00:00", "client_address": "192.0.2.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "current": True,
    }  # fmt: skip


class SessionList(Answer):
    """The customer's live sessions (neither signed out nor expired), newest first"""

    sessions: list[Session]
    EXAMPLE: ClassVar = {"sessions": [Session.EXAMPLE]}


class LoginAttempt(Answer):
    """One login attempt with the customer number (success or failure)"""

    at: DateTime
    client_address: str
    user_agent: str
    success: bool
    method: Literal["password", "second_factor", "recovery_code"]
    EXAMPLE: ClassVar = {
        "at": "2026-12-02T09:00:00+00:00", "client_address": "192.0.2.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "success": True, "method": "password",
    }  # fmt: skip


class LoginHistory(Answer):
    """The last login attempts with the customer number (at most 100, of the last 180 days), newest first"""

    logins: list[LoginAttempt]
    EXAMPLE: ClassVar = {"logins": [LoginAttempt.EXAMPLE]}


class DebitRequestRecord(Answer):
    """A request to debit an open invoice again"""

    invoice_number: str
    requested_at: DateTime
    status: Literal["requested", "collected", "paid", "returned"]
    EXAMPLE: ClassVar = {
        "invoice_number": "RE00000001",
        "requested_at": "2026-02-01T09:00:00+00:00",
        "status": "paid",
    }


class OfferOrderRecord(Answer):
    """An offer of the month ordered for a package, at the offer's monthly price"""

    offer_id: str
    package_id: str
    product: str
    monthly_price: float
    currency: str
    ordered_at: DateTime
    EXAMPLE: ClassVar = {
        "offer_id": "off_1", "package_id": "pkg_3f2a9c", "product": "hosting-plus", "monthly_price": 4.99,
        "currency": "EUR", "ordered_at": "2026-12-02T10:00:00+00:00",
    }  # fmt: skip

    @classmethod
    def of(cls, message: contract_pb2.OfferOrder) -> OfferOrderRecord:
        return cls(
            offer_id=message.offer_id, package_id=message.package_id, product=message.product,
            monthly_price=money(message.price_cents), currency=message.currency,
            ordered_at=iso(message, "ordered_at") or None,
        )  # fmt: skip


class ExportedPackage(Package):
    """A package with its technical settings"""

    settings: dict[str, str]
    EXAMPLE: ClassVar = {**Package.EXAMPLE, "settings": {"https_redirect": "true", "php_version": "8.3"}}


class CustomerExport(Answer):
    """Everything the customer center stores about the customer number: master data (payment data
    masked as everywhere), contracts, invoices, terminations, repeat-debit requests, contact
    requests (without attachments), offer orders, packages with domains, usage and settings,
    the merges it took part in, its live sessions and its login history. Never a password hash,
    a token, a secret or a full card number."""

    format: Literal["customer-center-export/1"]
    exported_at: DateTime
    customer: Customer
    contracts: list[Contract]
    invoices: list[Invoice]
    terminations: list[Termination]
    debit_requests: list[DebitRequestRecord]
    contact_requests: list[ContactRequest]
    offer_orders: list[OfferOrderRecord]
    packages: list[ExportedPackage]
    merges: list[Merge]
    sessions: list[Session]
    login_history: list[LoginAttempt]
    EXAMPLE: ClassVar = {
        "format": "customer-center-export/1", "exported_at": "2026-12-02T10:00:00+00:00",
        "customer": Customer.EXAMPLE, "contracts": ContractList.EXAMPLE["contracts"], "invoices": [Invoice.EXAMPLE],
        "terminations": [Termination.EXAMPLE], "debit_requests": [DebitRequestRecord.EXAMPLE],
        "contact_requests": [ContactRequest.EXAMPLE], "offer_orders": [OfferOrderRecord.EXAMPLE],
        "packages": [ExportedPackage.EXAMPLE], "merges": [Merge.EXAMPLE], "sessions": [Session.EXAMPLE],
        "login_history": [LoginAttempt.EXAMPLE],
    }  # fmt: skip
