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
from flask import Blueprint, Response, current_app, jsonify

from gateway_app import serializers
from gateway_app import validation as v
from gateway_app.blueprints import require_active_customer
from gateway_app.clients import contracts, identity, packages
from gateway_app.security import current_principal, token_required

bp = Blueprint("packages", __name__)

MAX_PACKAGE_ID = v.MAX_OPAQUE_ID
MAX_SETTINGS = 20
MAX_SETTING_KEY = 64
MAX_SETTING_VALUE = 64

CHANGE_PRODUCT = {"product": v.text(min_len=1, max_len=100)}
SET_PASSWORD = {"new_password": v.password(new=True)}
SPLIT = {
    "domain": v.domain_field(),
    "target_package_id": v.opaque_id(required=False),
    "product": v.text(min_len=1, max_len=100, required=False),
}


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
def list_packages() -> Response:
    items = packages.list_packages(token=current_principal().token)
    return jsonify({"packages": [serializers.package(item) for item in items]})


@bp.get("/api/v1/packages/<package_id>")
@token_required("customer", "package")
def get_package(package_id: str) -> Response:
    return jsonify(serializers.package(visible_package(package_id)))


@bp.get("/api/v1/products")
@token_required("customer", "package", "staff")
def list_products() -> Response:
    items = packages.list_products(token=current_principal().token)
    return jsonify({"products": [serializers.product(item) for item in items]})


@bp.put("/api/v1/packages/<package_id>/password")
@token_required("customer", "package")
def set_package_password(package_id: str) -> Response:
    body = v.validate(v.json_object(), SET_PASSWORD)
    package = visible_package(package_id)  # 404 unless the owner or the package itself asks
    try:
        set_package_password_of(package.id, body["new_password"])
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


def _change_product(package_id: str, *, wanted: str) -> Response:
    body = v.validate(v.json_object(), CHANGE_PRODUCT)
    return jsonify(serializers.product_change(change_product(package_id, body["product"], wanted=wanted)))


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
def downgrade(package_id: str) -> Response:
    return _change_product(package_id, wanted="downgrade")


@bp.post("/api/v1/packages/<package_id>/upgrade")
@token_required("customer")
def upgrade(package_id: str) -> Response:
    return _change_product(package_id, wanted="upgrade")


# --- technical settings --------------------------------------------------------------------


def _setting_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and len(value) <= MAX_SETTING_VALUE and "\x00" not in value:
        return value
    raise InvalidInput(
        f"settings.{key} must be a short string, a number or true/false.", field=f"settings.{key}"
    )


def _settings_of(body: dict[str, Any]) -> dict[str, str]:
    changes = body.get("settings")
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput(
            'Give the settings to change as an object, e.g. {"php_version": "8.3"}.', field="settings"
        )
    if len(changes) > MAX_SETTINGS:
        raise InvalidInput(f"At most {MAX_SETTINGS} settings at once.", field="settings")
    out = {}
    for key, value in changes.items():
        if len(key) > MAX_SETTING_KEY or not key:
            raise InvalidInput("Unknown setting.", field="settings")
        out[key] = _setting_value(key, value)
    return out


@bp.get("/api/v1/packages/<package_id>/settings")
@token_required("customer", "package")
def get_settings(package_id: str) -> Response:
    reply = packages.get_settings(package_id_of(package_id), token=current_principal().token)
    return jsonify(serializers.package_settings(reply))


@bp.patch("/api/v1/packages/<package_id>/settings")
@token_required("customer", "package")
def update_settings(package_id: str) -> Response:
    package_id = package_id_of(package_id)
    body = v.validate(v.json_object(), {"settings": v.Field(lambda name, value: value)})
    reply = packages.update_settings(package_id, _settings_of(body), token=current_principal().token)
    return jsonify(serializers.package_settings(reply))


# --- package splitting ---------------------------------------------------------------------


@bp.post("/api/v1/packages/<package_id>/split")
@token_required("customer")
def split(package_id: str) -> Response:
    package_id = package_id_of(package_id)
    body = v.validate(v.json_object(), SPLIT)
    if "target_package_id" in body and "product" in body:
        raise InvalidInput(
            "product is only for a new package; leave it out when the domain moves into target_package_id.",
            field="product",
        )
    # The customer's own record (its token): no domain moves while the number is frozen (a
    # merge is running) or retired -> 409 customer_not_active.
    principal = current_principal()
    require_active_customer(principal.customer_number or "", token=principal.token)
    move = packages.move_domain(
        package_id,
        body["domain"],
        target_package_id=body.get("target_package_id", ""),
        product=body.get("product", "").strip().lower(),
        token=principal.token,
    )
    if move.created:
        # A new independent package has a contract of its own (idempotent per package id),
        # created with the gateway's service credential for the owner package-service reported.
        contracts.create_contract(move.target.id, move.target.customer_number, move.target.product)
    return jsonify(serializers.domain_move(move))
