"""Packages: a customer token sees all its packages, a package token only its own.

The package login administrates its package technically (settings, package password);
contractual changes (upgrade, downgrade, splitting, terminations) need the customer login.
A package token never carries or reveals the owner's customer number: its password may be
held by a third party. package-service checks ownership from the forwarded token.
"""

from __future__ import annotations

from typing import Any

from cc_common.errors import InvalidInput
from flask import Blueprint, Response

from gateway_app import use_cases
from gateway_app.api import answer, operation
from gateway_app.clients import packages
from gateway_app.schemas.packages import (
    PACKAGE_ID,
    Addon,
    AddonList,
    AddonOrder,
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
from gateway_app.use_cases import change_product, package_id_of, split_package, visible_package

bp = Blueprint("packages", __name__)

PARAMS = {"package_id": PACKAGE_ID}
NOT_FOUND = {404: "Unknown package, or one the token may not see (not_found)"}


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
    try:
        # 404 unless the owner or the package itself asks; the package's other sessions end.
        use_cases.set_package_password(package_id, body.new_password)
    except InvalidInput as error:
        if error.field == "password":
            raise InvalidInput(error.message, code=error.code, field="new_password") from error
        raise
    return Response(status=204)


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
        404: "Unknown package, or one the token may not see (not_found); a domain the package does not "
        "have (domain_not_found, field domain)",
        409: "The only domain of the package (last_domain), the target has no room (package_full), "
        "package_terminated, the customer number is frozen or retired (customer_not_active)",
        422: "Invalid input (invalid_input, with field)",
    },
)
def split(package_id: str, body: Split) -> Response:
    move = split_package(
        package_id, body.domain, target_package_id=body.target_package_id or "", product=body.product or ""
    )
    return answer(DomainMove.from_proto(move))


# --- additional services (add-ons) ---------------------------------------------------------


@bp.get("/api/v1/packages/<package_id>/addons")
@token_required("customer", "package")
@operation(
    "listAddons",
    "The package's add-ons (ended ones included) and the add-ons that can be ordered, with their "
    "monthly prices per market",
    "packages",
    {200: AddonList},
    params=PARAMS,
    errors=NOT_FOUND,
)
def list_addons(package_id: str) -> Response:
    reply = packages.list_addons(package_id_of(package_id), token=current_principal().token)
    return answer(AddonList.from_proto(reply))


@bp.post("/api/v1/packages/<package_id>/addons")
@token_required("customer")
@operation(
    "orderAddon",
    "Order an add-on at the monthly price of the customer's market (customer login only: a "
    "contractual change; a package login gets 403). It raises the package's limits at once and is "
    "terminated on its own (POST /api/v1/terminations with addon_id)",
    "packages",
    {201: Addon},
    body=AddonOrder,
    params=PARAMS,
    errors={
        **NOT_FOUND,
        409: "The package is terminated (package_terminated), the customer number is frozen (a merge "
        "is being carried out) or retired (customer_not_active)",
        422: "Unknown kind (invalid_input, field kind)",
    },
)
def order_addon(package_id: str, body: AddonOrder) -> Response:
    return answer(Addon.from_proto(use_cases.order_addon(package_id, body.kind)), 201)
