"""Terminations of packages or single domains (customer token only; a package token gets 403).

A termination takes effect at the end of the contract's current term and can be retracted
until then, online (docs/architecture.md, "Online or on a signed form").
"""

from __future__ import annotations

from cc_common.errors import InvalidInput, NotFound
from customercenter.v1 import contract_pb2
from flask import Blueprint, Response, jsonify, url_for

from gateway_app import serializers
from gateway_app import validation as v
from gateway_app.backends import current_backends as backends
from gateway_app.blueprints.packages import visible_package
from gateway_app.security import current_principal, token_required

bp = Blueprint("terminations", __name__, url_prefix="/api/v1/terminations")

CREATE_TERMINATION = {"package_id": v.opaque_id(), "domain": v.domain_field(required=False)}
_NO_TERMINATION = "There is no termination with this id under your customer number."


def _termination_id(termination_id: str) -> str:
    if not termination_id or len(termination_id) > v.MAX_OPAQUE_ID:
        raise NotFound(_NO_TERMINATION)
    return termination_id


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
    created = backends().contract.call(
        "CreateTermination",
        contract_pb2.CreateTerminationRequest(package_id=body["package_id"], domain=domain),
        token=current_principal().token,
    )
    location = url_for("terminations.get_termination", termination_id=created.id)
    return jsonify(serializers.termination(created)), 201, {"Location": location}


@bp.get("")
@token_required("customer")
def list_terminations() -> Response:
    reply = backends().contract.call(
        "ListTerminations", contract_pb2.ListTerminationsRequest(), token=current_principal().token
    )
    return jsonify({"terminations": [serializers.termination(item) for item in reply.terminations]})


@bp.get("/<termination_id>")
@token_required("customer")
def get_termination(termination_id: str) -> Response:
    wanted = _termination_id(termination_id)
    reply = backends().contract.call(
        "ListTerminations", contract_pb2.ListTerminationsRequest(), token=current_principal().token
    )
    for item in reply.terminations:
        if item.id == wanted:
            return jsonify(serializers.termination(item))
    raise NotFound(_NO_TERMINATION)


@bp.delete("/<termination_id>")
@token_required("customer")
def retract_termination(termination_id: str) -> Response:
    backends().contract.call(
        "RetractTermination",
        contract_pb2.TerminationRef(id=_termination_id(termination_id)),
        token=current_principal().token,
    )
    return Response(status=204)
