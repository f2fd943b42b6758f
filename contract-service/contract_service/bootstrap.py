"""Composition root of contract-service: its parts named here, composed by cc_common.service
(settings from the environment, migrations, engine, unit of work, servicer, revocation replica,
graceful stop) and the mail dispatcher of its outbox (notices of e-mail and payment changes:
SMTP_HOST, SMTP_PORT, MAIL_FROM, OUTBOX_MAX_ATTEMPTS; PUBLIC_BASE_URL for the e-mail restore
link), the card payment provider (CARD_PAYMENTS) and the job that carries out due terminations
(TERMINATIONS_POLL_SECONDS). Nothing is opened at import time."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from cc_common import config
from cc_common.periodic import Periodic
from cc_common.service import CreatedServer, PlainService, ServiceSettings
from cc_common.settings import ContractEnv, SharedSettings
from cc_common.tokens import ServiceCredential
from customercenter.v2 import contract_pb2, contract_pb2_grpc

from contract_service.adapters.card_payments import TestCardPayments
from contract_service.adapters.orm import outbox
from contract_service.adapters.package_ends import GrpcPackageEnds
from contract_service.domain.direct_debit import Creditor
from contract_service.entrypoints.grpc_server import ContractServicer
from contract_service.service_layer import terminations
from contract_service.service_layer.unit_of_work import ContractUnitOfWork, UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = contract_pb2.DESCRIPTOR.services_by_name["ContractService"].full_name


def servicer_options() -> dict[str, Any]:
    """The adapters of the servicer: the card payment provider (CARD_PAYMENTS) and the SEPA
    creditor of the direct debit files (SEPA_CREDITOR_*)."""
    env = ContractEnv.load()
    creditor = Creditor(
        name=env.sepa_creditor_name, iban=env.sepa_creditor_iban, bic=env.sepa_creditor_bic,
        creditor_id=env.sepa_creditor_id,
    )  # fmt: skip
    return {"cards": TestCardPayments() if env.card_payments == "test" else None, "creditor": creditor}


def background(uow_factory: Callable[[], UnitOfWork], settings: ServiceSettings) -> tuple[Periodic, ...]:
    """Due terminations are carried out every TERMINATIONS_POLL_SECONDS (0: not here), and
    package-service and identity-service follow them (with contract-service's credential)."""
    interval = ContractEnv.load().terminations_poll_seconds
    if interval <= 0:
        return ()
    ends = GrpcPackageEnds(
        package_addr=config.ServiceAddresses.from_env().package, identity_addr=settings.identity_addr,
        credential=ServiceCredential.from_settings(settings.tokens, "contract"),
        timeout=SharedSettings.load().grpc_timeout_seconds, tls=settings.tls,
    )  # fmt: skip
    job = partial(terminations.run, uow_factory=uow_factory, ends=ends)
    return (Periodic("terminations", interval, job, on_stop=ends.close).start(),)


SERVICE = PlainService(
    name="contract",
    service_name=SERVICE_NAME,
    migrations=MIGRATIONS,
    unit_of_work=ContractUnitOfWork,
    servicer=ContractServicer,
    add_to_server=contract_pb2_grpc.add_ContractServiceServicer_to_server,
    outbox=outbox,
    background=background,
    servicer_options=servicer_options,
)


class Settings(ServiceSettings):
    SERVICE = "contract"


async def create_server(address: str, settings: ServiceSettings | None = None) -> CreatedServer:
    """(server, port, health, watcher) bound to address; see PlainService.create_server."""
    return await SERVICE.create_server(address, settings or Settings.from_env())


def serve() -> None:
    SERVICE.serve(Settings.from_env)
