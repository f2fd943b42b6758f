"""Logins (which issue tokens), logout and the public signing keys."""

from __future__ import annotations

import logging
from typing import Any

from cc_common.errors import DomainError, NotFound, ServiceUnavailable, Unauthenticated
from cc_common.protoconv import enum_name
from customercenter.v2 import common_pb2, identity_pb2
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
    RecoveryCodes,
    SecondFactorConfirm,
    SecondFactorDisable,
    SecondFactorEnrolment,
    SecondFactorLogin,
    SecondFactorRequired,
    SecondFactorStart,
    StaffLogin,
    Token,
)
from gateway_app.security import PendingToken, current_principal, guard, token_required

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


LOGIN_ERRORS = {401: "Wrong credentials (invalid_credentials)", 429: ""}
# A right password: the token, or (the account has a second factor) a challenge for it.
SECOND_FACTOR_LOGIN = (Token, SecondFactorRequired)


@bp.post("/api/v1/auth/customer-login")
@operation(
    "customerLogin",
    "Log in with a customer number (with a second factor: a challenge for POST /api/v1/auth/second-factor)",
    "auth",
    {200: SECOND_FACTOR_LOGIN},
    body=CustomerLogin,
    errors={**LOGIN_ERRORS, 403: "The number was merged (customer_number_merged, merged_into)"},
)
def customer_login(body: CustomerLogin) -> Response:
    return _login_answer(sign_in_customer(body.customer_number, body.password))


# A login's outcome: the issued token (access_token, ...), or the challenge of a second factor.
SignIn = dict[str, Any] | identity_pb2.SecondFactorChallenge


def sign_in_customer(number: str, password: str) -> SignIn:
    """The customer login of the API and the web page: the token is named first, so identity
    records its session (and the attempt in the login history); with a second factor the
    answer is its challenge (complete_sign_in finishes it)."""
    pending = guard().pending_token()
    response = identity.customer_login(number, password, pending=pending)
    if response.HasField("second_factor"):
        return response.second_factor
    return _issue(
        response.login, pending, new_device_session=response.session_id if response.new_device else ""
    )


def sign_in_staff(username: str, password: str) -> SignIn:
    """The staff login of the API and the web page (as sign_in_customer)."""
    pending = guard().pending_token()
    result = identity.staff_login(username, password, pending=pending)
    if isinstance(result, identity_pb2.SecondFactorChallenge):
        return result
    return _issue(result, pending)


def complete_sign_in(challenge: str, code: str) -> dict[str, Any]:
    """The second step of a customer or staff login (API and web page): the session of the
    token is opened by identity as at a login without a second factor."""
    pending = guard().pending_token()
    response = identity.complete_second_factor(challenge, code, pending=pending)
    return _issue(
        response.login, pending, new_device_session=response.session_id if response.new_device else ""
    )


def _issue(
    result: identity_pb2.LoginResult, pending: PendingToken, *, new_device_session: str = ""
) -> dict[str, Any]:
    """The token of a completed customer or staff login (by its subject's kind); on a customer
    login from a device not used before, the notice goes to the contact address."""
    if result.subject.startswith("staff:"):
        return guard().issue(
            kind="staff", subject=result.subject, generation=result.generation, pending=pending
        )
    issued = guard().issue(
        kind="customer",
        subject=result.subject,
        generation=result.generation,
        customer_number=identity.subject_name(result.subject),
        pending=pending,
    )
    if new_device_session:
        _notify_new_device(new_device_session, issued["access_token"])
    return issued


def _login_answer(result: SignIn) -> Response:
    if isinstance(result, identity_pb2.SecondFactorChallenge):
        return answer(SecondFactorRequired(second_factor_required=True, challenge=result.challenge))
    return answer(Token(**result))


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


@bp.post("/api/v1/auth/second-factor")
@operation(
    "completeSecondFactor",
    "Complete a customer or staff login that answered second_factor_required, with a TOTP code "
    "or a recovery code (each used once)",
    "auth",
    {200: Token},
    body=SecondFactorLogin,
    errors={
        401: "A wrong or used code, or an unknown, used or expired challenge (invalid_credentials); "
        "counts as a failed login",
        429: "",
    },
)
def complete_second_factor(body: SecondFactorLogin) -> Response:
    return answer(Token(**complete_sign_in(body.challenge, body.code)))


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
    "Log in as a member of the service team (with a second factor: a challenge for POST /api/v1/auth/second-factor)",
    "auth",
    {200: SECOND_FACTOR_LOGIN},
    body=StaffLogin,
    errors=LOGIN_ERRORS,
)
def staff_login(body: StaffLogin) -> Response:
    return _login_answer(sign_in_staff(body.username, body.password))


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


# --- the second factor of the signed-in customer (staff: STAFF_TOTP_SECRET) ---------------------


def notice_address() -> tuple[str, str, str]:
    """Where identity sends the notice of a second factor turned on or off, and in which
    language: the customer's contact address, market and language from contract-service."""
    principal = current_principal()
    record = contracts.get_customer(token=principal.token)
    return record.email, enum_name(common_pb2.Market, record.market), record.language


@bp.post("/api/v1/customer/second-factor")
@token_required("customer")
@operation(
    "startSecondFactor",
    "Start turning on two-factor authentication: a new TOTP secret, active once confirmed",
    "auth",
    {201: SecondFactorEnrolment},
    body=SecondFactorStart,
    errors={
        401: "Wrong current_password (invalid_credentials; counts as a failed login), or no valid token",
        409: "Two-factor authentication is already on (second_factor_active)",
        429: "",
    },
)
def start_second_factor(body: SecondFactorStart) -> Response:
    started = identity.start_second_factor(body.current_password, token=current_principal().token)
    return answer(SecondFactorEnrolment.from_proto(started), 201)


@bp.post("/api/v1/customer/second-factor/confirm")
@token_required("customer")
@operation(
    "confirmSecondFactor",
    "Confirm the enrolment with a code of the new secret: two-factor authentication is on, and "
    "the ten recovery codes are shown this once; the contact address gets a notice",
    "auth",
    {200: RecoveryCodes},
    body=SecondFactorConfirm,
    errors={
        401: "A wrong code (invalid_credentials), or no valid token",
        409: "No enrolment was started, or it is already confirmed (no_second_factor_enrolment)",
    },
)
def confirm_second_factor(body: SecondFactorConfirm) -> Response:
    email, market, language = notice_address()
    codes = identity.confirm_second_factor(
        body.code, email=email, market=market, language=language, token=current_principal().token
    )
    return answer(RecoveryCodes(recovery_codes=codes))


@bp.delete("/api/v1/customer/second-factor")
@token_required("customer")
@operation(
    "disableSecondFactor",
    "Turn two-factor authentication off (the current password and a code); the contact address gets a notice",
    "auth",
    {204: "Off: the password alone signs in again"},
    body=SecondFactorDisable,
    errors={
        401: "Wrong current_password or code (invalid_credentials; counts as a failed login), or no valid token",
        409: "Two-factor authentication is not on (no_second_factor)",
        429: "",
    },
)
def disable_second_factor(body: SecondFactorDisable) -> Response:
    email, market, language = notice_address()
    identity.disable_second_factor(
        body.current_password,
        body.code,
        email=email,
        market=market,
        language=language,
        token=current_principal().token,
    )
    return Response(status=204)


@bp.get("/.well-known/jwks.json")
@operation("getJwks", "The public keys that sign user tokens", "auth", {200: Jwks}, backend=False)
def jwks() -> Response:
    response = answer(Jwks(**guard().jwks()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
