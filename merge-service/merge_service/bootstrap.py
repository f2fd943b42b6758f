"""Composition root of merge-service: settings in, dependencies built, server out.
Nothing is opened at import time. Every copy polls for merges left `executing` (or
`reversing`) whose saga lease is free or expired, and finishes them (docs/merge-saga.md)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import grpc.aio
from cc_common import config, db, metrics, telemetry
from cc_common.grpc_server import ServerSpec, run_until_terminated
from cc_common.grpc_server import create_server as _create_server
from cc_common.logs import configure as configure_logging
from cc_common.outbox import Dispatcher, transport_from_env
from cc_common.revocation import RevocationWatcher, start_replica
from cc_common.settings import MergeEnv, ServiceSettings, SharedSettings
from cc_common.tokens import ServiceCredential, TokenVerifier
from customercenter.v2 import merge_pb2, merge_pb2_grpc

from merge_service.adapters.clients import GrpcBackends
from merge_service.adapters.orm import MergeRow, outbox
from merge_service.entrypoints.grpc_server import MergeServicer
from merge_service.service_layer.saga import SagaRunner
from merge_service.service_layer.services import AgreementPolicy
from merge_service.service_layer.unit_of_work import MergeUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = merge_pb2.DESCRIPTOR.services_by_name["MergeService"].full_name


@dataclass(frozen=True)
class Settings:
    database_url: str
    listen: str
    tokens: config.TokenSettings
    addresses: config.ServiceAddresses
    auto_review: bool
    timeout: float
    # A merge proven with a package password: the objection link's base, and the waiting period.
    public_base_url: str = "http://127.0.0.1:8000"
    objection_hours: int = 72
    # mTLS of the server and of every channel to the other services (GRPC_TLS_*); None: plaintext.
    tls: config.GrpcTls | None = None
    # The saga lease of one copy on a merge (renewed while it works; after a copy died another
    # one takes over once it has expired), and how often every copy looks for due sagas.
    lease_seconds: float = 15.0
    poll_seconds: float = 1.0

    @classmethod
    def from_env(cls) -> Settings:
        addresses = config.ServiceAddresses.from_env()
        env = MergeEnv.load()
        if env.merge_review not in ("manual", "auto"):
            raise RuntimeError("MERGE_REVIEW must be 'manual' or 'auto'")
        return cls(
            database_url=ServiceSettings.load().database_url or config.default_database_url("merge"),
            listen=config.listen_address(addresses.merge, "MERGE_ADDR"),
            tokens=config.TokenSettings.from_env(),
            addresses=addresses,
            auto_review=env.merge_review == "auto",
            timeout=config.grpc_timeout(),
            public_base_url=SharedSettings.load().public_base_url or "http://127.0.0.1:8000",
            objection_hours=env.merge_objection_hours,
            tls=config.GrpcTls.from_env(),
            lease_seconds=_positive("MERGE_LEASE_SECONDS", env.merge_lease_seconds),
            poll_seconds=_positive("MERGE_POLL_SECONDS", env.merge_poll_seconds),
        )


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise RuntimeError(f"{name} must be greater than 0")
    return value


@dataclass
class Runtime:
    saga: SagaRunner
    dispatcher: Dispatcher
    revocations: RevocationWatcher

    def start(self) -> None:
        self.dispatcher.start()
        self.saga.start()

    def stop(self) -> None:
        self.saga.stop()
        self.dispatcher.stop()
        self.revocations.stop()


async def create_server(
    address: str, settings: Settings | None = None
) -> tuple[grpc.aio.Server, int, Any, Runtime]:
    """Builds the server bound to address; returns (server, port, health, runtime).
    `runtime.start()` starts the saga runner (it polls for due sagas) and the mail dispatcher."""
    settings = settings or Settings.from_env()
    db.upgrade(settings.database_url, MIGRATIONS)
    engine = db.make_engine(settings.database_url)
    metrics.watch_database(engine, "merge", outbox=outbox, merges=MergeRow.__table__)
    uow_factory = partial(MergeUnitOfWork, db.make_session_factory(engine))
    backends = GrpcBackends(
        identity_addr=settings.addresses.identity,
        contract_addr=settings.addresses.contract,
        package_addr=settings.addresses.package,
        credential=ServiceCredential.from_settings(settings.tokens, "merge"),
        timeout=settings.timeout,
        tls=settings.tls,
    )
    dispatcher = Dispatcher(engine, outbox, transport_from_env())
    # Revoked tokens (logout, password change, a retired number) are refused here too.
    watcher = start_replica(settings.addresses.identity, settings.tokens, "merge", settings.tls)
    saga = SagaRunner(
        uow_factory,
        backends,
        on_mail=dispatcher.wake,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.poll_seconds,
    )
    agreement = AgreementPolicy(
        public_base_url=settings.public_base_url, objection_period=timedelta(hours=settings.objection_hours)
    )
    servicer = MergeServicer(
        uow_factory,
        backends,
        saga,
        auto_review=settings.auto_review,
        agreement=agreement,
        on_mail=dispatcher.wake,
    )
    spec = ServerSpec(
        registrations=[(merge_pb2_grpc.add_MergeServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=TokenVerifier.from_settings(settings.tokens, revocation=watcher.state),
        tls=settings.tls,
    )
    server, port, health = await _create_server(address, spec)
    return server, port, health, Runtime(saga, dispatcher, watcher)


def serve() -> None:
    config.refuse_unsafe_production_settings("merge")
    configure_logging("merge")  # one JSON object per line on stderr (LOG_FORMAT, LOG_LEVEL)
    settings = Settings.from_env()
    telemetry.setup("merge")

    async def main() -> None:
        server, port, health, runtime = await create_server(settings.listen, settings)
        logging.info(
            "merge-service listening on port %d (review: %s)",
            port,
            "auto" if settings.auto_review else "manual",
        )
        metrics.serve_metrics("merge")  # /metrics on METRICS_PORT (cc_common.metrics)

        async def started() -> None:
            runtime.start()

        async def stopping() -> None:
            await asyncio.to_thread(runtime.stop)

        await run_until_terminated(server, health, [SERVICE_NAME], on_started=started, on_stopping=stopping)

    asyncio.run(main())
