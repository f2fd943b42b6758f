"""package-service: packages, the product catalogue, domains, add-ons and technical settings."""

from __future__ import annotations

from cc_common.protoconv import enum_value
from customercenter.v2 import common_pb2, package_pb2_grpc
from customercenter.v2 import package_pb2 as pb
from grpc import UnaryUnaryMultiCallable as Rpc

from gateway_app.backends import Q, R, current_backends


def _stub() -> package_pb2_grpc.PackageServiceStub:
    return current_backends().package.stub


def _call(method: Rpc[Q, R], request: Q, token: str | None = None) -> R:
    return current_backends().package.invoke(method, request, token=token)


def resolve_domain(domain: str) -> pb.Package:
    return _call(_stub().ResolveDomain, pb.ResolveDomainRequest(domain=domain)).package


def get_package(package_id: str, *, token: str) -> pb.Package:
    return _call(_stub().GetPackage, pb.GetPackageRequest(package_id=package_id), token).package


def list_packages(*, token: str) -> list[pb.Package]:
    return list(_call(_stub().ListPackages, pb.ListPackagesRequest(), token).packages)


def list_products(*, token: str) -> list[pb.Product]:
    return list(_call(_stub().ListProducts, pb.ListProductsRequest(), token).products)


def create_package(customer_number: str, product: str, domains: list[str], *, token: str) -> pb.Package:
    request = pb.CreatePackageRequest(customer_number=customer_number, product=product, domains=domains)
    return _call(_stub().CreatePackage, request, token).package


def set_usage(package_id: str, figures: dict[str, int], *, token: str) -> pb.Package:
    return _call(_stub().SetUsage, pb.SetUsageRequest(package_id=package_id, **figures), token).package


def change_product(
    package_id: str, product: str, *, expected_direction: str, token: str
) -> pb.ChangeProductResponse:
    request = pb.ChangeProductRequest(
        package_id=package_id,
        product=product,
        expected_direction=enum_value(pb.ChangeDirection, expected_direction),
    )
    return _call(_stub().ChangeProduct, request, token)


def move_domain(
    package_id: str, domain: str, *, target_package_id: str, product: str, token: str
) -> pb.MoveDomainResponse:
    request = pb.MoveDomainRequest(
        package_id=package_id, domain=domain, target_package_id=target_package_id, product=product
    )
    return _call(_stub().MoveDomain, request, token)


def get_settings(package_id: str, *, token: str) -> pb.PackageSettings:
    return _call(_stub().GetSettings, pb.GetSettingsRequest(package_id=package_id), token).package_settings


def update_settings(package_id: str, settings: dict[str, str], *, token: str) -> pb.PackageSettings:
    request = pb.UpdateSettingsRequest(package_id=package_id, settings=settings)
    return _call(_stub().UpdateSettings, request, token).package_settings


def list_addons(package_id: str, *, token: str) -> pb.ListAddonsResponse:
    return _call(_stub().ListAddons, pb.ListAddonsRequest(package_id=package_id), token)


def order_addon(package_id: str, kind: str, *, market: str, token: str) -> pb.Addon:
    request = pb.OrderAddonRequest(
        package_id=package_id,
        kind=enum_value(pb.AddonKind, kind),
        market=enum_value(common_pb2.Market, market),
    )
    return _call(_stub().OrderAddon, request, token).addon


def set_addon_end(package_id: str, addon_id: str, ends_on: str, *, token: str) -> pb.Addon:
    request = pb.SetAddonEndRequest(package_id=package_id, addon_id=addon_id, ends_on=ends_on)
    return _call(_stub().SetAddonEnd, request, token).addon
