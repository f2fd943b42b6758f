"""Packages: a customer token sees all its packages, a package token only its own.

The package login administrates its package technically (settings, package password);
contractual changes (upgrade, downgrade, splitting, terminations) need the customer login.
A package token never carries or reveals the owner's customer number: its password may be
held by a third party. package-service checks ownership from the forwarded token.
"""

from __future__ import annotations

from typing import Any

from cc_common.errors import DomainError, InvalidInput, NotFound
from customercenter.v2 import package_pb2
from flask import Blueprint, Response, current_app

from gateway_app.api import answer, operation
from gateway_app.blueprints import require_active_customer
from gateway_app.clients import contracts, identity, packages
from gateway_app.schemas import MAX_OPAQUE_ID
from gateway_app.schemas.packages import (
    PACKAGE_ID,
    DomainMove,
    Package,
    PackageList,
    PackagePassword,
    PackageSettings,
    PackageStart,
    ProductChange,
    ProductChoice,
    ProductInfo,
    ProductList,
    SettingsUpdate,
    Split,
)
from gateway_app.security import current_principal, token_required

bp = Blueprint("packages", __name__)

MAX_PACKAGE_ID = MAX_OPAQUE_ID
PARAMS = {"package_id": PACKAGE_ID}
NOT_FOUND = {404: "Unknown package, or one the token may not see (not_found)"}


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


@bp.get("/api/v1/packages")
@token_required("customer", "package")
@operation("listPackages", "The packages the token may see", "packages", {200: PackageList})
def list_packages() -> Response:
    items = packages.list_packages(token=current_principal().token)
    return answer(PackageList(packages=[Package.from_proto(item) for item in items]))


@bp.get("/api/v1/packages/<package_id>")
@token_required("customer", "package")
@operation("getPackage", "One package", "packages", {200: Package}, params=PARAMS, errors=NOT_FOUND)
def get_package(package_id: str) -> Response:
    return answer(Package.from_proto(visible_package(package_id)))


@bp.post("/api/v1/packages/<package_id>/start")
@token_required("customer", "package")
@operation(
    "startPackage",
    "A single sign-on link into the package's administration (valid 60 seconds, single use)",
    "packages",
    {200: PackageStart},
    params=PARAMS,
    errors={**NOT_FOUND, 409: "The package has ended (package_terminated)"},
)
def start_package(package_id: str) -> Response:
    from gateway_app.sign_on import start_link

    return answer(PackageStart(url=start_link(package_id)))


@bp.get("/api/v1/products")
@token_required("customer", "package", "staff")
@operation(
    "listProducts",
    "The product catalogue, smallest first, with limits and monthly prices per market",
    "packages",
    {200: ProductList},
)
def list_products() -> Response:
    items = packages.list_products(token=current_principal().token)
    return answer(ProductList(products=[ProductInfo.from_proto(item) for item in items]))


@bp.put("/api/v1/packages/<package_id>/password")
@token_required("customer", "package")
@operation(
    "setPackagePassword",
    "Set the package password used by package-login",
    "packages",
    {
        204: "Set; every other session of the package login has ended (the package login that set it "
        "stays signed in)"
    },
    body=PackagePassword,
    params=PARAMS,
    errors=NOT_FOUND,
)
def set_package_password(package_id: str, body: PackagePassword) -> Response:
    package = visible_package(package_id)  # 404 unless the owner or the package itself asks
    try:
        set_package_password_of(package.id, body.new_password)
    except InvalidInput as error:
        if error.field == "password":
            raise InvalidInput(error.message, code=error.code, field="new_password") from error
        raise
    return Response(status=204)


def set_package_password_of(package_id: str, password: str) -> None:
    """Sets the password of a package the caller may administrate (checked before: the API and
    the web page). identity trusts that check (the gateway's service credential) and, in the
    same transaction, ends every other session of that package login, so a third party who had
    the old password is out before this returns; the package login that set it stays in."""
    caller = current_principal()
    own = caller.kind == "package" and caller.package_id == package_id
    identity.set_package_password(package_id, password, keep_jti=caller.jti if own else "")


# --- product changes -----------------------------------------------------------------------


def _change_product(package_id: str, body: ProductChoice, *, wanted: str) -> Response:
    return answer(ProductChange.from_proto(change_product(package_id, body.product, wanted=wanted)))


def _product_change(direction: str, conflicts: str) -> dict[str, Any]:
    return dict(
        summary=f"Change to a {'smaller' if direction == 'downgrade' else 'larger'} product (customer login "
        "only: a contractual change; a package login gets 403)",
        tags="packages",
        body=ProductChoice,
        answers={200: ProductChange},
        params=PARAMS,
        errors={**NOT_FOUND, 409: conflicts, 422: "Unknown product (invalid_input, field product)"},
    )


def change_product(package_id: str, product: str, *, wanted: str) -> package_pb2.ChangeProductResponse:
    """An upgrade or downgrade (the API and the web pages): checks the direction against the
    catalogue's ranks before package-service changes it, then brings the contract along."""
    token = current_principal().token
    package = visible_package(package_id)
    # The catalogue (package-service) knows sizes and names: it refuses a change in the other
    # direction (not_a_downgrade / not_an_upgrade) and an unknown product (422 product).
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


@bp.post("/api/v1/packages/<package_id>/downgrade")
@token_required("customer")
@operation(
    "downgradePackage",
    **_product_change(
        "downgrade",
        "A larger product (not_a_downgrade), the domains or usage do not fit (package_does_not_fit, the "
        "message names the limit), same_product, package_terminated",
    ),
)
def downgrade(package_id: str, body: ProductChoice) -> Response:
    return _change_product(package_id, body, wanted="downgrade")


@bp.post("/api/v1/packages/<package_id>/upgrade")
@token_required("customer")
@operation(
    "upgradePackage",
    **_product_change("upgrade", "A smaller product (not_an_upgrade), same_product, package_terminated"),
)
def upgrade(package_id: str, body: ProductChoice) -> Response:
    return _change_product(package_id, body, wanted="upgrade")


# --- technical settings --------------------------------------------------------------------


@bp.get("/api/v1/packages/<package_id>/settings")
@token_required("customer", "package")
@operation(
    "getPackageSettings",
    "The technical settings of a package, defaults included",
    "packages",
    {200: PackageSettings},
    params=PARAMS,
    errors=NOT_FOUND,
)
def get_settings(package_id: str) -> Response:
    reply = packages.get_settings(package_id_of(package_id), token=current_principal().token)
    return answer(PackageSettings.from_proto(reply))


@bp.patch("/api/v1/packages/<package_id>/settings")
@token_required("customer", "package")
@operation(
    "updatePackageSettings",
    "Change some technical settings (all are checked before any is stored)",
    "packages",
    {200: PackageSettings},
    body=SettingsUpdate,
    params=PARAMS,
    errors={
        **NOT_FOUND,
        409: "The package is terminated (package_terminated)",
        422: "Unknown setting or value (invalid_input, field settings or settings.<key>)",
    },
)
def update_settings(package_id: str, body: SettingsUpdate) -> Response:
    package_id = package_id_of(package_id)
    reply = packages.update_settings(package_id, body.as_strings(), token=current_principal().token)
    return answer(PackageSettings.from_proto(reply))


# --- package splitting ---------------------------------------------------------------------


@bp.post("/api/v1/packages/<package_id>/split")
@token_required("customer")
@operation(
    "splitPackage",
    "Package splitting: move a domain into another package or into a new one",
    "packages",
    {200: DomainMove},
    body=Split,
    params=PARAMS,
    errors={
        **NOT_FOUND,
        409: "The only domain of the package (last_domain), the target has no room (package_full), "
        "package_terminated, the customer number is frozen or retired (customer_not_active)",
        422: "Not a domain of the package, unknown product (invalid_input, with field)",
    },
)
def split(package_id: str, body: Split) -> Response:
    package_id = package_id_of(package_id)
    # The customer's own record (its token): no domain moves while the number is frozen (a
    # merge is running) or retired -> 409 customer_not_active.
    principal = current_principal()
    require_active_customer(principal.customer_number or "", token=principal.token)
    move = packages.move_domain(
        package_id,
        body.domain,
        target_package_id=body.target_package_id or "",
        product=(body.product or "").strip().lower(),
        token=principal.token,
    )
    if move.created:
        # A new independent package has a contract of its own (idempotent per package id),
        # created with the gateway's service credential for the owner package-service reported.
        contracts.create_contract(move.target.id, move.target.customer_number, move.target.product)
    return answer(DomainMove.from_proto(move))
