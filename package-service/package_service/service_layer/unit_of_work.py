"""The unit of work of package-service and a fake for unit tests."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from cc_common.uow import SqlAlchemyUnitOfWork
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from package_service.adapters.repository import PackageRepository


class UnitOfWork(Protocol):
    packages: PackageRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def reading(self) -> AbstractContextManager[Connection]: ...


class PackageUnitOfWork(SqlAlchemyUnitOfWork):
    packages: PackageRepository

    def _open(self, session: Session) -> None:
        self.packages = PackageRepository(session)
