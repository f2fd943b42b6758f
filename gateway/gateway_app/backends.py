"""The gRPC services behind the gateway: one ServiceClient per service.

Channels are built here and connect lazily on the first call, so a worker starts even while a
service is down; the features that need that service answer 503. Unit tests pass fakes with
the same `stub` / `invoke` / `serving` interface (gateway_app.testing). The views reach the
services through gateway_app.clients, never through this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from cc_common.config import GrpcTls, ServiceAddresses
from cc_common.errors import NotFound
from cc_common.grpc_client import ServiceClient, make_channel
from customercenter.v2 import contract_pb2_grpc, identity_pb2_grpc, merge_pb2_grpc, package_pb2_grpc
from flask import Flask, current_app
from google.protobuf.message import Message

from gateway_app.schemas import MAX_OPAQUE_ID

if TYPE_CHECKING:
    import grpc

Q = TypeVar("Q", bound=Message)  # a request message
R = TypeVar("R")
S = TypeVar("S")  # the generated stub class of the service
S_co = TypeVar("S_co", covariant=True)
EXTENSION = "gateway_backends"


class Backend(Protocol[S_co]):
    """What the views need of a service client (ServiceClient, or a fake in unit tests)."""

    name: str

    @property
    def stub(self) -> S_co: ...

    def invoke(self, method: Callable[..., R], request: Any, *, token: str | None = None) -> R: ...

    def serving(self, timeout: float = 1.0) -> bool: ...


@dataclass
class Backends:
    identity: Backend[identity_pb2_grpc.IdentityServiceStub]
    contract: Backend[contract_pb2_grpc.ContractServiceStub]
    package: Backend[package_pb2_grpc.PackageServiceStub]
    merge: Backend[merge_pb2_grpc.MergeServiceStub]

    def by_name(self) -> dict[str, Backend[Any]]:
        return dict(vars(self))


def build_backends(
    addresses: ServiceAddresses,
    *,
    service_token: Callable[[], str],
    timeout: float,
    tls: GrpcTls | None = None,
) -> Backends:
    """One channel and client per service (mTLS with `tls`), with the gateway's service
    credential (`service:gateway`)."""

    def client(name: str, address: str, stub_factory: Callable[[grpc.Channel], S]) -> ServiceClient[S]:
        channel = make_channel(address, tls)
        return ServiceClient(name, channel, stub_factory, service_token=service_token, timeout=timeout)

    return Backends(
        identity=client("identity", addresses.identity, identity_pb2_grpc.IdentityServiceStub),
        contract=client("contract", addresses.contract, contract_pb2_grpc.ContractServiceStub),
        package=client("package", addresses.package, package_pb2_grpc.PackageServiceStub),
        merge=client("merge", addresses.merge, merge_pb2_grpc.MergeServiceStub),
    )


def init_app(app: Flask, backends: Backends) -> None:
    app.extensions[EXTENSION] = backends


def current_backends() -> Backends:
    return cast(Backends, current_app.extensions[EXTENSION])


def known_id(value: str, not_found: str, limit: int = MAX_OPAQUE_ID) -> str:
    """`value`, or 404 `not_found` (as the service would answer) when it is empty or too long to exist."""
    if not value or len(value) > limit:
        raise NotFound(not_found)
    return value
