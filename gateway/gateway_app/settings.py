"""The gateway's settings, read once from the environment in `create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from cc_common import config
from cc_common.settings import SharedSettings

MAX_CONTENT_LENGTH = 1024 * 1024  # 1 MB: larger bodies answer 413 payload_too_large


@dataclass(frozen=True)
class GatewaySettings:
    tokens: config.TokenSettings
    addresses: config.ServiceAddresses
    grpc_timeout: float
    max_content_length: int = MAX_CONTENT_LENGTH
    # How long a request waits for the first revocation snapshot of identity before it answers 503.
    revocation_sync_wait: float = 2.0
    # The deadline of each health check in GET /healthz.
    health_timeout: float = 1.0
    # Where the customer center is reached from outside (PUBLIC_BASE_URL). Passed on with a
    # reset request for information only: identity builds the mailed link from its own
    # PUBLIC_BASE_URL, never from the request (a forged Host header must not reach a mail).
    public_base_url: str = ""
    # mTLS of the channels to the services (GRPC_TLS_*); None: plaintext.
    tls: config.GrpcTls | None = None
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto count (TRUSTED_PROXIES);
    # empty: nobody's (gateway_app/proxy.py).
    trusted_proxies: tuple[config.IPNetwork, ...] = ()

    @classmethod
    def from_env(cls) -> GatewaySettings:
        return cls(
            tokens=config.TokenSettings.from_env(),
            addresses=config.ServiceAddresses.from_env(),
            grpc_timeout=config.grpc_timeout(),
            public_base_url=(SharedSettings.load().public_base_url or "").strip().rstrip("/"),
            tls=config.GrpcTls.from_env(),
            trusted_proxies=config.trusted_proxies(),
        )
