"""The gateway's use cases that need more than one call, each one function that the JSON API
(gateway_app/blueprints) and the web pages (gateway_app/web) both call, so that a rule lives in
one place: what may be seen of a package, setting a package password, upgrade and downgrade,
package splitting, correcting the kept number's data while a merge is open, and the service
team's offers of the month.

Each takes the signed-in principal from the request (gateway_app.security.current_principal),
never a customer number from a form or a body.
"""

from __future__ import annotations

from cc_common.errors import Conflict, DomainError, Forbidden, NotFound
from cc_common.protoconv import enum_name, enum_value
from customercenter.v2 import common_pb2, contract_pb2, merge_pb2, package_pb2
from flask import current_app

from gateway_app.blueprints import require_active_customer
from gateway_app.clients import contracts, identity, merges, packages
from gateway_app.schemas import MAX_OPAQUE_ID
from gateway_app.schemas.billing import OfferCreate
from gateway_app.security import current_principal

MAX_PACKAGE_ID = MAX_OPAQUE_ID


# --- packages ------------------------------------------------------------------------------


def package_id_of(package_id: str) -> str:
    """The package id of the path, if the token may name it at all: a package token naming
    another package is refused here already, with the same answer as an unknown id."""
    principal = current_principal()
    if (
        not package_id
        or len(package_id) > MAX_PACKAGE_ID
        or (principal.kind == "package" and package_id != principal.package_id)
    ):
        raise NotFound("There is no such package.")
    return package_id


def visible_package(package_id: str) -> package_pb2.Package:
    """The package as the caller may see it (package-service answers 404 otherwise)."""
    return packages.get_package(package_id_of(package_id), token=current_principal().token)


def set_package_password(package_id: str, password: str) -> None:
    """Sets the password of a package the caller may administrate (404 otherwise). identity
    trusts that check (the gateway's service credential) and, in the same transaction, ends
    every other session of that package login, so a third party who had the old password is
    out before this returns; the package login that set it stays in."""
    package = visible_package(package_id)
    caller = current_principal()
    own = caller.kind == "package" and caller.package_id == package.id
    identity.set_package_password(package.id, password, keep_jti=caller.jti if own else "")


def change_product(package_id: str, product: str, *, wanted: str) -> package_pb2.ChangeProductResponse:
    """An upgrade or downgrade (`wanted`): package-service checks the direction against the
    catalogue's ranks (not_a_downgrade / not_an_upgrade) and refuses an unknown product (422
    product) before it changes anything; then the contract follows."""
    token = current_principal().token
    package = visible_package(package_id)
    change = packages.change_product(package.id, product.strip(), expected_direction=wanted, token=token)
    follow_contract_product(change, customer_number=package.customer_number)
    return change


def follow_contract_product(change: package_pb2.ChangeProductResponse, *, customer_number: str = "") -> None:
    """Brings the package's contract to the product package-service just changed to, with the
    gateway's service credential (no token), so the contract overview and later terminations
    show the current product.

    The package change is the source of truth and has already happened: if contract-service
    fails here (down, not found, customer not active), the failure is logged and the caller
    still answers the package change. ChangeContractProduct is idempotent, so a repeat of the
    change (or a later reconciliation) brings the contract up to date.
    """
    pkg = change.package
    try:
        contracts.change_contract_product(pkg.id, pkg.product, pkg.customer_number or customer_number)
    except DomainError as error:
        current_app.logger.warning(
            "contract of package %s not changed to %s after the package change: %s %s",
            pkg.id,
            pkg.product,
            error.code,
            error.message,
        )


def split_package(
    package_id: str, domain: str, *, target_package_id: str = "", product: str = ""
) -> package_pb2.MoveDomainResponse:
    """Package splitting: moves `domain` into another package of the customer
    (`target_package_id`) or into a new one of `product`. Refused with 409 customer_not_active
    while the customer number is frozen (a merge is running) or retired. A new package gets a
    contract of its own (idempotent per package id), created with the gateway's service
    credential for the owner package-service reported, so it can be terminated like any other."""
    principal = current_principal()
    package_id = package_id_of(package_id)
    require_active_customer(principal.customer_number or "", token=principal.token)
    move = packages.move_domain(
        package_id,
        domain,
        target_package_id=target_package_id or "",
        product=(product or "").strip().lower(),
        token=principal.token,
    )
    if move.created:
        contracts.create_contract(move.target.id, move.target.customer_number, move.target.product)
    return move


# --- the merge window ------------------------------------------------------------------------


def correct_data_in_merge(
    merge_id: str, changes: dict[str, str], *, current_password: str | None, current_email: str | None = None
) -> tuple[contract_pb2.Customer, merge_pb2.Merge]:
    """The kept number corrects its own contact data while its merge is open: the same change
    as PATCH /api/v1/customer (gateway_app.blueprints.customer.change_customer_data, with its
    e-mail re-authentication), then merge-service compares both numbers again. The merge is
    checked first (404 for another's, 409 merge_not_open), so nothing changes for a merge that
    is no longer open."""
    from gateway_app.blueprints.customer import change_customer_data  # the blueprint imports this module

    token = current_principal().token
    merge = merges.get_merge(merge_id, token=token)
    if merge.target_customer_number != current_principal().customer_number:
        raise Forbidden("Only the customer number that is kept can change this merge.")
    if enum_name(merge_pb2.MergeStatus, merge.status) not in ("needs_legal_proof", "ready"):
        raise Conflict("This merge is no longer open; its data cannot be changed now.", code="merge_not_open")
    record = change_customer_data(changes, current_password=current_password, current_email=current_email)
    return record, merges.refresh_comparison(merge_id, token=token)


def order_addon(package_id: str, kind: str) -> package_pb2.Addon:
    """Orders an add-on (the API and the web page): the owner's customer login only, never while
    its number is frozen by a merge or retired, at the price of the customer's market."""
    principal = current_principal()
    package = visible_package(package_id)  # 404 for another customer's package
    record = require_active_customer(principal.customer_number or "", token=principal.token)
    market = enum_name(common_pb2.Market, record.market)
    return packages.order_addon(package.id, kind, market=market, token=principal.token)


# --- the service team ------------------------------------------------------------------------


def create_offer_of_the_month(body: OfferCreate) -> contract_pb2.Offer:
    """Sets up an offer of the month (POST /api/v1/admin/offers and the back office's offers
    page), from a body the schema has checked; contract-service checks the rest (markets billed
    in the offer's currency, the days: 422 naming the field)."""
    request = contract_pb2.CreateOfferRequest(
        product=body.product,
        price_cents=body.price,
        currency=str(body.currency).upper(),
        markets=[enum_value(common_pb2.Market, m) for m in body.markets],
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    return contracts.create_offer(request, token=current_principal().token)
