"""The other services' part of a termination that took effect, over gRPC with contract-service's
own credential (`service:contract`): package-service ends the package or removes the domain
(EndPackage) or ends the add-on (EndAddon), identity-service revokes a terminated package's logins (RevokeSubject, which
accepts only a package's subject from contract-service)."""

from __future__ import annotations

from datetime import date

from cc_common.config import GrpcTls
from cc_common.grpc_client import ServiceClient, make_channel
from cc_common.tokens import ServiceCredential
from customercenter.v2 import identity_pb2, identity_pb2_grpc, package_pb2, package_pb2_grpc


class GrpcPackageEnds:
    def __init__(
        self, *, package_addr: str, identity_addr: str, credential: ServiceCredential, timeout: float,
        tls: GrpcTls | None = None,
    ) -> None:  # fmt: skip
        token = credential.token
        self.package = ServiceClient("package", make_channel(package_addr, tls), package_pb2_grpc.PackageServiceStub,
                                     service_token=token, timeout=timeout)  # fmt: skip
        self.identity = ServiceClient("identity", make_channel(identity_addr, tls), identity_pb2_grpc.IdentityServiceStub,
                                      service_token=token, timeout=timeout)  # fmt: skip

    def end(self, *, package_id: str, domain: str, addon_id: str = "", day: date | None = None) -> None:
        if addon_id:
            ends_on = day.isoformat() if day else ""
            addon = package_pb2.EndAddonRequest(package_id=package_id, addon_id=addon_id, ends_on=ends_on)
            self.package.invoke(self.package.stub.EndAddon, addon)
            return
        request = package_pb2.EndPackageRequest(package_id=package_id, domain=domain)
        self.package.invoke(self.package.stub.EndPackage, request)
        if not domain:
            revoke = identity_pb2.RevokeSubjectRequest(subject=f"package:{package_id}")
            self.identity.invoke(self.identity.stub.RevokeSubject, revoke)

    def close(self) -> None:
        self.package.channel.close()
        self.identity.channel.close()
