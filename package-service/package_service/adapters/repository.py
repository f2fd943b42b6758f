"""Reading and writing packages; hides the session from the service layer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from package_service.adapters.orm import DomainRow, PackageRow
from package_service.domain.model import Package


def _to_domain(row: PackageRow) -> Package:
    return Package(
        id=row.id,
        customer_number=row.customer_number,
        product=row.product,
        status=row.status,
        created_at=row.created_at,
        domains=[d.name for d in row.domains],
    )


class PackageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, package: Package) -> None:
        row = PackageRow(
            id=package.id,
            customer_number=package.customer_number,
            product=package.product,
            status=package.status,
            domains=[DomainRow(name=d, position=i) for i, d in enumerate(package.domains)],
        )
        self.session.add(row)
        self.session.flush()
        package.created_at = row.created_at

    def get(self, package_id: str) -> Package | None:
        row = self.session.get(PackageRow, package_id)
        return _to_domain(row) if row else None

    def list_for_customer(self, customer_number: str) -> list[Package]:
        rows = self.session.scalars(
            select(PackageRow)
            .where(PackageRow.customer_number == customer_number)
            .order_by(PackageRow.created_at, PackageRow.id)
        )
        return [_to_domain(r) for r in rows]

    def taken_domains(self, names: list[str]) -> list[str]:
        return list(self.session.scalars(select(DomainRow.name).where(DomainRow.name.in_(names))))

    def by_domain(self, name: str) -> Package | None:
        row = self.session.scalar(
            select(PackageRow).join(DomainRow).where(DomainRow.name == name)
        )
        return _to_domain(row) if row else None
