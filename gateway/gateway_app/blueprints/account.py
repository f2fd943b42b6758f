"""The customer's sessions, login history and data export (customer token only; a package or
staff token gets 403). The web page "Security" (gateway_app/web/customer.py) calls the same
use cases (gateway_app/use_cases.py), so the API and the page cannot differ:
docs/passwords-and-sessions.md."""

from __future__ import annotations

from flask import Blueprint, Response

from gateway_app.api import Api, Param, answer
from gateway_app.clients import identity
from gateway_app.schemas.account import (
    SESSION_ID,
    CustomerExport,
    LoginHistory,
    SessionList,
)
from gateway_app.security import current_principal, current_token
from gateway_app.use_cases import customer_export, export_filename, login_history, session_list

bp = Blueprint("account", __name__)
UNKNOWN = "Unknown, ended or expired session, or one of another customer (not_found)"
api = Api(bp, "account", "customer", session_id=Param(SESSION_ID, UNKNOWN))


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
