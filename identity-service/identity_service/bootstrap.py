"""Composition root of identity-service: settings in, dependencies built, server out.
Nothing is opened at import time.

Environment: DATABASE_URL, LISTEN_ADDR (default IDENTITY_ADDR, 127.0.0.1:50051), the JWT_* /
SERVICE_* key files of cc_common.config, STAFF_USERNAME and STAFF_PASSWORD (the first staff
account, created or updated on start-up; the default password is refused with
APP_ENV=production), the LOGIN_* throttling limits (see domain/throttling.py) and
REVOCATION_ACK_TIMEOUT_SECONDS (how long a revoking RPC waits for the watchers' acks, 1.0),
REVOCATION_REPLICA_TTL_SECONDS (PostgreSQL only: after how long without a heartbeat another
identity copy is presumed dead and no longer waited for, 5.0; see
service_layer/replicated_hub.py),
the password reset settings PASSWORD_RESET_TTL_SECONDS (1800), PASSWORD_RESET_MAX_MAILS_PER_HOUR
(3), PASSWORD_RESET_MAX_VALID_LINKS (3), PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS (10, per hour;
see domain/password_reset.py) and PUBLIC_BASE_URL (the gateway's address for the links in reset mails, always this
setting and never the base_url of a request; http://127.0.0.1:8000), and the mail delivery of cc_common.outbox: SMTP_HOST,
SMTP_PORT (without SMTP_HOST mails are written to VAR_DIR/mail as .eml files), MAIL_FROM,
OUTBOX_MAX_ATTEMPTS.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import grpc.aio
from cc_common import config, db, metrics, telemetry
from cc_common.grpc_server import ServerSpec, run_until_terminated
from cc_common.grpc_server import create_server as _create_server
from cc_common.logs import configure as configure_logging
from cc_common.outbox import Dispatcher, Transport, transport_from_env
from cc_common.revocation import RevocationState
from cc_common.settings import IdentityEnv, ServiceSettings, SharedSettings
from cc_common.tokens import TokenVerifier
from customercenter.v2 import identity_pb2, identity_pb2_grpc
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from identity_service.adapters.orm import outbox
from identity_service.adapters.passwords import Argon2Hasher
from identity_service.domain import password_reset
from identity_service.domain.throttling import LoginLimits
from identity_service.entrypoints.grpc_server import IdentityServicer
from identity_service.service_layer import services
from identity_service.service_layer.replicated_hub import ReplicatedRevocationHub
from identity_service.service_layer.revocation_hub import RevocationHub
from identity_service.service_layer.unit_of_work import IdentityUnitOfWork, UnitOfWork

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
    # The staff account's TOTP secret (base32); empty: none from configuration (development).
    staff_totp_secret: str = ""
    limits: LoginLimits = field(default_factory=LoginLimits)
    revocation_ack_timeout: float = 1.0
    revocation_replica_ttl: float = 5.0
    reset_policy: password_reset.ResetPolicy = field(default_factory=password_reset.ResetPolicy)
    public_base_url: str = password_reset.DEFAULT_BASE_URL
    # How mails leave the outbox; None: cc_common.outbox.transport_from_env() (SMTP_HOST or files).
    mail_transport: Transport | None = field(default=None, compare=False)
    # mTLS of the gRPC server (GRPC_TLS_*); None: plaintext.
    tls: config.GrpcTls | None = None

    @classmethod
    def from_env(cls) -> Settings:
        addr = config.ServiceAddresses.from_env().identity
        env = IdentityEnv.load()
        settings = cls(
            database_url=ServiceSettings.load().database_url or config.default_database_url("identity"),
            listen=config.listen_address(addr, "IDENTITY_ADDR"),
            tokens=config.TokenSettings.from_env(),
            staff_username=env.staff_username,
            staff_password=env.staff_password,
            staff_totp_secret=env.staff_totp_secret,
            limits=LoginLimits(
                max_failures_per_account=env.login_max_failures_per_account,
                max_failures_per_address=env.login_max_failures_per_address,
                window_seconds=env.login_failure_window_seconds,
                lockout_seconds=env.login_lockout_seconds,
                challenge_ttl_seconds=env.second_factor_challenge_ttl_seconds,
            ),
            revocation_ack_timeout=env.revocation_ack_timeout_seconds,
            revocation_replica_ttl=env.revocation_replica_ttl_seconds,
            reset_policy=password_reset.ResetPolicy(
                ttl_seconds=env.password_reset_ttl_seconds,
                max_mails_per_hour=env.password_reset_max_mails_per_hour,
                max_valid_links=env.password_reset_max_valid_links,
                max_requests_per_address=env.password_reset_max_requests_per_address,
            ),
            public_base_url=SharedSettings.load().public_base_url or password_reset.DEFAULT_BASE_URL,
            tls=config.GrpcTls.from_env(),
        )
        settings.check(production=config.is_production())
        return settings

    def check(self, *, production: bool) -> None:
        """Refuses the default staff password outside development."""
        if production and self.staff_password == DEFAULT_STAFF_PASSWORD:
            raise RuntimeError(
                "Set STAFF_PASSWORD: the default staff password is refused with APP_ENV=production."
            )
        limits = self.limits
        if (
            min(
                limits.max_failures_per_account,
                limits.max_failures_per_address,
                limits.window_seconds,
                limits.lockout_seconds,
            )
            < 1
        ):
            raise RuntimeError("The LOGIN_* limits must be positive integers.")
        if not self.revocation_replica_ttl > 0:
            raise RuntimeError("REVOCATION_REPLICA_TTL_SECONDS must be positive.")
        reset = self.reset_policy
        if (
            min(
                reset.ttl_seconds,
                reset.max_mails_per_hour,
                reset.max_valid_links,
                reset.max_requests_per_address,
            )
            < 1
        ):
            raise RuntimeError("The PASSWORD_RESET_* settings must be positive integers.")
        try:
            password_reset.check_base_url(self.public_base_url, password_reset.DEFAULT_BASE_URL)
        except Exception as exc:
            raise RuntimeError(f"PUBLIC_BASE_URL is not an http(s) URL: {self.public_base_url!r}") from exc


@dataclass
class Runtime:
    """What runs beside the gRPC server: the mail dispatcher of the outbox (reset mails), and
    on PostgreSQL the exchange of revocations with the other identity copies (running from
    `create_server` on). `start()` once the server is up, `stop()` on shutdown."""

    dispatcher: Dispatcher
    replication: ReplicatedRevocationHub | None = None
    started: bool = False
    stop_with_server = True  # cc_common.testing.ServerThread stops it with the server

    def start(self) -> None:
        if not self.started:
            self.dispatcher.start()
            self.started = True

    def stop(self) -> None:
        if self.replication is not None:
            self.replication.stop()
        if self.started:
            self.dispatcher.stop()
            self.started = False


def replica_id() -> str:
    """This copy's name among the identity copies: host, process id and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def create_hub(
    settings: Settings, engine: Engine, uow_factory: Callable[[], UnitOfWork], local: RevocationState
) -> RevocationHub:
    """The revocation hub of this copy, with `local` loaded. SQLite: the in-process hub (one
    copy). PostgreSQL: the replicated hub, listening to the other copies before it reads the
    state (service_layer/replicated_hub.py)."""
    if engine.dialect.name != "postgresql":
        hub = RevocationHub(ack_timeout=settings.revocation_ack_timeout, local=local)
        hub.load(services.revocation_snapshot(uow=uow_factory(), now=int(time.time())))
        return hub
    from identity_service.adapters.pg_revocations import PgChangeFeed

    name = replica_id()
    snapshot_sessions = db.make_session_factory(engine.execution_options(isolation_level="REPEATABLE READ"))
    hub = ReplicatedRevocationHub(
        ack_timeout=settings.revocation_ack_timeout,
        local=local,
        feed=PgChangeFeed(settings.database_url, name=f"identity-revocations {name}"),
        uow_factory=uow_factory,
        snapshot_uow_factory=partial(IdentityUnitOfWork, snapshot_sessions),
        replica_id=name,
        ttl=settings.revocation_replica_ttl,
    )
    await hub.start()
    return hub


def watch_hub(hub: RevocationHub) -> None:
    """The revocation gauges of cc_common.metrics read this copy's hub at scrape time."""
    metrics.REVOCATION_PUBLISHED.set_function(lambda: hub.published)
    metrics.REVOCATION_WATCHERS.set_function(lambda: hub.watcher_count)
    metrics.REVOCATION_WATCHER_LAG.set_function(hub.watcher_lag)


async def create_server(
    address: str, settings: Settings | None = None
) -> tuple[grpc.aio.Server, int, Any, RevocationHub, Runtime]:
    """Builds the server (migrated database, first staff account, servicer, health,
    reflection) bound to address. Returns (server, port, health, hub, runtime); the caller
    starts `runtime` (the mail dispatcher) with the server and stops it at the end."""
    settings = settings or Settings.from_env()
    settings.check(production=config.is_production())
    db.upgrade(settings.database_url, MIGRATIONS)
    engine = db.make_engine(settings.database_url)
    metrics.watch_database(engine, "identity", outbox=outbox)
    uow_factory = partial(IdentityUnitOfWork, db.make_session_factory(engine))
    hasher = Argon2Hasher()
    # A rotated STAFF_PASSWORD revokes the staff tokens issued before, in the transaction of the
    # new hash; the revocation state is read below, and watchers get it in their snapshot.
    try:
        services.ensure_staff_account(
            uow=uow_factory(),
            hasher=hasher,
            username=settings.staff_username,
            password=settings.staff_password,
        )
    except IntegrityError:
        # Another copy starting at the same moment created the account first: look again.
        services.ensure_staff_account(
            uow=uow_factory(),
            hasher=hasher,
            username=settings.staff_username,
            password=settings.staff_password,
        )
    # The staff second factor from STAFF_TOTP_SECRET (required in production; docs/passwords-and-sessions.md).
    try:
        services.ensure_staff_second_factor(
            uow=uow_factory(), username=settings.staff_username, secret=settings.staff_totp_secret
        )
    except IntegrityError:  # another copy starting at the same moment stored it first
        services.ensure_staff_second_factor(
            uow=uow_factory(), username=settings.staff_username, secret=settings.staff_totp_secret
        )
    # identity verifies tokens against its own revocation state, in process: loaded here (the
    # server is not serving yet, so nothing changes meanwhile) and updated by hub.publish.
    local = RevocationState()
    hub = await create_hub(settings, engine, uow_factory, local)
    watch_hub(hub)
    dispatcher = Dispatcher(engine, outbox, settings.mail_transport or transport_from_env())
    servicer = IdentityServicer(
        uow_factory,
        hasher,
        settings.limits,
        hub,
        reset_policy=settings.reset_policy,
        public_base_url=settings.public_base_url,
        on_mail=dispatcher.wake,
    )
    spec = ServerSpec(
        registrations=[(identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=TokenVerifier.from_settings(settings.tokens, revocation=local),
        tls=settings.tls,
    )
    server, port, health = await _create_server(address, spec)
    replication = hub if isinstance(hub, ReplicatedRevocationHub) else None
    return server, port, health, hub, Runtime(dispatcher, replication)


def hash_threads() -> int:
    """HASH_THREADS, else one thread per core."""
    return IdentityEnv.load().hash_threads or (os.cpu_count() or 2)


def serve() -> None:
    config.refuse_unsafe_production_settings("identity")
    configure_logging("identity")  # one JSON object per line on stderr (LOG_FORMAT, LOG_LEVEL)
    settings = Settings.from_env()
    telemetry.setup("identity")

    async def main() -> None:
        # Password hashing runs in these threads (argon2 releases the GIL). One thread per core:
        # more would only make the 19 MiB hashes fight over the same cores and caches.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=hash_threads(), thread_name_prefix="argon2")
        )
        server, port, health, hub, runtime = await create_server(settings.listen, settings)
        logging.info("identity-service listening on port %d", port)
        metrics.serve_metrics("identity")  # /metrics on METRICS_PORT (cc_common.metrics)

        async def started() -> None:
            runtime.start()

        async def stopping() -> None:
            hub.close()  # ends the watch streams, so the graceful stop does not wait for them

        try:
            await run_until_terminated(
                server, health, [SERVICE_NAME], on_started=started, on_stopping=stopping
            )
        finally:
            await asyncio.to_thread(runtime.stop)

    asyncio.run(main())
