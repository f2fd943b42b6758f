"""The customer's sessions, login history and data export (/api/v1/sessions, /login-history,
/customer/export; docs/passwords-and-sessions.md)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from gateway_app.schemas import Answer, fields, money
from gateway_app.schemas.billing import ContactRequest
from gateway_app.schemas.customers import Contract, Customer
from gateway_app.schemas.invoices import Invoice
from gateway_app.schemas.merges import Merge
from gateway_app.schemas.packages import Package
from gateway_app.schemas.terminations import Termination

SESSION_ID = {"type": "string", "description": "e.g. ses_0f3c9a6e1b2d4c5e6f7a8b9c (unknown or another customer's: 404)"}  # fmt: skip


class Session(Answer):
    """A signed-in session: a token issued at a login; current is true for the token of this request"""

    id: str
    kind: fields.TokenKind
    created_at: fields.DateTime
    last_used_at: fields.DateTime  # updated at most about once a minute
    client_address: str
    user_agent: str
    current: bool
    EXAMPLE: ClassVar = {"id": "ses_0f3c9a6e1b2d4c5e6f7a8b9c", "current": True}


class SessionList(Answer):
    """The customer's live sessions (neither signed out nor expired), newest first"""

    sessions: list[Session]


class LoginAttempt(Answer):
    """One login attempt with the customer number (success or failure)"""

    at: fields.DateTime
    client_address: str
    user_agent: str
    success: bool
    method: Literal["password", "second_factor", "recovery_code"]
    EXAMPLE: ClassVar = {"success": True}


class LoginHistory(Answer):
    """The last login attempts with the customer number (at most 100, of the last 180 days), newest first"""

    logins: list[LoginAttempt]


class DebitRequestRecord(Answer):
    """A request to debit an open invoice again"""

    invoice_number: str
    requested_at: fields.DateTime
    status: Literal["requested", "collected", "paid", "returned"]
    EXAMPLE: ClassVar = {"status": "paid"}


class OfferOrderRecord(Answer):
    """An offer of the month ordered for a package, at the offer's monthly price"""

    offer_id: str
    package_id: str
    product: str
    monthly_price: float
    currency: str
    ordered_at: fields.DateTime
    EXAMPLE: ClassVar = {"offer_id": "off_3f2a9c", "product": "hosting-plus"}

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> OfferOrderRecord:
        return super().from_proto(message, monthly_price=money(message.price_cents))


class ExportedPackage(Package):
    """A package with its technical settings"""

    settings: dict[str, str]
    EXAMPLE: ClassVar = {"settings": {"https_redirect": "true", "php_version": "8.3"}}


class CustomerExport(Answer):
    """Everything the customer center stores about the customer number: master data (payment data
    masked as everywhere), contracts, invoices, terminations, repeat-debit requests, contact
    requests (without attachments), offer orders, packages with domains, usage and settings,
    the merges it took part in, its live sessions and its login history. Never a password hash,
    a token, a secret or a full card number."""

    format: Literal["customer-center-export/1"]
    exported_at: fields.DateTime
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
