"""Calling another service: one channel per address (mTLS with GRPC_TLS_*), a deadline on
every call, the caller's token (or this process's service credential) in the metadata, and
failures turned back into DomainErrors (UNAVAILABLE and DEADLINE_EXCEEDED become
ServiceUnavailable -> 503)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cc_common.config import GrpcTls
from cc_common.errors import from_rpc_error

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


def make_channel(address: str, tls: GrpcTls | None = None) -> grpc.Channel:
    """A channel to `address`: mTLS when `tls` is given (GRPC_TLS_*), else plaintext."""
    if tls is not None:
        return grpc.secure_channel(address, channel_credentials(tls), options=CHANNEL_OPTIONS)
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)


class ServiceClient:
    """A stub of one service with its deadline and credentials."""

    def __init__(
        self,
        name: str,
        channel: grpc.Channel,
        stub_factory: Callable[[grpc.Channel], Any],
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

    def call(self, method: str, request: Any, *, token: str | None = None, timeout: float | None = None) -> Any:
        """Calls `method` with the given user token, or with the service credential."""
        bearer = token if token is not None else (self._service_token() if self._service_token else None)
        metadata = (("authorization", f"Bearer {bearer}"),) if bearer else ()
        try:
            return getattr(self.stub, method)(
                request, timeout=timeout or self.timeout, metadata=metadata
            )
        except grpc.RpcError as err:
            raise from_rpc_error(err, service=self.name) from None

    def serving(self, timeout: float = 1.0) -> bool:
        try:
            reply = self._health.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING
