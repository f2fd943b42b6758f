"""Logins (which issue tokens), logout and the public signing keys."""

from __future__ import annotations

import logging
from typing import Any

from cc_common.errors import DomainError, NotFound, ServiceUnavailable, Unauthenticated
from cc_common.protoconv import enum_name
from customercenter.v2 import common_pb2
from flask import Blueprint, Response, current_app

from gateway_app.api import answer, operation
from gateway_app.clients import contracts, identity, packages
from gateway_app.schemas.auth import (
    CustomerLogin,
    Jwks,
    PackageLogin,
    PasswordChange,
    PasswordResetAccepted,
    PasswordResetConfirm,
    PasswordResetRequest,
    StaffLogin,
    Token,
)
from gateway_app.security import current_principal, guard, token_required

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


LOGIN_ERRORS = {401: "Wrong credentials (invalid_credentials)", 429: ""}


@bp.post("/api/v1/auth/customer-login")
@operation(
    "customerLogin",
    "Log in with a customer number",
    "auth",
    {200: Token},
    body=CustomerLogin,
    errors={**LOGIN_ERRORS, 403: "The number was merged (customer_number_merged, merged_into)"},
)
def customer_login(body: CustomerLogin) -> Response:
    return answer(Token(**sign_in_customer(body.customer_number, body.password)))


def sign_in_customer(number: str, password: str) -> dict[str, Any]:
    """The customer login of the API and the web page: the token is named first, so identity
    records its session (and the attempt in the login history); on a login from a device the
    customer had not used before, the notice goes to the contact address."""
    pending = guard().pending_token()
    response = identity.customer_login(number, password, pending=pending)
    result = response.login
    issued = guard().issue(
        kind="customer",
        subject=result.subject,
        generation=result.generation,
        customer_number=identity.subject_name(result.subject),
        pending=pending,
    )
    if response.new_device:
        _notify_new_device(response.session_id, issued["access_token"])
    return issued


def _notify_new_device(session_id: str, token: str) -> None:
    """identity holds no contact data: the address and market come from contract-service (read
    with the new token), as for the password notices. The login succeeds even when this fails."""
    try:
        record = contracts.get_customer(token=token)
        identity.notify_new_device(
            session_id,
            email=record.email,
            market=enum_name(common_pb2.Market, record.market),
            language=record.language,
            token=token,
        )
    except DomainError as error:
        log.warning("the new-device notice of session %s was not queued: %s", session_id, error.code)


@bp.post("/api/v1/auth/package-login")
@operation(
    "packageLogin",
    "Log in with a domain and its package password",
    "auth",
    {200: Token},
    body=PackageLogin,
    errors=LOGIN_ERRORS,
)
def package_login(body: PackageLogin) -> Response:
    try:
        package_id = packages.resolve_domain(body.domain).id
    except NotFound:
        # identity is asked all the same (with a dummy hash), so an unknown domain costs
        # as much as a wrong password and answers the same 401.
        package_id = ""
    pending = guard().pending_token()
    result = identity.package_login(body.domain, package_id, body.password, pending=pending)
    package_id = identity.subject_name(result.subject) or package_id
    # No customer number in a package token: its password may be held by a third party.
    issued = guard().issue(
        kind="package",
        subject=result.subject,
        generation=result.generation,
        package_id=package_id,
        pending=pending,
    )
    return answer(Token(**issued, package_id=package_id))


@bp.post("/api/v1/auth/staff-login")
@operation(
    "staffLogin",
    "Log in as a member of the service team",
    "auth",
    {200: Token},
    body=StaffLogin,
    errors=LOGIN_ERRORS,
)
def staff_login(body: StaffLogin) -> Response:
    pending = guard().pending_token()
    result = identity.staff_login(body.username, body.password, pending=pending)
    issued = guard().issue(
        kind="staff", subject=result.subject, generation=result.generation, pending=pending
    )
    return answer(Token(**issued))


@bp.post("/api/v1/auth/logout")
@token_required("customer", "package", "staff")
@operation("logout", "Revoke the token of this request", "auth", {204: "The token is dead at once"})
def logout() -> Response:
    # identity returns once every watcher (this gateway's too) has applied the revocation.
    identity.revoke_own_token(token=current_principal().token)
    return Response(status=204)


class InvalidResetToken(DomainError):
    """A reset link that is unknown, used, voided (another link of the number was used) or
    expired: 400, not 401."""

    http_status = 400
    default_code = "invalid_token"


def _reset_base_url() -> str:
    """The gateway's configured PUBLIC_BASE_URL, or "". Never derived from the request: a
    forged Host header would otherwise have identity mail a genuine reset link to the
    attacker's host. identity puts its own configured PUBLIC_BASE_URL into the link anyway."""
    return str(current_app.config.get("PUBLIC_BASE_URL") or "")


def send_password_reset(number: str) -> None:
    """ "Forgot password" (the API and the web page). The same calls whatever the number: the
    e-mail comes from contract-service (with the gateway's service credential); for an unknown
    number identity gets an empty address and sends nothing. identity also limits the requests
    per client address, silently. Only a service that is down answers differently (503)."""
    try:
        record = contracts.get_customer(number)
        email, market, language = record.email, enum_name(common_pb2.Market, record.market), record.language
    except ServiceUnavailable:
        raise
    except DomainError:
        email, market, language = "", "", ""
    identity.request_password_reset(
        number, email=email, market=market, language=language, base_url=_reset_base_url()
    )


@bp.post("/api/v1/auth/password-reset")
@operation(
    "requestPasswordReset",
    "Forgot password: mail a reset link to the customer's e-mail address",
    "auth",
    {202: PasswordResetAccepted},
    body=PasswordResetRequest,
)
def request_password_reset(body: PasswordResetRequest) -> Response:
    send_password_reset(body.customer_number)
    message = (
        "If this customer number exists and has an e-mail address, a link to set a "
        "new password is on its way. The link is valid for 30 minutes."
    )
    return answer(PasswordResetAccepted(message=message), 202)


@bp.post("/api/v1/auth/password-reset/confirm")
@operation(
    "confirmPasswordReset",
    "Set a new customer password with the token of a reset mail (once)",
    "auth",
    {204: "The password is set; every token of the customer is dead"},
    body=PasswordResetConfirm,
    errors={
        400: "Unknown, used or expired token, or one voided by a reset with another link (invalid_token)",
        422: "Invalid input, e.g. a weak new_password (invalid_input, field new_password)",
    },
)
def confirm_password_reset(body: PasswordResetConfirm) -> Response:
    try:
        identity.confirm_password_reset(body.token, body.new_password)
    except Unauthenticated as error:
        if error.code != "invalid_token":
            raise
        raise InvalidResetToken(
            "This reset link is invalid, was already used or has expired. Please ask for a new one."
        ) from error
    return Response(status=204)


@bp.put("/api/v1/customer/password")
@token_required("customer")
@operation(
    "changeCustomerPassword",
    "Change the customer password; every other token of the customer dies "
    "and the contact address gets a notice",
    "auth",
    {204: "Changed; the token of this request stays valid"},
    body=PasswordChange,
    errors={401: "Wrong current_password (invalid_credentials), or no valid token", 429: ""},
)
def change_customer_password(body: PasswordChange) -> Response:
    change_password(body.current_password, body.new_password)
    return Response(status=204)


def change_password(current_password: str, new_password: str) -> None:
    """The signed-in customer changes its password (the API and the web page). identity
    checks the current one, revokes every other token of the customer (not this one) before it
    answers, and tells the contact address, which the gateway reads from contract-service and
    hands over as it does for reset mails (no call between the backend services)."""
    token = current_principal().token
    record = contracts.get_customer(token=token)
    identity.change_customer_password(
        current_password,
        new_password,
        email=record.email,
        market=enum_name(common_pb2.Market, record.market),
        language=record.language,
        token=token,
    )


@bp.get("/.well-known/jwks.json")
@operation("getJwks", "The public keys that sign user tokens", "auth", {200: Jwks}, backend=False)
def jwks() -> Response:
    response = answer(Jwks(**guard().jwks()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
