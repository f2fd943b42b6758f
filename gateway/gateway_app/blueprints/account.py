"""The customer's sessions, login history and data export (customer token only; a package or
staff token gets 403). The web page "Security" (gateway_app/web/customer.py) calls the same
functions, so the API and the page cannot differ: docs/passwords-and-sessions.md."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response

from gateway_app.api import Api, Param, answer
from gateway_app.clients import contracts, identity, merges, packages
from gateway_app.schemas.account import (
    SESSION_ID,
    CustomerExport,
    DebitRequestRecord,
    ExportedPackage,
    LoginAttempt,
    LoginHistory,
    OfferOrderRecord,
    Session,
    SessionList,
)
from gateway_app.schemas.billing import ContactRequest
from gateway_app.schemas.customers import Contract, Customer
from gateway_app.schemas.invoices import Invoice
from gateway_app.schemas.merges import Merge
from gateway_app.schemas.terminations import Termination
from gateway_app.security import current_principal, current_token

bp = Blueprint("account", __name__)
UNKNOWN = "Unknown, ended or expired session, or one of another customer (not_found)"
api = Api(bp, "account", "customer", session_id=Param(SESSION_ID, UNKNOWN))
EXPORT_FORMAT = "customer-center-export/1"


# --- the use cases of the API and the page ---------------------------------------------------


def session_list(token: str) -> SessionList:
    return SessionList(sessions=[Session.from_proto(s) for s in identity.list_sessions(token=token)])


def login_history(token: str) -> LoginHistory:
    return LoginHistory(logins=[LoginAttempt.from_proto(a) for a in identity.list_login_history(token=token)])


def customer_export(token: str) -> CustomerExport:
    """Everything the suite stores about the caller's customer number, read with the caller's
    own token from each service (each checks ownership itself)."""
    records = contracts.list_customer_records(token=token)
    exported_packages = [
        ExportedPackage.from_proto(
            item,
            settings=dict(sorted(packages.get_settings(item.id, token=token).settings.items())),
        )
        for item in packages.list_packages(token=token)
    ]
    return CustomerExport(
        format=EXPORT_FORMAT,
        exported_at=datetime.now(UTC).isoformat(),
        customer=Customer.from_proto(contracts.get_customer(token=token)),
        contracts=[Contract.from_proto(c) for c in contracts.list_contracts(token=token)],
        invoices=[Invoice.from_proto(i) for i in contracts.list_invoices(token=token)],
        terminations=[Termination.from_proto(t) for t in contracts.list_terminations(token=token)],
        debit_requests=[DebitRequestRecord.from_proto(d) for d in records.debit_requests],
        contact_requests=[ContactRequest.of(c) for c in records.contact_requests],
        offer_orders=[OfferOrderRecord.of(o) for o in records.offer_orders],
        packages=exported_packages,
        merges=[Merge.from_proto(m) for m in merges.list_merges(token=token)],
        sessions=session_list(token).sessions,
        login_history=login_history(token).logins,
    )


def export_filename(customer_number: str) -> str:
    return f"customer-{customer_number}-export.json"


# --- the API -------------------------------------------------------------------------------------


@api.get("/api/v1/sessions", {200: SessionList})
def list_sessions() -> SessionList:
    """The customer's signed-in sessions, newest first"""
    return session_list(current_token())


@api.delete("/api/v1/sessions/<session_id>", {204: "Signed out"})
def end_session(session_id: str) -> None:
    """Sign out one session: its token is refused from its next request on"""
    # identity denies the session's token and answers once every replica (this gateway's
    # workers and the services) applied it: the token is dead on its next request.
    identity.end_session(session_id, token=current_token())


@api.delete("/api/v1/sessions", {204: "Every other token of the customer is dead"})
def end_other_sessions() -> None:
    """Sign out every session of the customer but this one"""
    identity.end_other_sessions(token=current_token())


@api.get("/api/v1/login-history", {200: LoginHistory})
def list_login_history() -> LoginHistory:
    """The last login attempts with the customer number (at most 100, of 180 days), newest first"""
    return login_history(current_token())


@api.get("/api/v1/customer/export", {200: CustomerExport})
def export_customer_data() -> Response:
    """Download everything stored about the customer number as one JSON file"""
    principal = current_principal()
    filename = export_filename(principal.customer_number or "")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return answer(customer_export(principal.token), 200, headers)
