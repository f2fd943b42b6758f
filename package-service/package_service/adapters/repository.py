"""Reading and writing packages; hides the session from the service layer."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from package_service.adapters.orm import AppliedTransferRow, DomainRow, MergeTransferRow, PackageRow
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

    # merge transfers: set-based, one statement per table ----------------------------------
    def applied_transfer(self, merge_id: str, direction: str) -> list[str] | None:
        row = self.session.get(AppliedTransferRow, (merge_id, direction))
        if row is None:
            return None
        return [i for i in row.moved_ids.split(",") if i]

    def transfer_forward(self, merge_id: str, source: str, target: str) -> list[str]:
        self.session.execute(
            insert(MergeTransferRow).from_select(
                ["merge_id", "package_id"],
                select(func.cast(merge_id, MergeTransferRow.merge_id.type), PackageRow.id).where(
                    PackageRow.customer_number == source
                ),
            )
        )
        moved = select(MergeTransferRow.package_id).where(MergeTransferRow.merge_id == merge_id)
        self.session.execute(
            update(PackageRow)
            .where(PackageRow.id.in_(moved), PackageRow.customer_number == source)
            .values(customer_number=target)
            .execution_options(synchronize_session=False)
        )
        return list(self.session.scalars(moved.order_by(MergeTransferRow.package_id)))

    def transfer_reverse(self, merge_id: str, source: str, target: str) -> list[str]:
        moved = select(MergeTransferRow.package_id).where(MergeTransferRow.merge_id == merge_id)
        back = list(
            self.session.scalars(
                select(PackageRow.id)
                .where(PackageRow.id.in_(moved), PackageRow.customer_number == target)
                .order_by(PackageRow.id)
            )
        )
        self.session.execute(
            update(PackageRow)
            .where(PackageRow.id.in_(moved), PackageRow.customer_number == target)
            .values(customer_number=source)
            .execution_options(synchronize_session=False)
        )
        return back

    def record_applied(self, merge_id: str, direction: str, ids: list[str]) -> None:
        self.session.add(AppliedTransferRow(merge_id=merge_id, direction=direction, moved_ids=",".join(ids)))
        self.session.flush()

    def count_by_owner(self, owners: list[str]) -> dict[str, int]:
        stmt = select(PackageRow.customer_number, func.count()).group_by(PackageRow.customer_number)
        if owners:
            stmt = stmt.where(PackageRow.customer_number.in_(owners))
        return {owner: count for owner, count in self.session.execute(stmt)}
