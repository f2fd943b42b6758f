"""Composition root of package-service: its parts named here, composed by cc_common.service
(settings from the environment, migrations, engine, unit of work, servicer, revocation replica,
graceful stop). Nothing is opened at import time."""

from __future__ import annotations

from pathlib import Path

from cc_common.service import CreatedServer, PlainService, ServiceSettings
from customercenter.v2 import package_pb2, package_pb2_grpc

from package_service.entrypoints.grpc_server import PackageServicer
from package_service.service_layer.unit_of_work import PackageUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = package_pb2.DESCRIPTOR.services_by_name["PackageService"].full_name

SERVICE = PlainService(
    name="package",
    service_name=SERVICE_NAME,
    migrations=MIGRATIONS,
    unit_of_work=PackageUnitOfWork,
    servicer=PackageServicer,
    add_to_server=package_pb2_grpc.add_PackageServiceServicer_to_server,
)


class Settings(ServiceSettings):
    SERVICE = "package"


async def create_server(address: str, settings: ServiceSettings | None = None) -> CreatedServer:
    """(server, port, health, watcher) bound to address; see PlainService.create_server."""
    return await SERVICE.create_server(address, settings or Settings.from_env())


def serve() -> None:
    SERVICE.serve(Settings.from_env)
