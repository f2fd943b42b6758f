"""Composition root of package-service: settings in, dependencies built, server out.
Nothing is opened at import time.

Tokens are checked against a replica of identity-service's revocation state (IDENTITY_ADDR,
cc_common.revocation.start_replica), which fails open: the service starts and keeps working
while identity is unreachable."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cc_common import config, db, revocation
from cc_common.grpc_server import ServerSpec, run_until_terminated
from cc_common.grpc_server import create_server as _create_server
from cc_common.tokens import TokenVerifier
from customercenter.v1 import package_pb2, package_pb2_grpc

from package_service.entrypoints.grpc_server import PackageServicer
from package_service.service_layer.unit_of_work import PackageUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = package_pb2.DESCRIPTOR.services_by_name["PackageService"].full_name


@dataclass(frozen=True)
class Settings:
    database_url: str
    listen: str
    tokens: config.TokenSettings
    # Where identity-service streams the revocations from (IDENTITY_ADDR).
    identity_addr: str = config.DEFAULT_IDENTITY_ADDR

    @classmethod
    def from_env(cls) -> Settings:
        addresses = config.ServiceAddresses.from_env()
        return cls(
            database_url=config.env("DATABASE_URL", config.default_database_url("package")),
            listen=config.env("LISTEN_ADDR", addresses.package),
            tokens=config.TokenSettings.from_env(),
            identity_addr=addresses.identity,
        )


async def create_server(address: str, settings: Settings | None = None):
    """Builds the server (migrated database, servicer, health, reflection) bound to address.
    Returns (server, port, health, watcher); `watcher` (the revocation replica, already
    started) is stopped at shutdown."""
    settings = settings or Settings.from_env()
    db.upgrade(settings.database_url, MIGRATIONS)
    engine = db.make_engine(settings.database_url)
    watcher = revocation.start_replica(settings.identity_addr, settings.tokens, "package")
    uow_factory = partial(PackageUnitOfWork, db.make_session_factory(engine))
    spec = ServerSpec(
        registrations=[(package_pb2_grpc.add_PackageServiceServicer_to_server, PackageServicer(uow_factory))],
        service_names=[SERVICE_NAME],
        verifier=TokenVerifier.from_settings(settings.tokens, revocation=watcher.state),
    )
    server, port, health = await _create_server(address, spec)
    return server, port, health, watcher


def serve() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s package %(levelname)s %(message)s")
    settings = Settings.from_env()

    async def main() -> None:
        server, port, health, watcher = await create_server(settings.listen, settings)
        logging.info("package-service listening on port %d", port)

        async def stopping() -> None:
            watcher.stop()

        await run_until_terminated(server, health, [SERVICE_NAME], on_stopping=stopping)

    asyncio.run(main())
