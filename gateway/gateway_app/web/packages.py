"""Package administration (docs/trust-boundaries.md): the technical settings of one package and "set package
password". Reached with a package login (domain + package password), from the customer area
("More"), or signed in as the package by the customer area's "Start" (a single sign-on link,
gateway_app/sign_on.py). A package login sees nothing contractual: no customer data, invoices, forms or prices, and it
changes nothing contractual (no upgrade)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cc_common.errors import ServiceUnavailable, Unauthenticated
from cc_common.protoconv import enum_name
from customercenter.v2 import common_pb2, package_pb2
from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gateway_app import sign_on
from gateway_app.clients import contracts, packages
from gateway_app.schemas import MAX_OPAQUE_ID
from gateway_app.schemas.packages import Addon, AddonOffer, AddonOrder, Settings, SettingsUpdate
from gateway_app.security import current_principal, guard
from gateway_app.use_cases import (
    change_product,
    order_addon,
    set_package_password,
    terminate,
    visible_package,
)
from gateway_app.web import bp
from gateway_app.web.pages import PAGE_ERRORS, FormState, error_page, page, session_token
from gateway_app.web.session import login_page, start_session

SETTINGS = tuple(Settings.model_fields)  # each checked by the API's body, with its own values
# The pages' names of the add-on kinds (package-service's catalogue names are English).
ADDON_LABELS = {"extra_domain_slot": _l("Extra domain slot"), "mailbox_pack": _l("Mailbox pack (10 mailboxes)"),
                "database": _l("Additional database")}  # fmt: skip

# A package login reaches only its own package (the same answer as an unknown id).
_package = visible_package


def larger_products(product: str, products: list[Any]) -> list[Any]:
    """The products of the catalogue larger than `product` (smallest first); none for a
    product that is not in the catalogue."""
    ranks = {item.code: item.rank for item in products}
    if product not in ranks:
        return []
    return sorted((item for item in products if item.rank > ranks[product]), key=lambda item: item.rank)


def monthly_price(product: Any, market: str) -> dict[str, Any] | None:
    """The product's monthly price in `market` (amount in major units, currency), or None."""
    price = next((p for p in product.prices if enum_name(common_pb2.Market, p.market) == market), None)
    if price is None:
        return None
    return {"amount": Decimal(price.monthly_price_cents) / 100, "currency": price.currency}


def _market() -> str:
    """The customer's market, for prices; a package login sees no contract data (no prices),
    and while contract-service is down the upgrade is offered without them."""
    principal = current_principal()
    if principal.kind != "customer":
        return ""
    try:
        return enum_name(common_pb2.Market, contracts.get_customer(token=principal.token).market)
    except ServiceUnavailable:
        return ""


@login_page("/packages/<package_id>", "customer", "package")
def package_page(package_id: str, status: int = 200, **forms: FormState) -> Any:
    """The package administration; `forms` (settings_form, password_form, upgrade_form,
    addon_form) is the one sent, shown with its faults and the page's `status`."""
    package = _package(package_id)
    token = session_token()
    current = packages.get_settings(package.id, token=token).settings
    products = packages.list_products(token=token)
    package_status = enum_name(package_pb2.PackageStatus, package.status)
    larger = larger_products(package.product, products) if package_status == "active" else []
    listed = packages.list_addons(package.id, token=token)
    market = _market() if larger or listed.available else ""
    first = enum_name(package_pb2.AddonKind, listed.available[0].kind) if listed.available else ""
    return page(
        "package.html",
        status,
        package=package,
        package_status=package_status,
        upgrades=[{"product": item, "price": monthly_price(item, market)} for item in larger],
        addons=[Addon.from_proto(a) for a in listed.addons],
        addon_names={kind: str(label) for kind, label in ADDON_LABELS.items()},
        available=[
            {"offer": AddonOffer.from_proto(item), "price": monthly_price(item, market)}
            for item in listed.available
        ],
        **{
            "settings_form": FormState({key: current.get(key, "") for key in SETTINGS}),
            "password_form": FormState(),
            "upgrade_form": FormState({"product": larger[0].code if larger else ""}),
            "addon_form": FormState({"kind": first}),
            **forms,
        },
    )


@login_page("/packages/<package_id>/settings", "customer", "package", methods=["POST"])
def package_settings(package_id: str) -> Any:
    package = _package(package_id)
    form = FormState.from_request(*SETTINGS)
    body = form.check(Settings, **{key: value.strip() for key, value in form.values.items()})
    if body is not None:
        with form.caught():
            packages.update_settings(
                package.id, SettingsUpdate(settings=body).as_strings(), token=session_token()
            )
            return redirect(url_for("web.package_page", package_id=package.id, notice="settings_saved"))
    return package_page(package.id, form.status(), settings_form=form)


@login_page("/packages/<package_id>/password", "customer", "package", methods=["POST"])
def package_password(package_id: str) -> Any:
    package = _package(package_id)  # ownership is checked by package-service first
    form = FormState.from_request("new_password", "confirm_password")
    new = form.check_new_password()
    if form.ok:
        with form.caught():
            set_package_password(package.id, new)  # the package's other sessions end
            return redirect(url_for("web.package_page", package_id=package.id, notice="package_password_set"))
    form.clear()  # passwords are never sent back
    return package_page(package.id, 422, password_form=form)


@login_page("/packages/<package_id>/upgrade", "customer", methods=["POST"])
def package_upgrade(package_id: str) -> Any:
    """The upgrade offered in the package administration. It changes the contract, so only the
    customer login orders it; the package login sees the offer with a note saying so."""
    package = _package(package_id)
    form = FormState.from_request("product")
    form.require("product")
    if form.ok:
        with form.caught(*PAGE_ERRORS):
            change_product(package.id, form.get("product"), wanted="upgrade")
            if request.form.get("next") == "offers" and current_principal().kind == "customer":
                return redirect(url_for("web.customer_offers", notice="upgraded"))
            return redirect(url_for("web.package_page", package_id=package.id, notice="upgraded"))
    return package_page(package.id, form.status(409), upgrade_form=form)


# --- additional services (add-ons) ---------------------------------------------------------


@login_page("/packages/<package_id>/addons", "customer", methods=["POST"])
def package_addon_order(package_id: str) -> Any:
    """Orders an add-on: the same path as POST /api/v1/packages/{id}/addons (customer login only)."""
    package = _package(package_id)
    form = FormState.from_request("kind")
    if form.check(AddonOrder, **form.values) is not None:
        with form.caught(*PAGE_ERRORS):
            order_addon(package.id, form.get("kind"))
            return redirect(url_for("web.package_page", package_id=package.id, notice="addon_ordered"))
    return package_page(package.id, form.status(409), addon_form=form)


@login_page("/packages/<package_id>/addons/<addon_id>/terminate", "customer", methods=["POST"])
def package_addon_terminate(package_id: str, addon_id: str) -> Any:
    """Terminates one add-on at the end of the contract term: the same path as POST
    /api/v1/terminations with addon_id."""
    package = _package(package_id)
    form = FormState()
    with form.caught(*PAGE_ERRORS):
        terminate(package.id, addon_id=addon_id[:MAX_OPAQUE_ID])
        return redirect(url_for("web.package_page", package_id=package.id, notice="addon_terminated"))
    return package_page(package.id, form.status(409), addon_form=form)


# --- "Start": single sign-on into the package administration (gateway_app/sign_on.py) ----------


@login_page("/packages/<package_id>/start", "customer", "package", methods=["POST"])
def package_start(package_id: str) -> Any:
    """ "Start" in the customer area: the same link as POST /api/v1/packages/{id}/start, opened
    at once."""
    return redirect(sign_on.start_link(package_id))


@bp.get("/packages/sso")
def package_sso() -> Any:
    """Opens a single sign-on link: once valid, the browser is signed in as the package (the
    package login's session) and goes to the package administration; a used, expired or forged
    link shows a page saying so."""
    try:
        token = sign_on.redeem(request.args.get("token", ""))
    except Unauthenticated:
        return error_page(
            401, _("This link is invalid, has expired or has already been used."), _("Link not valid")
        )
    principal = guard().authenticate(token)
    response = redirect(url_for("web.package_page", package_id=principal.package_id))
    response.headers["Cache-Control"] = "no-store"
    return start_session(response, token)
