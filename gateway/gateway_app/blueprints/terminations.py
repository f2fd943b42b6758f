"""Terminations of packages or single domains (customer token only; a package token gets 403).

A termination takes effect at the end of the contract's current term and can be retracted
until then, online (docs/architecture.md, "Online or on a signed form").
"""

from __future__ import annotations

from cc_common.errors import InvalidInput, NotFound
from flask import Blueprint, Response, jsonify, url_for

from gateway_app import serializers
from gateway_app import validation as v
from gateway_app.blueprints.packages import visible_package
from gateway_app.clients import contracts
from gateway_app.security import current_principal, token_required

bp = Blueprint("terminations", __name__, url_prefix="/api/v1/terminations")

CREATE_TERMINATION = {"package_id": v.opaque_id(), "domain": v.domain_field(required=False)}


@bp.post("")
@token_required("customer")
def create_termination() -> tuple[Response, int, dict[str, str]]:
    body = v.validate(v.json_object(), CREATE_TERMINATION)
    domain = body.get("domain", "")
    if domain:
        # contract-service knows contracts, not domains: the domain must be one of the package's.
        package = visible_package(body["package_id"])
        if domain not in package.domains:
            raise InvalidInput(f"{domain} is not a domain of package {package.id}.", field="domain")
    created = contracts.create_termination(body["package_id"], domain, token=current_principal().token)
    location = url_for("terminations.get_termination", termination_id=created.id)
    return jsonify(serializers.termination(created)), 201, {"Location": location}


@bp.get("")
@token_required("customer")
def list_terminations() -> Response:
    items = contracts.list_terminations(token=current_principal().token)
    return jsonify({"terminations": [serializers.termination(item) for item in items]})


@bp.get("/<termination_id>")
@token_required("customer")
def get_termination(termination_id: str) -> Response:
    wanted = contracts.termination_id_of(termination_id)
    for item in contracts.list_terminations(token=current_principal().token):
        if item.id == wanted:
            return jsonify(serializers.termination(item))
    raise NotFound(contracts.NO_TERMINATION)


@bp.delete("/<termination_id>")
@token_required("customer")
def retract_termination(termination_id: str) -> Response:
    contracts.retract_termination(termination_id, token=current_principal().token)
    return Response(status=204)
