"""Logins (which issue tokens), logout and the public signing keys."""

from __future__ import annotations

from cc_common.errors import DomainError, NotFound, ServiceUnavailable, Unauthenticated
from customercenter.v1 import contract_pb2, identity_pb2, package_pb2
from flask import Blueprint, Response, current_app, jsonify
from google.protobuf import empty_pb2

from gateway_app import validation as v
from gateway_app.backends import current_backends as backends
from gateway_app.proxy import client_address
from gateway_app.security import current_principal, guard, token_required

bp = Blueprint("auth", __name__)


def _name_of(subject: str) -> str:
    return subject.split(":", 1)[1] if ":" in subject else subject


@bp.post("/api/v1/auth/customer-login")
def customer_login() -> Response:
    body = v.validate(
        v.json_object(), {"customer_number": v.customer_number_field(), "password": v.password()}
    )
    result = backends().identity.call(
        "CustomerLogin",
        identity_pb2.CustomerLoginRequest(
            customer_number=body["customer_number"],
            password=body["password"],
            client_address=client_address(),
        ),
    )
    number = _name_of(result.subject)
    return jsonify(
        guard().issue(
            kind="customer", subject=result.subject, generation=result.generation, customer_number=number
        )
    )


@bp.post("/api/v1/auth/package-login")
def package_login() -> Response:
    body = v.validate(v.json_object(), {"domain": v.domain_field(), "password": v.password()})
    try:
        package = backends().package.call(
            "ResolveDomain", package_pb2.ResolveDomainRequest(domain=body["domain"])
        )
        package_id = package.id
    except NotFound:
        # identity is asked all the same (with a dummy hash), so an unknown domain costs
        # as much as a wrong password and answers the same 401.
        package_id = ""
    result = backends().identity.call(
        "PackageLogin",
        identity_pb2.PackageLoginRequest(
            domain=body["domain"],
            package_id=package_id,
            password=body["password"],
            client_address=client_address(),
        ),
    )
    package_id = _name_of(result.subject) or package_id
    # No customer number in a package token: its password may be held by a third party.
    answer = guard().issue(
        kind="package", subject=result.subject, generation=result.generation, package_id=package_id
    )
    answer["package_id"] = package_id
    return jsonify(answer)


@bp.post("/api/v1/auth/staff-login")
def staff_login() -> Response:
    body = v.validate(v.json_object(), {"username": v.text(min_len=1), "password": v.password()})
    result = backends().identity.call(
        "StaffLogin",
        identity_pb2.StaffLoginRequest(
            username=body["username"], password=body["password"], client_address=client_address()
        ),
    )
    return jsonify(guard().issue(kind="staff", subject=result.subject, generation=result.generation))


@bp.post("/api/v1/auth/logout")
@token_required("customer", "package", "staff")
def logout() -> Response:
    # identity returns once every watcher (this gateway's too) has applied the revocation.
    backends().identity.call("RevokeOwnToken", empty_pb2.Empty(), token=current_principal().token)
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
    """"Forgot password" (the API and the web page). The same calls whatever the number: the
    e-mail comes from contract-service (with the gateway's service credential); for an unknown
    number identity gets an empty address and sends nothing. identity also limits the requests
    per client address, silently. Only a service that is down answers differently (503)."""
    try:
        record = backends().contract.call(
            "GetCustomer", contract_pb2.GetCustomerRequest(customer_number=number)
        )
        email, market = record.email, record.market
    except ServiceUnavailable:
        raise
    except DomainError:
        email, market = "", ""
    backends().identity.call(
        "RequestPasswordReset",
        identity_pb2.PasswordResetRequest(
            customer_number=number,
            email=email,
            market=market,
            base_url=_reset_base_url(),
            client_address=client_address(),
        ),
    )


@bp.post("/api/v1/auth/password-reset")
def request_password_reset() -> tuple[Response, int]:
    body = v.validate(v.json_object(), {"customer_number": v.customer_number_field()})
    send_password_reset(body["customer_number"])
    return (
        jsonify(
            {
                "message": "If this customer number exists and has an e-mail address, a link to set a "
                "new password is on its way. The link is valid for 30 minutes."
            }
        ),
        202,
    )


@bp.post("/api/v1/auth/password-reset/confirm")
def confirm_password_reset() -> Response:
    body = v.validate(
        v.json_object(),
        {"token": v.text(min_len=1, max_len=512), "new_password": v.password(new=True)},
    )
    try:
        backends().identity.call(
            "ConfirmPasswordReset",
            identity_pb2.ConfirmPasswordResetRequest(token=body["token"], new_password=body["new_password"]),
        )
    except Unauthenticated as error:
        if error.code != "invalid_token":
            raise
        raise InvalidResetToken(
            "This reset link is invalid, was already used or has expired. Please ask for a new one."
        ) from error
    return Response(status=204)


@bp.put("/api/v1/customer/password")
@token_required("customer")
def change_customer_password() -> Response:
    body = v.validate(
        v.json_object(), {"current_password": v.password(), "new_password": v.password(new=True)}
    )
    change_password(body["current_password"], body["new_password"])
    return Response(status=204)


def change_password(current_password: str, new_password: str) -> None:
    """The signed-in customer changes its password (the API and the web page). identity
    checks the current one, revokes every other token of the customer (not this one) before it
    answers, and tells the contact address, which the gateway reads from contract-service and
    hands over as it does for reset mails (no call between the backend services)."""
    token = current_principal().token
    record = backends().contract.call("GetCustomer", contract_pb2.GetCustomerRequest(), token=token)
    backends().identity.call(
        "ChangeCustomerPassword",
        identity_pb2.ChangeCustomerPasswordRequest(
            current_password=current_password,
            new_password=new_password,
            client_address=client_address(),
            email=record.email,
            market=record.market,
        ),
        token=token,
    )


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(guard().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
