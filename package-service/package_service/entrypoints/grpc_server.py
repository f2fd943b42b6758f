"""The gRPC servicer of package-service: proto in, one service call, proto out."""

from __future__ import annotations

from customercenter.v1 import package_pb2, package_pb2_grpc, transfer_pb2

from cc_common.grpc_server import rpc
from cc_common.tokens import Principal
from package_service.domain.model import Package
from package_service.service_layer import services


def to_proto(package: Package) -> package_pb2.Package:
    return package_pb2.Package(
        id=package.id,
        customer_number=package.customer_number,
        product=package.product,
        domains=package.domains,
        status=package.status,
        created_at=package.created_at.isoformat() if package.created_at else "",
    )


class PackageServicer(package_pb2_grpc.PackageServiceServicer):
    def __init__(self, uow_factory) -> None:
        self._uow = uow_factory

    @rpc("staff")
    def CreatePackage(self, request, context, caller: Principal):
        package = services.create_package(
            uow=self._uow(),
            customer_number=request.customer_number,
            product=request.product,
            domains=list(request.domains),
        )
        return to_proto(package)

    @rpc("customer", "package", "staff", "service")
    def ListPackages(self, request, context, caller: Principal):
        packages = services.list_packages(
            uow=self._uow(), caller=caller, customer_number=request.customer_number
        )
        return package_pb2.PackageList(packages=[to_proto(p) for p in packages])

    @rpc("customer", "package", "staff", "service")
    def GetPackage(self, request, context, caller: Principal):
        return to_proto(services.get_package(uow=self._uow(), caller=caller, package_id=request.package_id))

    @rpc("service")
    def ResolveDomain(self, request, context, caller: Principal):
        return to_proto(services.resolve_domain(uow=self._uow(), caller=caller, domain=request.domain))

    @rpc("service")
    def TransferPackages(self, request, context, caller: Principal):
        ids = services.transfer_packages(
            uow=self._uow(),
            merge_id=request.merge_id,
            source=request.source_customer_number,
            target=request.target_customer_number,
            reverse=request.reverse,
        )
        return transfer_pb2.TransferResult(moved=[transfer_pb2.TransferredRecords(kind="packages", ids=ids)])

    @rpc("staff", "service")
    def CountPackages(self, request, context, caller: Principal):
        counts = services.count_packages(uow=self._uow(), customer_numbers=list(request.customer_numbers))
        return package_pb2.PackageCounts(by_owner=counts, total=sum(counts.values()))
