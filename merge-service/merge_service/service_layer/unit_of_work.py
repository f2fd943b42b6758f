"""The unit of work of merge-service."""

from __future__ import annotations

from cc_common.uow import SqlAlchemyUnitOfWork
from sqlalchemy.orm import Session

from merge_service.adapters.repository import MergeRepository


class MergeUnitOfWork(SqlAlchemyUnitOfWork):
    merges: MergeRepository

    def _open(self, session: Session) -> None:
        self.merges = MergeRepository(session)
