"""The gRPC servicer of package-service: proto in, one service call, proto out (enums and
Timestamps mapped to the domain's names and datetimes with cc_common.protoconv)."""

from __future__ import annotations

from collections.abc import Callable

from cc_common.grpc_server import rpc
from cc_common.grpc_types import Context
from cc_common.protoconv import enum_name, enum_value, timestamp
from cc_common.tokens import Principal
from customercenter.v2 import common_pb2, package_pb2, package_pb2_grpc

from package_service.domain import model
from package_service.domain.catalogue import AddonKind, Price, Product
from package_service.domain.model import Addon, Package
from package_service.service_layer import services
from package_service.service_layer.unit_of_work import UnitOfWork


def to_proto(package: Package, caller: Principal | None = None) -> package_pb2.Package:
    """The package as `caller` may see it: a package login (whose password may be held by a
    third party, such as an agency) never learns the owner's customer number."""
    product = package.catalogue_entry
    max_domains, max_mailboxes, max_databases = model.limits(package, product)
    return package_pb2.Package(
        id=package.id,
        customer_number="" if caller is not None and caller.kind == "package" else package.customer_number,
        product=package.product,
        domains=package.domains,
        status=enum_value(package_pb2.PackageStatus, package.status),
        created_at=timestamp(package.created_at),
        product_name=product.name if product else package.product,
        max_domains=max_domains,
        storage_used_gb=package.storage_used_gb,
        mailboxes_used=package.mailboxes_used,
        databases_used=package.databases_used,
        max_mailboxes=max_mailboxes,
        max_databases=max_databases,
    )


def addon_to_proto(addon: Addon) -> package_pb2.Addon:
    return package_pb2.Addon(
        id=addon.id,
        package_id=addon.package_id,
        kind=enum_value(package_pb2.AddonKind, addon.kind),
        monthly_price_cents=addon.price_cents,
        currency=addon.currency,
        status=enum_value(package_pb2.AddonStatus, addon.status),
        ordered_at=timestamp(addon.ordered_at),
        ends_at=addon.ends_at.isoformat() if addon.ends_at else "",
    )


def addon_offer_to_proto(offer: AddonKind) -> package_pb2.AddonOffer:
    return package_pb2.AddonOffer(
        kind=enum_value(package_pb2.AddonKind, offer.kind),
        name=offer.name,
        domains=offer.domains,
        mailboxes=offer.mailboxes,
        databases=offer.databases,
        prices=[price_to_proto(p) for p in offer.prices],
    )


def price_to_proto(price: Price) -> package_pb2.ProductPrice:
    return package_pb2.ProductPrice(
        market=enum_value(common_pb2.Market, price.market),
        monthly_price_cents=price.monthly_price_cents,
        currency=price.currency,
    )


def product_to_proto(product: Product) -> package_pb2.Product:
    return package_pb2.Product(
        code=product.code,
        name=product.name,
        rank=product.rank,
        max_domains=product.max_domains,
        storage_gb=product.storage_gb,
        mailboxes=product.mailboxes,
        databases=product.databases,
        aliases=list(product.aliases),
        prices=[price_to_proto(p) for p in product.prices],
    )


class PackageServicer(package_pb2_grpc.PackageServiceServicer):
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    @rpc("staff")
    def CreatePackage(
        self, request: package_pb2.CreatePackageRequest, context: Context, caller: Principal
    ) -> package_pb2.CreatePackageResponse:
        package = services.create_package(
            uow=self._uow(),
            customer_number=request.customer_number,
            product=request.product,
            domains=list(request.domains),
        )
        return package_pb2.CreatePackageResponse(package=to_proto(package))

    @rpc("customer", "package", "staff")
    def ListPackages(
        self, request: package_pb2.ListPackagesRequest, context: Context, caller: Principal
    ) -> package_pb2.ListPackagesResponse:
        packages = services.list_packages(
            uow=self._uow(), caller=caller, customer_number=request.customer_number
        )
        return package_pb2.ListPackagesResponse(packages=[to_proto(p, caller) for p in packages])

    @rpc("customer", "package", "staff")
    def GetPackage(
        self, request: package_pb2.GetPackageRequest, context: Context, caller: Principal
    ) -> package_pb2.GetPackageResponse:
        package = services.get_package(uow=self._uow(), caller=caller, package_id=request.package_id)
        return package_pb2.GetPackageResponse(package=to_proto(package, caller))

    @rpc("service:gateway", "service:merge")
    def ResolveDomain(
        self, request: package_pb2.ResolveDomainRequest, context: Context, caller: Principal
    ) -> package_pb2.ResolveDomainResponse:
        package = services.resolve_domain(uow=self._uow(), caller=caller, domain=request.domain)
        return package_pb2.ResolveDomainResponse(package=to_proto(package))

    @rpc("service:contract")
    def EndPackage(
        self, request: package_pb2.EndPackageRequest, context: Context, caller: Principal
    ) -> package_pb2.EndPackageResponse:
        package = services.end_package(uow=self._uow(), package_id=request.package_id, domain=request.domain)
        return package_pb2.EndPackageResponse(package=to_proto(package))

    @rpc("service:merge")
    def TransferPackages(
        self, request: package_pb2.TransferPackagesRequest, context: Context, caller: Principal
    ) -> package_pb2.TransferPackagesResponse:
        ids = services.transfer_packages(
            uow=self._uow(),
            merge_id=request.merge_id,
            source=request.source_customer_number,
            target=request.target_customer_number,
            reverse=request.reverse,
        )
        moved = common_pb2.TransferredRecords(kind=common_pb2.RECORD_KIND_PACKAGES, ids=ids)
        return package_pb2.TransferPackagesResponse(moved=[moved])

    @rpc("staff")
    def CountPackages(
        self, request: package_pb2.CountPackagesRequest, context: Context, caller: Principal
    ) -> package_pb2.CountPackagesResponse:
        counts = services.count_packages(uow=self._uow(), customer_numbers=list(request.customer_numbers))
        return package_pb2.CountPackagesResponse(by_owner=counts, total=sum(counts.values()))

    @rpc("customer", "package", "staff")
    def ListProducts(
        self, request: package_pb2.ListProductsRequest, context: Context, caller: Principal
    ) -> package_pb2.ListProductsResponse:
        return package_pb2.ListProductsResponse(
            products=[product_to_proto(p) for p in services.list_products()]
        )

    # A contractual change: the customer login only, never a package login.
    @rpc("customer")
    def ChangeProduct(
        self, request: package_pb2.ChangeProductRequest, context: Context, caller: Principal
    ) -> package_pb2.ChangeProductResponse:
        change = services.change_product(
            uow=self._uow(),
            caller=caller,
            package_id=request.package_id,
            product=request.product,
            expected_direction=enum_name(package_pb2.ChangeDirection, request.expected_direction),
        )
        return package_pb2.ChangeProductResponse(
            package=to_proto(change.package),
            direction=enum_value(package_pb2.ChangeDirection, change.direction),
            from_product=change.from_product,
        )

    @rpc("customer")
    def MoveDomain(
        self, request: package_pb2.MoveDomainRequest, context: Context, caller: Principal
    ) -> package_pb2.MoveDomainResponse:
        move = services.move_domain(
            uow=self._uow(),
            caller=caller,
            package_id=request.package_id,
            domain=request.domain,
            target_package_id=request.target_package_id,
            product=request.product,
        )
        return package_pb2.MoveDomainResponse(
            source=to_proto(move.source), target=to_proto(move.target), created=move.created
        )

    @rpc("customer", "package", "staff")
    def GetSettings(
        self, request: package_pb2.GetSettingsRequest, context: Context, caller: Principal
    ) -> package_pb2.GetSettingsResponse:
        settings = services.get_settings(uow=self._uow(), caller=caller, package_id=request.package_id)
        return package_pb2.GetSettingsResponse(
            package_settings=package_pb2.PackageSettings(package_id=request.package_id, settings=settings)
        )

    @rpc("customer", "package", "staff")
    def UpdateSettings(
        self, request: package_pb2.UpdateSettingsRequest, context: Context, caller: Principal
    ) -> package_pb2.UpdateSettingsResponse:
        settings = services.update_settings(
            uow=self._uow(), caller=caller, package_id=request.package_id, changes=dict(request.settings)
        )
        return package_pb2.UpdateSettingsResponse(
            package_settings=package_pb2.PackageSettings(package_id=request.package_id, settings=settings)
        )

    @rpc("staff")
    def SetUsage(
        self, request: package_pb2.SetUsageRequest, context: Context, caller: Principal
    ) -> package_pb2.SetUsageResponse:
        package = services.set_usage(
            uow=self._uow(),
            package_id=request.package_id,
            storage_used_gb=request.storage_used_gb,
            mailboxes_used=request.mailboxes_used,
            databases_used=request.databases_used,
        )
        return package_pb2.SetUsageResponse(package=to_proto(package))

    # --- additional services (add-ons) -----------------------------------------------------

    @rpc("customer", "package", "staff")
    def ListAddons(
        self, request: package_pb2.ListAddonsRequest, context: Context, caller: Principal
    ) -> package_pb2.ListAddonsResponse:
        package = services.list_addons(uow=self._uow(), caller=caller, package_id=request.package_id)
        return package_pb2.ListAddonsResponse(
            addons=[addon_to_proto(a) for a in package.addons],
            available=[addon_offer_to_proto(k) for k in services.list_addon_kinds()],
        )

    # A contractual change: the customer login only, never a package login.
    @rpc("customer")
    def OrderAddon(
        self, request: package_pb2.OrderAddonRequest, context: Context, caller: Principal
    ) -> package_pb2.OrderAddonResponse:
        addon = services.order_addon(
            uow=self._uow(),
            caller=caller,
            package_id=request.package_id,
            kind=enum_name(package_pb2.AddonKind, request.kind),
            market=enum_name(common_pb2.Market, request.market),
        )
        return package_pb2.OrderAddonResponse(addon=addon_to_proto(addon))

    @rpc("customer")
    def SetAddonEnd(
        self, request: package_pb2.SetAddonEndRequest, context: Context, caller: Principal
    ) -> package_pb2.SetAddonEndResponse:
        addon = services.set_addon_end(
            uow=self._uow(),
            caller=caller,
            package_id=request.package_id,
            addon_id=request.addon_id,
            ends_on=request.ends_on,
        )
        return package_pb2.SetAddonEndResponse(addon=addon_to_proto(addon))

    @rpc("service:contract")
    def EndAddon(
        self, request: package_pb2.EndAddonRequest, context: Context, caller: Principal
    ) -> package_pb2.EndAddonResponse:
        addon = services.end_addon(
            uow=self._uow(), package_id=request.package_id, addon_id=request.addon_id, ends_on=request.ends_on
        )
        return package_pb2.EndAddonResponse(addon=addon_to_proto(addon))
