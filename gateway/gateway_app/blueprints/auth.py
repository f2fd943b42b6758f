"""Logins (which issue tokens), logout and the public signing keys."""

from __future__ import annotations

from cc_common.errors import DomainError, NotFound, ServiceUnavailable, Unauthenticated
from cc_common.protoconv import enum_name
from customercenter.v2 import common_pb2
from flask import Blueprint, Response, current_app, jsonify

from gateway_app import validation as v
from gateway_app.clients import contracts, identity, packages
from gateway_app.security import current_principal, guard, token_required

bp = Blueprint("auth", __name__)


@bp.post("/api/v1/auth/customer-login")
def customer_login() -> Response:
    body = v.validate(
        v.json_object(), {"customer_number": v.customer_number_field(), "password": v.password()}
    )
    result = identity.customer_login(body["customer_number"], body["password"])
    number = identity.subject_name(result.subject)
    return jsonify(
        guard().issue(
            kind="customer", subject=result.subject, generation=result.generation, customer_number=number
        )
    )


@bp.post("/api/v1/auth/package-login")
def package_login() -> Response:
    body = v.validate(v.json_object(), {"domain": v.domain_field(), "password": v.password()})
    try:
        package_id = packages.resolve_domain(body["domain"]).id
    except NotFound:
        # identity is asked all the same (with a dummy hash), so an unknown domain costs
        # as much as a wrong password and answers the same 401.
        package_id = ""
    result = identity.package_login(body["domain"], package_id, body["password"])
    package_id = identity.subject_name(result.subject) or package_id
    # No customer number in a package token: its password may be held by a third party.
    answer = guard().issue(
        kind="package", subject=result.subject, generation=result.generation, package_id=package_id
    )
    answer["package_id"] = package_id
    return jsonify(answer)


@bp.post("/api/v1/auth/staff-login")
def staff_login() -> Response:
    body = v.validate(v.json_object(), {"username": v.text(min_len=1), "password": v.password()})
    result = identity.staff_login(body["username"], body["password"])
    return jsonify(guard().issue(kind="staff", subject=result.subject, generation=result.generation))


@bp.post("/api/v1/auth/logout")
@token_required("customer", "package", "staff")
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
    """"Forgot password" (the API and the web page). The same calls whatever the number: the
    e-mail comes from contract-service (with the gateway's service credential); for an unknown
    number identity gets an empty address and sends nothing. identity also limits the requests
    per client address, silently. Only a service that is down answers differently (503)."""
    try:
        record = contracts.get_customer(number)
        email, market = record.email, enum_name(common_pb2.Market, record.market)
    except ServiceUnavailable:
        raise
    except DomainError:
        email, market = "", ""
    identity.request_password_reset(number, email=email, market=market, base_url=_reset_base_url())


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
        identity.confirm_password_reset(body["token"], body["new_password"])
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
    record = contracts.get_customer(token=token)
    identity.change_customer_password(
        current_password, new_password, email=record.email, market=enum_name(common_pb2.Market, record.market), token=token
    )


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(guard().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
