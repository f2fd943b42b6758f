"""The composition of a plain service (contract-service, package-service): settings from the
environment, migrations, one engine, a unit of work, one servicer, a revocation replica, and
`serve()` with a graceful stop. Kept once here; each service's bootstrap.py names its parts.

Tokens are checked against a replica of identity-service's revocation state (IDENTITY_ADDR,
cc_common.revocation.start_replica), which fails open: the service starts and keeps working
while identity is unreachable. A service that sends mails names its outbox table: then a
mail dispatcher (cc_common.outbox) runs beside the server, and the servicer is built with
`on_mail` (wakes the dispatcher) and `public_base_url` (PUBLIC_BASE_URL, the base of links).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import grpc.aio
from sqlalchemy import Table

from cc_common import config, db, metrics, notices, revocation, telemetry
from cc_common.grpc_server import ServerSpec, run_until_terminated
from cc_common.grpc_server import create_server as _create_server
from cc_common.logs import configure as configure_logging
from cc_common.outbox import Dispatcher, Transport, transport_from_env
from cc_common.settings import ServiceSettings as ServiceEnv
from cc_common.settings import SharedSettings
from cc_common.tokens import TokenVerifier


@dataclass(frozen=True)
class ServiceSettings:
    database_url: str
    listen: str
    tokens: config.TokenSettings
    # Where identity-service streams the revocations from (IDENTITY_ADDR).
    identity_addr: str = config.DEFAULT_IDENTITY_ADDR
    # The gateway's public address, for links in mails (PUBLIC_BASE_URL; never a request's Host).
    public_base_url: str = notices.DEFAULT_BASE_URL
    # How mails leave the outbox; None: cc_common.outbox.transport_from_env() (SMTP_HOST or files).
    mail_transport: Transport | None = field(default=None, compare=False)
    # mTLS of the server and of the revocation stream (GRPC_TLS_*); None: plaintext.
    tls: config.GrpcTls | None = None

    # The service's short name ("package"): its default database and its `<NAME>_ADDR`.
    SERVICE: ClassVar[str] = ""

    @classmethod
    def from_env(cls) -> ServiceSettings:
        addresses = config.ServiceAddresses.from_env()
        return cls(
            database_url=ServiceEnv.load().database_url or config.default_database_url(cls.SERVICE),
            listen=config.listen_address(getattr(addresses, cls.SERVICE), f"{cls.SERVICE.upper()}_ADDR"),
            tokens=config.TokenSettings.from_env(),
            identity_addr=addresses.identity,
            public_base_url=SharedSettings.load().public_base_url or notices.DEFAULT_BASE_URL,
            tls=config.GrpcTls.from_env(),
        )


# What create_server returns: (server, port, health, watcher, *extras), the extras being the
# outbox dispatcher and the background jobs, each with a stop().
CreatedServer: TypeAlias = "tuple[grpc.aio.Server, int, Any, revocation.RevocationWatcher, *tuple[Any, ...]]"


@dataclass(frozen=True)
class PlainService:
    """What differs between plain services: names, migrations, unit of work and servicer."""

    name: str
    service_name: str  # the full gRPC service name, for health and reflection
    migrations: Path
    unit_of_work: Callable[..., Any]
    servicer: Callable[..., Any]  # uow factory (with an outbox: public_base_url, on_mail) -> servicer
    add_to_server: Callable[[Any, Any], None]
    outbox: Table | None = None  # the service's mail outbox table, if it sends mails
    # Work beside the server (started here, stopped at shutdown): (uow factory, settings) ->
    # started jobs with a stop() (e.g. cc_common.periodic.Periodic).
    background: Callable[[Callable[[], Any], ServiceSettings], tuple[Any, ...]] | None = None
    # More keyword arguments of the servicer (its adapters), read from the environment.
    servicer_options: Callable[[], dict[str, Any]] | None = None

    async def create_server(self, address: str, settings: ServiceSettings) -> CreatedServer:
        """Builds the server (migrated database, servicer, health, reflection) bound to address.
        Returns (server, port, health, watcher), and with an outbox also its dispatcher
        (already started); `watcher` (the revocation replica, already started) and the
        dispatcher are stopped at shutdown."""
        db.upgrade(settings.database_url, self.migrations)
        engine = db.make_engine(settings.database_url)
        metrics.watch_database(engine, self.name, outbox=self.outbox)
        watcher = revocation.start_replica(settings.identity_addr, settings.tokens, self.name, settings.tls)
        uow_factory = partial(self.unit_of_work, db.make_session_factory(engine))
        extras: tuple[Any, ...] = ()
        options = self.servicer_options() if self.servicer_options else {}
        if self.outbox is None:
            servicer = self.servicer(uow_factory, **options)
        else:
            base_url = notices.check_base_url(settings.public_base_url)
            dispatcher = Dispatcher(
                engine, self.outbox, settings.mail_transport or transport_from_env()
            ).start()
            servicer = self.servicer(
                uow_factory, public_base_url=base_url, on_mail=dispatcher.wake, **options
            )
            extras = (dispatcher,)
        if self.background is not None:
            extras = (*extras, *self.background(uow_factory, settings))
        spec = ServerSpec(
            registrations=[(self.add_to_server, servicer)],
            service_names=[self.service_name],
            verifier=TokenVerifier.from_settings(settings.tokens, revocation=watcher.state),
            tls=settings.tls,
        )
        server, port, health = await _create_server(address, spec)
        return (server, port, health, watcher, *extras)

    def serve(self, settings_from_env: Callable[[], ServiceSettings]) -> None:
        """`python -m <name>_service`: refuses unsafe production settings first, then reads the
        settings and serves until SIGTERM."""
        config.refuse_unsafe_production_settings(self.name)
        configure_logging(self.name)  # one JSON object per line on stderr (LOG_FORMAT, LOG_LEVEL)
        settings = settings_from_env()
        telemetry.setup(self.name)

        async def main() -> None:
            server, port, health, watcher, *extras = await self.create_server(settings.listen, settings)
            logging.info("%s-service listening on port %d", self.name, port)
            metrics.serve_metrics(self.name)  # /metrics on METRICS_PORT (cc_common.metrics)

            async def stopping() -> None:
                watcher.stop()

            try:
                await run_until_terminated(server, health, [self.service_name], on_stopping=stopping)
            finally:
                for extra in extras:  # the outbox dispatcher, background jobs
                    await asyncio.to_thread(extra.stop)

        asyncio.run(main())
