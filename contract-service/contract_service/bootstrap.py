"""Composition root of contract-service: its parts named here, composed by cc_common.service
(settings from the environment, migrations, engine, unit of work, servicer, revocation replica,
graceful stop) and the mail dispatcher of its outbox (notices of e-mail and payment changes:
SMTP_HOST, SMTP_PORT, MAIL_FROM, OUTBOX_MAX_ATTEMPTS; PUBLIC_BASE_URL for the e-mail restore
link). Nothing is opened at import time."""

from __future__ import annotations

from pathlib import Path

from cc_common.service import PlainService, ServiceSettings
from customercenter.v2 import contract_pb2, contract_pb2_grpc

from contract_service.adapters.orm import outbox
from contract_service.entrypoints.grpc_server import ContractServicer
from contract_service.service_layer.unit_of_work import ContractUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = contract_pb2.DESCRIPTOR.services_by_name["ContractService"].full_name

SERVICE = PlainService(
    name="contract",
    service_name=SERVICE_NAME,
    migrations=MIGRATIONS,
    unit_of_work=ContractUnitOfWork,
    servicer=ContractServicer,
    add_to_server=contract_pb2_grpc.add_ContractServiceServicer_to_server,
    outbox=outbox,
)


class Settings(ServiceSettings):
    SERVICE = "contract"


async def create_server(address: str, settings: ServiceSettings | None = None):
    """(server, port, health, watcher) bound to address; see PlainService.create_server."""
    return await SERVICE.create_server(address, settings or Settings.from_env())


def serve() -> None:
    SERVICE.serve(Settings.from_env)
