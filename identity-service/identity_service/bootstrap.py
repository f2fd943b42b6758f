"""Composition root of identity-service: settings in, dependencies built, server out.
Nothing is opened at import time.

Environment: DATABASE_URL, LISTEN_ADDR (default IDENTITY_ADDR, 127.0.0.1:50051), the JWT_* /
SERVICE_* key files of cc_common.config, STAFF_USERNAME and STAFF_PASSWORD (the first staff
account, created or updated on start-up; the default password is refused with
APP_ENV=production), the LOGIN_* throttling limits (see domain/throttling.py) and
REVOCATION_ACK_TIMEOUT_SECONDS (how long a revoking RPC waits for the watchers' acks, 1.0).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from cc_common import config, db
from cc_common.grpc_server import ServerSpec, run_until_terminated
from cc_common.grpc_server import create_server as _create_server
from cc_common.tokens import TokenVerifier
from customercenter.v1 import identity_pb2, identity_pb2_grpc

from identity_service.adapters.passwords import Argon2Hasher
from identity_service.domain.throttling import LoginLimits
from identity_service.entrypoints.grpc_server import IdentityServicer
from identity_service.service_layer import services
from identity_service.service_layer.revocation_hub import RevocationHub
from identity_service.service_layer.unit_of_work import IdentityUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name
DEFAULT_STAFF_USERNAME = "admin"
DEFAULT_STAFF_PASSWORD = "admin-password"


@dataclass(frozen=True)
class Settings:
    database_url: str
    listen: str
    tokens: config.TokenSettings
    staff_username: str = DEFAULT_STAFF_USERNAME
    staff_password: str = DEFAULT_STAFF_PASSWORD
    limits: LoginLimits = field(default_factory=LoginLimits)
    revocation_ack_timeout: float = 1.0

    @classmethod
    def from_env(cls) -> Settings:
        addr = config.ServiceAddresses.from_env().identity
        settings = cls(
            database_url=config.env("DATABASE_URL", config.default_database_url("identity")),
            listen=config.env("LISTEN_ADDR", addr),
            tokens=config.TokenSettings.from_env(),
            staff_username=config.env("STAFF_USERNAME", DEFAULT_STAFF_USERNAME),
            staff_password=config.env("STAFF_PASSWORD", DEFAULT_STAFF_PASSWORD),
            limits=LoginLimits(
                max_failures_per_account=config.env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
                max_failures_per_address=config.env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
                window_seconds=config.env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900),
                lockout_seconds=config.env_int("LOGIN_LOCKOUT_SECONDS", 300),
            ),
            revocation_ack_timeout=float(config.env("REVOCATION_ACK_TIMEOUT_SECONDS", "1.0")),
        )
        settings.check(production=config.is_production())
        return settings

    def check(self, *, production: bool) -> None:
        """Refuses the default staff password outside development."""
        if production and self.staff_password == DEFAULT_STAFF_PASSWORD:
            raise RuntimeError("Set STAFF_PASSWORD: the default staff password is refused with APP_ENV=production.")
        limits = self.limits
        if min(limits.max_failures_per_account, limits.max_failures_per_address, limits.window_seconds,
               limits.lockout_seconds) < 1:
            raise RuntimeError("The LOGIN_* limits must be positive integers.")


async def create_server(address: str, settings: Settings | None = None):
    """Builds the server (migrated database, first staff account, servicer, health,
    reflection) bound to address."""
    settings = settings or Settings.from_env()
    settings.check(production=config.is_production())
    db.upgrade(settings.database_url, MIGRATIONS)
    engine = db.make_engine(settings.database_url)
    uow_factory = partial(IdentityUnitOfWork, db.make_session_factory(engine))
    hasher = Argon2Hasher()
    services.ensure_staff_account(
        uow=uow_factory(), hasher=hasher, username=settings.staff_username, password=settings.staff_password
    )
    hub = RevocationHub(ack_timeout=settings.revocation_ack_timeout)
    servicer = IdentityServicer(uow_factory, hasher, settings.limits, hub)
    spec = ServerSpec(
        registrations=[(identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=TokenVerifier.from_settings(settings.tokens),
    )
    server, port, health = await _create_server(address, spec)
    return server, port, health, hub


def serve() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s identity %(levelname)s %(message)s")
    settings = Settings.from_env()

    async def main() -> None:
        server, port, health, hub = await create_server(settings.listen, settings)
        logging.info("identity-service listening on port %d", port)

        async def stopping() -> None:
            hub.close()  # ends the watch streams, so the graceful stop does not wait for them

        await run_until_terminated(server, health, [SERVICE_NAME], on_stopping=stopping)

    asyncio.run(main())
