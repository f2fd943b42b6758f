"""Logins (which issue tokens), logout, passwords, the second factor of the signed-in customer
(staff: STAFF_TOTP_SECRET) and the public signing keys."""

from __future__ import annotations

from customercenter.v2 import identity_pb2
from flask import Blueprint, Response

from gateway_app import use_cases
from gateway_app.api import THROTTLED, Api, answer
from gateway_app.clients import identity
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
from gateway_app.security import current_token, guard

bp = Blueprint("auth", __name__)
api = Api(bp, "auth")
customer = Api(bp, "auth", "customer")  # the signed-in customer's password and second factor

LOGIN_ERRORS = {401: "Wrong credentials (invalid_credentials)", **THROTTLED}
# A right password: the token, or (the account has a second factor) a challenge for it.
SECOND_FACTOR_LOGIN = {200: (Token, SecondFactorRequired)}
WRONG_PASSWORD = "Wrong current_password (invalid_credentials; counts as a failed login), or no valid token"


def _login_answer(result: use_cases.SignIn) -> Token | SecondFactorRequired:
    if isinstance(result, identity_pb2.SecondFactorChallenge):
        return SecondFactorRequired(second_factor_required=True, challenge=result.challenge)
    return Token(**result)


@api.post(
    "/api/v1/auth/customer-login",
    SECOND_FACTOR_LOGIN,
    errors={**LOGIN_ERRORS, 403: "The number was merged (customer_number_merged, merged_into)"},
)
def customer_login(body: CustomerLogin) -> Token | SecondFactorRequired:
    """Log in with a customer number (with a second factor: a challenge for POST
    /api/v1/auth/second-factor)"""
    return _login_answer(use_cases.sign_in_customer(body.customer_number, body.password))


SECOND_FACTOR_FAILED = (
    "A wrong or used code, or an unknown, used or expired challenge (invalid_credentials); counts as a "
    "failed login"
)


@api.post("/api/v1/auth/second-factor", {200: Token}, errors={401: SECOND_FACTOR_FAILED, **THROTTLED})
def complete_second_factor(body: SecondFactorLogin) -> Token:
    """Complete a customer or staff login that answered second_factor_required, with a TOTP code
    or a recovery code (each used once)"""
    return Token(**use_cases.complete_sign_in(body.challenge, body.code))


@api.post("/api/v1/auth/package-login", {200: Token}, errors=LOGIN_ERRORS)
def package_login(body: PackageLogin) -> Token:
    """Log in with a domain and its package password"""
    return Token(**use_cases.sign_in_package(body.domain, body.password))


@api.post("/api/v1/auth/staff-login", SECOND_FACTOR_LOGIN, errors=LOGIN_ERRORS)
def staff_login(body: StaffLogin) -> Token | SecondFactorRequired:
    """Log in as a member of the service team (with a second factor: a challenge for POST
    /api/v1/auth/second-factor)"""
    return _login_answer(use_cases.sign_in_staff(body.username, body.password))


@api.post("/api/v1/auth/logout", {204: "The token is dead at once"}, kinds=("customer", "package", "staff"))
def logout() -> None:
    """Revoke the token of this request"""
    # identity returns once every watcher (this gateway's too) has applied the revocation.
    identity.revoke_own_token(token=current_token())


@api.post("/api/v1/auth/password-reset", {202: PasswordResetAccepted})
def request_password_reset(body: PasswordResetRequest) -> PasswordResetAccepted:
    """Forgot password: mail a reset link to the customer's e-mail address"""
    use_cases.send_password_reset(body.customer_number)
    return PasswordResetAccepted(
        message="If this customer number exists and has an e-mail address, a link to set a "
        "new password is on its way. The link is valid for 30 minutes."
    )


@api.post(
    "/api/v1/auth/password-reset/confirm",
    {204: "The password is set; every token of the customer is dead"},
    errors={
        400: "Unknown, used or expired token, or one voided by a reset with another link (invalid_token)",
        422: "Invalid input, e.g. a weak new_password (invalid_input, field new_password)",
    },
)
def confirm_password_reset(body: PasswordResetConfirm) -> None:
    """Set a new customer password with the token of a reset mail (once)"""
    use_cases.confirm_password_reset(body.token, body.new_password)


@customer.put(
    "/api/v1/customer/password",
    {204: "Changed; the token of this request stays valid"},
    errors={401: "Wrong current_password (invalid_credentials), or no valid token", **THROTTLED},
)
def change_customer_password(body: PasswordChange) -> None:
    """Change the customer password; every other token of the customer dies and the contact
    address gets a notice"""
    use_cases.change_password(body.current_password, body.new_password)


@customer.post(
    "/api/v1/customer/second-factor",
    {201: SecondFactorEnrolment},
    errors={
        401: WRONG_PASSWORD,
        409: "Two-factor authentication is already on (second_factor_active)",
        **THROTTLED,
    },
)
def start_second_factor(body: SecondFactorStart) -> identity_pb2.StartSecondFactorResponse:
    """Start turning on two-factor authentication: a new TOTP secret, active once confirmed"""
    return identity.start_second_factor(body.current_password, token=current_token())


@customer.post(
    "/api/v1/customer/second-factor/confirm",
    {200: RecoveryCodes},
    errors={
        401: "A wrong code (invalid_credentials), or no valid token",
        409: "No enrolment was started, or it is already confirmed (no_second_factor_enrolment)",
    },
)
def confirm_second_factor(body: SecondFactorConfirm) -> RecoveryCodes:
    """Confirm the enrolment with a code of the new secret: two-factor authentication is on, and
    the ten recovery codes are shown this once; the contact address gets a notice"""
    email, market, language = use_cases.notice_address()
    codes = identity.confirm_second_factor(
        body.code, email=email, market=market, language=language, token=current_token()
    )
    return RecoveryCodes(recovery_codes=codes)


@customer.delete(
    "/api/v1/customer/second-factor",
    {204: "Off: the password alone signs in again"},
    errors={
        401: "Wrong current_password or code (invalid_credentials; counts as a failed login), or no valid token",
        409: "Two-factor authentication is not on (no_second_factor)",
        **THROTTLED,
    },
)
def disable_second_factor(body: SecondFactorDisable) -> None:
    """Turn two-factor authentication off (the current password and a code); the contact address
    gets a notice"""
    email, market, language = use_cases.notice_address()
    identity.disable_second_factor(
        body.current_password, body.code, email=email, market=market, language=language, token=current_token()
    )


@api.get("/.well-known/jwks.json", {200: Jwks}, backend=False)
def get_jwks() -> Response:
    """The public keys that sign user tokens"""
    response = answer(Jwks(**guard().jwks()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
