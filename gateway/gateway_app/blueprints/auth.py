"""Logins (which issue tokens), logout and the public signing keys."""

from __future__ import annotations

from cc_common.errors import NotFound
from customercenter.v1 import identity_pb2, package_pb2
from flask import Blueprint, Response, jsonify, request
from google.protobuf import empty_pb2

from gateway_app import validation as v
from gateway_app.backends import current_backends as backends
from gateway_app.security import current_principal, guard, token_required

bp = Blueprint("auth", __name__)


def _client_address() -> str:
    return request.remote_addr or ""


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
            client_address=_client_address(),
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
        package_id, owner = package.id, package.customer_number
    except NotFound:
        # identity is asked all the same (with a dummy hash), so an unknown domain costs
        # as much as a wrong password and answers the same 401.
        package_id, owner = "", ""
    result = backends().identity.call(
        "PackageLogin",
        identity_pb2.PackageLoginRequest(
            domain=body["domain"],
            package_id=package_id,
            password=body["password"],
            client_address=_client_address(),
        ),
    )
    package_id = _name_of(result.subject) or package_id
    answer = guard().issue(
        kind="package",
        subject=result.subject,
        generation=result.generation,
        customer_number=owner or None,
        package_id=package_id,
    )
    answer["package_id"] = package_id
    return jsonify(answer)


@bp.post("/api/v1/auth/staff-login")
def staff_login() -> Response:
    body = v.validate(v.json_object(), {"username": v.text(min_len=1), "password": v.password()})
    result = backends().identity.call(
        "StaffLogin",
        identity_pb2.StaffLoginRequest(
            username=body["username"], password=body["password"], client_address=_client_address()
        ),
    )
    return jsonify(guard().issue(kind="staff", subject=result.subject, generation=result.generation))


@bp.post("/api/v1/auth/logout")
@token_required("customer", "package", "staff")
def logout() -> Response:
    # identity returns once every watcher (this gateway's too) has applied the revocation.
    backends().identity.call("RevokeOwnToken", empty_pb2.Empty(), token=current_principal().token)
    return Response(status=204)


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(guard().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
