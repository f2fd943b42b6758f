"""The unit of work: a context manager that rolls back unless `commit()` is called
(after cosmicpython `service_layer/unit_of_work.py`). Services subclass it and attach their
repositories in `_open`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker


class SqlAlchemyUnitOfWork:
    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Any:
        self.session = self._session_factory()
        self._open(self.session)
        return self

    def _open(self, session: Session) -> None:  # pragma: no cover - overridden
        """Attach repositories to the session."""

    def __exit__(self, *exc: object) -> None:
        self.session.rollback()
        self.session.close()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A plain pooled connection for a read-only query on a hot path (a "view", as in
        cosmicpython's views.py): no ORM session to open, flush and roll back."""
        with self._session_factory.kw["bind"].connect() as connection:
            yield connection

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
