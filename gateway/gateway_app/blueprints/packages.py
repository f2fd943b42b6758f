"""Packages: a customer token sees all its packages, a package token only its own.

The package login administrates its package technically (settings, package password);
contractual changes (upgrade, downgrade, splitting, add-ons, terminations) need the customer
login: a package login gets 403. A package token never carries or reveals the owner's
customer number: its password may be held by a third party. package-service checks ownership
from the forwarded token.
"""

from __future__ import annotations

from cc_common.errors import InvalidInput
from customercenter.v2 import package_pb2
from flask import Blueprint

from gateway_app import use_cases
from gateway_app.api import PACKAGE, Api
from gateway_app.clients import packages
from gateway_app.schemas.packages import (
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
from gateway_app.security import current_token
from gateway_app.sign_on import start_link
from gateway_app.use_cases import package_id_of

bp = Blueprint("packages", __name__)
api = Api(bp, "packages", "customer", "package", package_id=PACKAGE)
CUSTOMER = ("customer",)  # a contractual change
TERMINATED = "The package is terminated (package_terminated)"
UNKNOWN_PRODUCT = "Unknown product (invalid_input, field product)"
NOT_SMALLER = (
    "A larger product (not_a_downgrade), the domains or usage do not fit (package_does_not_fit, the message "
    "names the limit), same_product, package_terminated"
)
NOT_SPLITTABLE = (
    "The only domain of the package (last_domain), the target has no room (package_full), "
    "package_terminated, the customer number is frozen or retired (customer_not_active)"
)
ADDON_REFUSED = (
    f"{TERMINATED}, the customer number is frozen (a merge is being carried out) or retired "
    "(customer_not_active)"
)


@api.get("/api/v1/packages", {200: PackageList})
def list_packages() -> PackageList:
    """The packages the token may see"""
    return PackageList(
        packages=[Package.from_proto(item) for item in packages.list_packages(token=current_token())]
    )


@api.get("/api/v1/packages/<package_id>", {200: Package})
def get_package(package_id: str) -> package_pb2.Package:
    """One package"""
    return use_cases.visible_package(package_id)


@api.post(
    "/api/v1/packages/<package_id>/start",
    {200: PackageStart},
    errors={409: "The package has ended (package_terminated)"},
)
def start_package(package_id: str) -> PackageStart:
    """A single sign-on link into the package's administration (valid 60 seconds, single use)"""
    return PackageStart(url=start_link(package_id))


@api.get("/api/v1/products", {200: ProductList}, kinds=("customer", "package", "staff"))
def list_products() -> ProductList:
    """The product catalogue, smallest first, with limits and monthly prices per market"""
    return ProductList(
        products=[ProductInfo.from_proto(p) for p in packages.list_products(token=current_token())]
    )


@api.put(
    "/api/v1/packages/<package_id>/password",
    {
        204: "Set; every other session of the package login has ended (the package login that set it "
        "stays signed in)"
    },
)
def set_package_password(package_id: str, body: PackagePassword) -> None:
    """Set the package password used by package-login"""
    try:
        # 404 unless the owner or the package itself asks; the package's other sessions end.
        use_cases.set_package_password(package_id, body.new_password)
    except InvalidInput as error:
        if error.field == "password":
            raise InvalidInput(error.message, code=error.code, field="new_password") from error
        raise


@api.post(
    "/api/v1/packages/<package_id>/downgrade",
    {200: ProductChange},
    kinds=CUSTOMER,
    errors={409: NOT_SMALLER, 422: UNKNOWN_PRODUCT},
)
def downgrade_package(package_id: str, body: ProductChoice) -> package_pb2.ChangeProductResponse:
    """Change to a smaller product (customer login only: a contractual change; a package login gets 403)"""
    return use_cases.change_product(package_id, body.product, wanted="downgrade")


@api.post(
    "/api/v1/packages/<package_id>/upgrade",
    {200: ProductChange},
    kinds=CUSTOMER,
    errors={
        409: "A smaller product (not_an_upgrade), same_product, package_terminated",
        422: UNKNOWN_PRODUCT,
    },
)
def upgrade_package(package_id: str, body: ProductChoice) -> package_pb2.ChangeProductResponse:
    """Change to a larger product (customer login only: a contractual change; a package login gets 403)"""
    return use_cases.change_product(package_id, body.product, wanted="upgrade")


@api.get("/api/v1/packages/<package_id>/settings", {200: PackageSettings})
def get_package_settings(package_id: str) -> package_pb2.PackageSettings:
    """The technical settings of a package, defaults included"""
    return packages.get_settings(package_id_of(package_id), token=current_token())


@api.patch(
    "/api/v1/packages/<package_id>/settings",
    {200: PackageSettings},
    errors={
        409: TERMINATED,
        422: "Unknown setting or value (invalid_input, field settings or settings.<key>)",
    },
)
def update_package_settings(package_id: str, body: SettingsUpdate) -> package_pb2.PackageSettings:
    """Change some technical settings (all are checked before any is stored)"""
    return packages.update_settings(package_id_of(package_id), body.as_strings(), token=current_token())


@api.post(
    "/api/v1/packages/<package_id>/split",
    {200: DomainMove},
    kinds=CUSTOMER,
    errors={
        404: f"{PACKAGE.not_found}; a domain the package does not have (domain_not_found, field domain)",
        409: NOT_SPLITTABLE,
    },
)
def split_package(package_id: str, body: Split) -> package_pb2.MoveDomainResponse:
    """Package splitting: move a domain into another package or into a new one"""
    return use_cases.split_package(
        package_id, body.domain, target_package_id=body.target_package_id or "", product=body.product or ""
    )


@api.get("/api/v1/packages/<package_id>/addons", {200: AddonList})
def list_addons(package_id: str) -> package_pb2.ListAddonsResponse:
    """The package's add-ons (ended ones included) and the add-ons that can be ordered, with their
    monthly prices per market"""
    return packages.list_addons(package_id_of(package_id), token=current_token())


@api.post(
    "/api/v1/packages/<package_id>/addons",
    {201: Addon},
    kinds=CUSTOMER,
    errors={409: ADDON_REFUSED, 422: "Unknown kind (invalid_input, field kind)"},
)
def order_addon(package_id: str, body: AddonOrder) -> package_pb2.Addon:
    """Order an add-on at the monthly price of the customer's market (customer login only: a
    contractual change; a package login gets 403). It raises the package's limits at once and is
    terminated on its own (POST /api/v1/terminations with addon_id)"""
    return use_cases.order_addon(package_id, body.kind)
