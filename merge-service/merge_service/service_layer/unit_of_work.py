"""The unit of work of merge-service."""

from __future__ import annotations

from typing import Protocol

from cc_common.uow import SqlAlchemyUnitOfWork
from sqlalchemy.orm import Session

from merge_service.adapters.repository import MergeRepository


class UnitOfWork(Protocol):
    merges: MergeRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class MergeUnitOfWork(SqlAlchemyUnitOfWork):
    merges: MergeRepository

    def _open(self, session: Session) -> None:
        self.merges = MergeRepository(session)
