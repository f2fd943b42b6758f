"""package-service: packages, the product catalogue, domains and technical settings.

Each function returns the resource its RPC's <Rpc>Response carries (a Package, settings...)."""

from __future__ import annotations

from cc_common.protoconv import enum_value
from customercenter.v2 import common_pb2, package_pb2, package_pb2_grpc

from gateway_app.backends import Backend, current_backends


def _package() -> Backend[package_pb2_grpc.PackageServiceStub]:
    return current_backends().package


def resolve_domain(domain: str) -> package_pb2.Package:
    return (
        _package()
        .invoke(_package().stub.ResolveDomain, package_pb2.ResolveDomainRequest(domain=domain))
        .package
    )


def get_package(package_id: str, *, token: str) -> package_pb2.Package:
    request = package_pb2.GetPackageRequest(package_id=package_id)
    return _package().invoke(_package().stub.GetPackage, request, token=token).package


def list_packages(*, token: str) -> list[package_pb2.Package]:
    request = package_pb2.ListPackagesRequest()
    return list(_package().invoke(_package().stub.ListPackages, request, token=token).packages)


def list_products(*, token: str) -> list[package_pb2.Product]:
    request = package_pb2.ListProductsRequest()
    return list(_package().invoke(_package().stub.ListProducts, request, token=token).products)


def create_package(
    customer_number: str, product: str, domains: list[str], *, token: str
) -> package_pb2.Package:
    request = package_pb2.CreatePackageRequest(
        customer_number=customer_number, product=product, domains=domains
    )
    return _package().invoke(_package().stub.CreatePackage, request, token=token).package


def set_usage(package_id: str, figures: dict[str, int], *, token: str) -> package_pb2.Package:
    request = package_pb2.SetUsageRequest(package_id=package_id, **figures)
    return _package().invoke(_package().stub.SetUsage, request, token=token).package


def change_product(
    package_id: str, product: str, *, expected_direction: str, token: str
) -> package_pb2.ChangeProductResponse:
    request = package_pb2.ChangeProductRequest(
        package_id=package_id,
        product=product,
        expected_direction=enum_value(package_pb2.ChangeDirection, expected_direction),
    )
    return _package().invoke(_package().stub.ChangeProduct, request, token=token)


def move_domain(
    package_id: str, domain: str, *, target_package_id: str, product: str, token: str
) -> package_pb2.MoveDomainResponse:
    request = package_pb2.MoveDomainRequest(
        package_id=package_id, domain=domain, target_package_id=target_package_id, product=product
    )
    return _package().invoke(_package().stub.MoveDomain, request, token=token)


def get_settings(package_id: str, *, token: str) -> package_pb2.PackageSettings:
    request = package_pb2.GetSettingsRequest(package_id=package_id)
    return _package().invoke(_package().stub.GetSettings, request, token=token).package_settings


def update_settings(package_id: str, settings: dict[str, str], *, token: str) -> package_pb2.PackageSettings:
    request = package_pb2.UpdateSettingsRequest(package_id=package_id, settings=settings)
    return _package().invoke(_package().stub.UpdateSettings, request, token=token).package_settings


def list_addons(package_id: str, *, token: str) -> package_pb2.ListAddonsResponse:
    request = package_pb2.ListAddonsRequest(package_id=package_id)
    return _package().invoke(_package().stub.ListAddons, request, token=token)


def order_addon(package_id: str, kind: str, *, market: str, token: str) -> package_pb2.Addon:
    request = package_pb2.OrderAddonRequest(
        package_id=package_id,
        kind=enum_value(package_pb2.AddonKind, kind),
        market=enum_value(common_pb2.Market, market),
    )
    return _package().invoke(_package().stub.OrderAddon, request, token=token).addon


def set_addon_end(package_id: str, addon_id: str, ends_on: str, *, token: str) -> package_pb2.Addon:
    request = package_pb2.SetAddonEndRequest(package_id=package_id, addon_id=addon_id, ends_on=ends_on)
    return _package().invoke(_package().stub.SetAddonEnd, request, token=token).addon
