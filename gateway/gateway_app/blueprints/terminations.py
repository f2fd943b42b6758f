"""Terminations of packages, single domains or single add-ons (customer token only; a package
token gets 403).

A termination takes effect at the end of the contract's current term and can be retracted
until then, online (docs/architecture.md, "Online or on a signed form").
"""

from __future__ import annotations

from cc_common.errors import Conflict, DomainError, InvalidInput, NotFound
from customercenter.v2 import contract_pb2, package_pb2
from flask import Blueprint, Response, current_app, url_for

from gateway_app.api import answer, operation
from gateway_app.clients import contracts, packages
from gateway_app.schemas.terminations import TERMINATION_ID, Termination, TerminationCreate, TerminationList
from gateway_app.security import current_principal, token_required
from gateway_app.use_cases import package_id_of, visible_package

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
    "Terminate a package, or one of its domains, or one of its add-ons, at the end of the current term",
    "terminations",
    {201: Termination},
    body=TerminationCreate,
    location=True,
    errors={
        404: "The package has no contract of this customer (not_found)",
        409: "already_terminated, contract_not_active, customer_not_active, an add-on that has ended "
        "(addon_ended)",
        422: "Invalid input, a domain not of this package (invalid_input, field domain), an add-on not of "
        "this package (field addon_id), or a domain and an add-on together",
    },
)
def create_termination(body: TerminationCreate) -> Response:
    created = terminate(body.package_id, domain=body.domain or "", addon_id=body.addon_id or "")
    location = url_for("terminations.get_termination", termination_id=created.id)
    return answer(Termination.from_proto(created), 201, {"Location": location})


def terminate(package_id: str, *, domain: str = "", addon_id: str = "") -> contract_pb2.Termination:
    """A termination of the package, one domain or one add-on of it (the API and the web pages).
    contract-service knows contracts, not domains or add-ons: the gateway checks that the domain
    or the add-on belongs to the package first; package-service then shows the add-on as
    terminated until its date, when contract-service's scheduler ends it (EndAddon)."""
    token = current_principal().token
    if domain:
        package = visible_package(package_id)
        if domain not in package.domains:
            raise InvalidInput(f"{domain} is not a domain of package {package.id}.", field="domain")
    if addon_id:
        listed = packages.list_addons(package_id_of(package_id), token=token).addons
        addon = next((a for a in listed if a.id == addon_id), None)
        if addon is None:
            raise InvalidInput(f"{addon_id} is not an add-on of package {package_id}.", field="addon_id")
        if addon.status == package_pb2.ADDON_STATUS_ENDED:
            raise Conflict("This add-on has already ended.", code="addon_ended")
    created = contracts.create_termination(package_id, domain, addon_id=addon_id, token=token)
    if addon_id:
        follow_addon_end(created, ends_on=created.effective_date)
    return created


def follow_addon_end(termination: contract_pb2.Termination, *, ends_on: str) -> None:
    """Shows the add-on as terminated on its date (ends_on) or active again (a retraction,
    ends_on ""). The termination at contract-service is what counts and has happened: a failure
    here is logged, and its scheduler still ends the add-on on the date."""
    try:
        packages.set_addon_end(
            termination.package_id, termination.addon_id, ends_on, token=current_principal().token
        )
    except DomainError as error:
        current_app.logger.warning(
            "add-on %s of package %s not marked after its termination %s: %s %s",
            termination.addon_id,
            termination.package_id,
            termination.id,
            error.code,
            error.message,
        )


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
    retract(termination_id)
    return Response(status=204)


def retract(termination_id: str) -> contract_pb2.Termination:
    """Retracts a termination (the API and the web pages); a retracted add-on is active again."""
    retracted = contracts.retract_termination(termination_id, token=current_principal().token)
    if retracted.addon_id:
        follow_addon_end(retracted, ends_on="")
    return retracted
