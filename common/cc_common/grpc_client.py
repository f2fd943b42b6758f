"""Calling another service: one channel per service (mTLS with GRPC_TLS_*), a deadline on
every call, the caller's token (or this process's service credential) in the metadata, and
failures turned back into DomainErrors (UNAVAILABLE and DEADLINE_EXCEEDED become
ServiceUnavailable -> 503).

A service may run as several copies: its `<SERVICE>_ADDR` is one address, a list of copies or
a `dns:///` name (cc_common.config.grpc_target), and the channel's service config
(service_config) spreads the calls over every copy that is connected and reports SERVING
(round_robin with client-side health checking). Reads that are safe to repeat (READ_METHODS)
are retried on UNAVAILABLE by the channel itself, usually on another copy; a write never is,
since it may have happened before the connection broke.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cc_common import telemetry
from cc_common.config import GrpcTls, grpc_target
from cc_common.errors import from_rpc_error
from cc_common.settings import SharedSettings

R = TypeVar("R")
S = TypeVar("S")  # the generated stub class of a service

# The RPCs that only read, by full service name: repeating one after UNAVAILABLE cannot
# change anything. Named one by one (tests/unit/test_grpc_client_config.py checks them against
# the protos); a method missing here is simply not retried. Identity has none: its logins count
# failures and its stream (WatchRevocations) reconnects on its own.
READ_METHODS: dict[str, tuple[str, ...]] = {
    "customercenter.v2.IdentityService": (
        "ListSessions",
        "ListLoginHistory",
        "GetSecondFactor",
    ),
    "customercenter.v2.ContractService": (
        "GetCustomer",
        "GetCustomerSnapshot",
        "ListInvoices",
        "GetInvoicePdf",
        "ListContracts",
        "ListTerminations",
        "ListForms",
        "GetFormPdf",
        "ListDirectDebitCollections",
        "GetDirectDebitFile",
        "ListOffers",
        "ListCurrentOffers",
        "ListContactRequests",
        "GetContactAttachment",
        "ListCustomerRecords",
    ),
    "customercenter.v2.PackageService": (
        "GetPackage",
        "ListPackages",
        "ResolveDomain",
        "CountPackages",
        "ListProducts",
        "GetSettings",
        "ListAddons",
    ),
    "customercenter.v2.MergeService": ("GetMerge", "ListMerges", "GetLegalProof", "GetMergeAudit"),
}

# gRPC's retry policy for the reads: up to 3 attempts in all, 0.1 s then 0.2 s apart (each
# with random jitter), and only on UNAVAILABLE (the copy went away or never got the call). The
# call's deadline still bounds everything.
RETRY_POLICY = {
    "maxAttempts": 3,
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}

RETRY_METHOD_CONFIG: dict[str, Any] = {
    "name": [
        {"service": service, "method": method}
        for service, methods in READ_METHODS.items()
        for method in methods
    ],
    "retryPolicy": RETRY_POLICY,
}


def service_config(*, copies: bool, health_checked: bool = True) -> dict[str, Any]:
    """The channel's service config. For several copies (a list or a `dns:///` name): every
    resolved address gets a connection and calls go to the ready ones in turn (round_robin);
    with `health_checked`, a copy that reports NOT_SERVING (grpc.health.v1 Watch, e.g. while
    it drains after SIGTERM) gets no new calls. For one `host:port`: gRPC's default pick_first,
    which connects again on the next call after the copy restarted (round_robin would fail
    calls fast while it backs off), and no health checking (a lone draining copy still
    finishes what it is sent). The retry policy of the reads holds for both."""
    config: dict[str, Any] = {"methodConfig": [RETRY_METHOD_CONFIG]}
    if copies:
        config["loadBalancingConfig"] = [{"round_robin": {}}]
        if health_checked:
            config["healthCheckConfig"] = {"serviceName": ""}
    return config


CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 1),
    # A restarted service is found again within a second or two, not after minutes of backoff.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
]


def channel_credentials(tls: GrpcTls) -> grpc.ChannelCredentials:
    """TLS with this process's client certificate; the server's is checked against the CA."""
    cert, key, ca = tls.read()
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)


def channel_options(
    address: str, tls: GrpcTls | None = None, *, health_checked: bool = True
) -> tuple[str, list[tuple[str, Any]]]:
    """(target, options) of the channel to `address` (see cc_common.config.grpc_target).
    `health_checked=False` leaves out client-side health checking: for a channel that asks
    the health service itself (cc_common.healthcheck), and must reach a NOT_SERVING server.

    Over TLS every copy's certificate is checked against one name: GRPC_TLS_SERVER_NAME when
    set, else the host of the address (of its first entry, for a list of copies)."""
    target = grpc_target(address)
    config = service_config(copies=target.copies, health_checked=health_checked)
    options = [*CHANNEL_OPTIONS, ("grpc.service_config", json.dumps(config))]
    if target.authority is not None:
        options.append(("grpc.default_authority", target.authority))
    server_name = SharedSettings.load().grpc_tls_server_name.strip()
    if tls is not None and (server_name or target.authority is not None):
        name = server_name or target.authority.rpartition(":")[0].strip("[]")  # type: ignore[union-attr]  # set when server_name is not
        options.append(("grpc.ssl_target_name_override", name))
    return target.target, options


def make_channel(address: str, tls: GrpcTls | None = None, *, health_checked: bool = True) -> grpc.Channel:
    """A channel to every copy of the service at `address`: mTLS when `tls` is given
    (GRPC_TLS_*), else plaintext (see channel_options for `health_checked`). Its calls carry
    the current trace context and have client spans (cc_common.telemetry)."""
    target, options = channel_options(address, tls, health_checked=health_checked)
    if tls is not None:
        channel = grpc.secure_channel(target, channel_credentials(tls), options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    return telemetry.instrument_channel(channel)


class ServiceClient(Generic[S]):
    """A stub of one service with its deadline and credentials."""

    def __init__(
        self,
        name: str,
        channel: grpc.Channel,
        stub_factory: Callable[[grpc.Channel], S],
        *,
        service_token: Callable[[], str] | None,
        timeout: float,
    ) -> None:
        self.name = name
        self.channel = channel
        self.stub = stub_factory(channel)
        self._health = health_pb2_grpc.HealthStub(channel)
        self._service_token = service_token
        self.timeout = timeout

    def invoke(
        self,
        method: Callable[..., R],
        request: Any,
        *,
        token: str | None = None,
        timeout: float | None = None,
    ) -> R:
        """Calls `method`, a method of this client's stub (`client.invoke(client.stub.GetCustomer,
        request)`), with the given user token, or with the service credential."""
        bearer = token if token is not None else (self._service_token() if self._service_token else None)
        metadata = (("authorization", f"Bearer {bearer}"),) if bearer else ()
        try:
            return method(request, timeout=timeout or self.timeout, metadata=metadata)
        except grpc.RpcError as err:
            raise from_rpc_error(err, service=self.name) from None

    def serving(self, timeout: float = 1.0) -> bool:
        try:
            reply = self._health.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
