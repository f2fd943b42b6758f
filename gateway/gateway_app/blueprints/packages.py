"""Packages: a customer token sees all its packages, a package token only its own."""

from __future__ import annotations

from cc_common.errors import NotFound
from customercenter.v1 import package_pb2
from flask import Blueprint, Response, jsonify

from gateway_app import serializers
from gateway_app.backends import current_backends as backends
from gateway_app.security import current_principal, token_required

bp = Blueprint("packages", __name__)

MAX_PACKAGE_ID = 100


@bp.get("/api/v1/packages")
@token_required("customer", "package")
def list_packages() -> Response:
    reply = backends().package.call(
        "ListPackages", package_pb2.ListPackagesRequest(), token=current_principal().token
    )
    return jsonify({"packages": [serializers.package(item) for item in reply.packages]})


@bp.get("/api/v1/packages/<package_id>")
@token_required("customer", "package")
def get_package(package_id: str) -> Response:
    principal = current_principal()
    not_found = NotFound("There is no such package.")
    # package-service checks ownership from the token; a package token naming another
    # package is refused here already, with the same answer as an unknown id.
    if len(package_id) > MAX_PACKAGE_ID or (
        principal.kind == "package" and package_id != principal.package_id
    ):
        raise not_found
    item = backends().package.call(
        "GetPackage", package_pb2.GetPackageRequest(package_id=package_id), token=principal.token
    )
    return jsonify(serializers.package(item))
