"""contract-service's use cases on a real, migrated database (SQLite or PostgreSQL, from the
`database_url` fixture) without a server: a unit-of-work factory, and callers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from cc_common import db
from cc_common.tokens import Principal
from contract_service.service_layer.unit_of_work import ContractUnitOfWork
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "contract-service" / "contract_service" / "migrations"


def principal(kind: str, number: str | None = None, package: str | None = None) -> Principal:
    """A verified caller: `principal("customer", "100")`, `principal("package", package="pkg_7")`."""
    return Principal(
        kind=kind, subject=f"{kind}:{number or package or 'x'}", jti="j", generation=0, expires_at=0,
        issued_at=0, customer_number=number, package_id=package,
    )  # fmt: skip


def contract_database(url: str) -> Iterator[tuple[Callable[[], ContractUnitOfWork], Engine]]:
    """(unit-of-work factory, engine) of a freshly migrated contract database at `url`."""
    db.upgrade(url, MIGRATIONS)
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    yield (lambda: ContractUnitOfWork(factory)), engine
    engine.dispose()
