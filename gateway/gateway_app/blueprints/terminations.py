"""Terminations of packages, single domains or single add-ons (customer token only; a package
token gets 403).

A termination takes effect at the end of the contract's current term and can be retracted
until then, online (docs/architecture.md, "Online or on a signed form").
"""

from __future__ import annotations

from cc_common.errors import NotFound
from customercenter.v2 import contract_pb2
from flask import Blueprint

from gateway_app import use_cases
from gateway_app.api import Api, Param
from gateway_app.clients import contracts
from gateway_app.schemas.terminations import TERMINATION_ID, Termination, TerminationCreate, TerminationList
from gateway_app.security import current_token

bp = Blueprint("terminations", __name__, url_prefix="/api/v1/terminations")
UNKNOWN = "Unknown termination, or one of another customer (not_found)"
api = Api(bp, "terminations", "customer", termination_id=Param(TERMINATION_ID, UNKNOWN))


@api.post(
    "",
    {201: Termination},
    location="terminations.get_termination",
    errors={
        404: "The package has no contract of this customer (not_found)",
        409: "already_terminated, contract_not_active, customer_not_active, an add-on that has ended "
        "(addon_ended)",
        422: "Invalid input, a domain not of this package (invalid_input, field domain), an add-on not of "
        "this package (field addon_id), or a domain and an add-on together",
    },
)
def create_termination(body: TerminationCreate) -> contract_pb2.Termination:
    """Terminate a package, or one of its domains, or one of its add-ons, at the end of the current term"""
    return use_cases.terminate(body.package_id, domain=body.domain or "", addon_id=body.addon_id or "")


@api.get("", {200: TerminationList})
def list_terminations() -> TerminationList:
    """The customer's terminations, newest first"""
    items = contracts.list_terminations(token=current_token())
    return TerminationList(terminations=[Termination.from_proto(item) for item in items])


@api.get("/<termination_id>", {200: Termination})
def get_termination(termination_id: str) -> contract_pb2.Termination:
    """One termination"""
    wanted = contracts.termination_id_of(termination_id)
    for item in contracts.list_terminations(token=current_token()):
        if item.id == wanted:
            return item
    raise NotFound(contracts.NO_TERMINATION)


@api.delete(
    "/<termination_id>",
    {204: "Retracted"},
    errors={
        409: "On or after the effective date (termination_effective), customer_not_active",
        422: "A malformed termination id (invalid_input, field termination_id)",
    },
)
def retract_termination(termination_id: str) -> None:
    """Retract a termination before its effective date"""
    use_cases.retract(termination_id)
