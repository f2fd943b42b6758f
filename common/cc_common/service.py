"""The composition of a plain service (contract-service, package-service): settings from the
environment, migrations, one engine, a unit of work, one servicer, a revocation replica, and
`serve()` with a graceful stop. Kept once here; each service's bootstrap.py names its parts.

Tokens are checked against a replica of identity-service's revocation state (IDENTITY_ADDR,
cc_common.revocation.start_replica), which fails open: the service starts and keeps working
while identity is unreachable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from cc_common import config, db, revocation
from cc_common.grpc_server import ServerSpec, run_until_terminated
from cc_common.grpc_server import create_server as _create_server
from cc_common.tokens import TokenVerifier


@dataclass(frozen=True)
class ServiceSettings:
    database_url: str
    listen: str
    tokens: config.TokenSettings
    # Where identity-service streams the revocations from (IDENTITY_ADDR).
    identity_addr: str = config.DEFAULT_IDENTITY_ADDR
    # mTLS of the server and of the revocation stream (GRPC_TLS_*); None: plaintext.
    tls: config.GrpcTls | None = None

    # The service's short name ("package"): its default database and its `<NAME>_ADDR`.
    SERVICE: ClassVar[str] = ""

    @classmethod
    def from_env(cls) -> ServiceSettings:
        addresses = config.ServiceAddresses.from_env()
        return cls(
            database_url=config.env("DATABASE_URL", config.default_database_url(cls.SERVICE)),
            listen=config.env("LISTEN_ADDR", getattr(addresses, cls.SERVICE)),
            tokens=config.TokenSettings.from_env(),
            identity_addr=addresses.identity,
            tls=config.GrpcTls.from_env(),
        )


@dataclass(frozen=True)
class PlainService:
    """What differs between plain services: names, migrations, unit of work and servicer."""

    name: str
    service_name: str  # the full gRPC service name, for health and reflection
    migrations: Path
    unit_of_work: Callable[..., Any]
    servicer: Callable[[Callable[[], Any]], Any]  # uow factory -> servicer
    add_to_server: Callable[[Any, Any], None]

    async def create_server(self, address: str, settings: ServiceSettings):
        """Builds the server (migrated database, servicer, health, reflection) bound to address.
        Returns (server, port, health, watcher); `watcher` (the revocation replica, already
        started) is stopped at shutdown."""
        db.upgrade(settings.database_url, self.migrations)
        engine = db.make_engine(settings.database_url)
        watcher = revocation.start_replica(settings.identity_addr, settings.tokens, self.name, settings.tls)
        uow_factory = partial(self.unit_of_work, db.make_session_factory(engine))
        spec = ServerSpec(
            registrations=[(self.add_to_server, self.servicer(uow_factory))],
            service_names=[self.service_name],
            verifier=TokenVerifier.from_settings(settings.tokens, revocation=watcher.state),
            tls=settings.tls,
        )
        server, port, health = await _create_server(address, spec)
        return server, port, health, watcher

    def serve(self, settings_from_env: Callable[[], ServiceSettings]) -> None:
        """`python -m <name>_service`: refuses unsafe production settings first, then reads the
        settings and serves until SIGTERM."""
        config.refuse_unsafe_production_settings(self.name)
        settings = settings_from_env()
        logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {self.name} %(levelname)s %(message)s")

        async def main() -> None:
            server, port, health, watcher = await self.create_server(settings.listen, settings)
            logging.info("%s-service listening on port %d", self.name, port)

            async def stopping() -> None:
                watcher.stop()

            await run_until_terminated(server, health, [self.service_name], on_stopping=stopping)

        asyncio.run(main())
