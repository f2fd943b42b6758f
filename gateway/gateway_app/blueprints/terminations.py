"""Terminations of packages or single domains (customer token only; a package token gets 403).

A termination takes effect at the end of the contract's current term and can be retracted
until then, online (docs/architecture.md, "Online or on a signed form").
"""

from __future__ import annotations

from cc_common.errors import InvalidInput, NotFound
from flask import Blueprint, Response, url_for

from gateway_app.api import answer, operation
from gateway_app.clients import contracts
from gateway_app.schemas.terminations import TERMINATION_ID, Termination, TerminationCreate, TerminationList
from gateway_app.security import current_principal, token_required
from gateway_app.use_cases import visible_package

bp = Blueprint("terminations", __name__, url_prefix="/api/v1/terminations")

PARAMS = {"termination_id": TERMINATION_ID}
ERRORS = {
    404: "Unknown termination, or one of another customer (not_found)",
    422: "A malformed termination id (invalid_input, field termination_id)",
}


@bp.post("")
@token_required("customer")
@operation(
    "createTermination",
    "Terminate a package, or one of its domains, at the end of the current term",
    "terminations",
    {201: Termination},
    body=TerminationCreate,
    location=True,
    errors={
        404: "The package has no contract of this customer (not_found)",
        409: "already_terminated, contract_not_active, customer_not_active",
        422: "Invalid input, or a domain not of this package (invalid_input, field domain)",
    },
)
def create_termination(body: TerminationCreate) -> Response:
    domain = body.domain or ""
    if domain:
        # contract-service knows contracts, not domains: the domain must be one of the package's.
        package = visible_package(body.package_id)
        if domain not in package.domains:
            raise InvalidInput(f"{domain} is not a domain of package {package.id}.", field="domain")
    created = contracts.create_termination(body.package_id, domain, token=current_principal().token)
    location = url_for("terminations.get_termination", termination_id=created.id)
    return answer(Termination.from_proto(created), 201, {"Location": location})


@bp.get("")
@token_required("customer")
@operation(
    "listTerminations", "The customer's terminations, newest first", "terminations", {200: TerminationList}
)
def list_terminations() -> Response:
    items = contracts.list_terminations(token=current_principal().token)
    return answer(TerminationList(terminations=[Termination.from_proto(item) for item in items]))


@bp.get("/<termination_id>")
@token_required("customer")
@operation(
    "getTermination",
    "One termination",
    "terminations",
    {200: Termination},
    params=PARAMS,
    errors={404: ERRORS[404]},
)
def get_termination(termination_id: str) -> Response:
    wanted = contracts.termination_id_of(termination_id)
    for item in contracts.list_terminations(token=current_principal().token):
        if item.id == wanted:
            return answer(Termination.from_proto(item))
    raise NotFound(contracts.NO_TERMINATION)


@bp.delete("/<termination_id>")
@token_required("customer")
@operation(
    "retractTermination",
    "Retract a termination before its effective date",
    "terminations",
    {204: "Retracted"},
    params=PARAMS,
    errors={**ERRORS, 409: "On or after the effective date (termination_effective), customer_not_active"},
)
def retract_termination(termination_id: str) -> Response:
    contracts.retract_termination(termination_id, token=current_principal().token)
    return Response(status=204)
