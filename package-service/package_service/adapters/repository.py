"""Reading and writing packages; hides the session from the service layer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, literal, select, update
from sqlalchemy.orm import Session

from package_service.adapters.orm import (
    AddonRow,
    AppliedTransferRow,
    DomainRow,
    MergeTransferRow,
    PackageRow,
    PackageSettingRow,
    ProductChangeRow,
)
from package_service.domain.model import Addon, Package


def _addon(row: AddonRow) -> Addon:
    return Addon(
        id=row.id,
        package_id=row.package_id,
        kind=row.kind,
        price_cents=row.price_cents,
        currency=row.currency,
        status=row.status,
        ordered_at=row.ordered_at,
        ends_at=row.ends_at,
    )


def _to_domain(row: PackageRow) -> Package:
    return Package(
        id=row.id,
        customer_number=row.customer_number,
        product=row.product,
        status=row.status,
        created_at=row.created_at,
        domains=[d.name for d in row.domains],
        storage_used_gb=row.storage_used_gb,
        mailboxes_used=row.mailboxes_used,
        databases_used=row.databases_used,
        settings={s.key: s.value for s in row.settings},
        addons=[_addon(a) for a in row.addons],
    )


def _list_for_customer_statement() -> Select[Any]:
    p, d = PackageRow.__table__.c, DomainRow.__table__.c
    return (
        select(
            p.id,
            p.customer_number,
            p.product,
            p.status,
            p.created_at,
            p.storage_used_gb,
            p.mailboxes_used,
            p.databases_used,
            d.name,
        )
        .select_from(PackageRow.__table__.outerjoin(DomainRow.__table__, d.package_id == p.id))
        .where(p.customer_number == bindparam("customer_number"))
        .order_by(p.created_at, p.id, d.position)
    )


# Built once: constructing and cache-keying the statement cost more than running it.
_LIST_FOR_CUSTOMER = _list_for_customer_statement()


def _addons_for_customer_statement() -> Select[Any]:
    p, a = PackageRow.__table__.c, AddonRow.__table__.c
    return (
        select(a.id, a.package_id, a.kind, a.price_cents, a.currency, a.status, a.ordered_at, a.ends_at)
        .select_from(AddonRow.__table__.join(PackageRow.__table__, p.id == a.package_id))
        .where(p.customer_number == bindparam("customer_number"), a.status != "ended")
        .order_by(a.ordered_at, a.id)
    )


_ADDONS_FOR_CUSTOMER = _addons_for_customer_statement()


def packages_of(connection: Connection, customer_number: str) -> list[Package]:
    """The hot path of GET /api/v1/packages: one prebuilt query (packages joined with their
    domains) on a plain connection, plain rows, no ORM loading; technical settings are not part
    of a listing."""
    packages: dict[str, Package] = {}
    for row in connection.execute(_LIST_FOR_CUSTOMER, {"customer_number": customer_number}):
        package = packages.get(row.id)
        if package is None:
            package = packages[row.id] = Package(
                id=row.id,
                customer_number=row.customer_number,
                product=row.product,
                status=row.status,
                created_at=row.created_at,
                storage_used_gb=row.storage_used_gb,
                mailboxes_used=row.mailboxes_used,
                databases_used=row.databases_used,
            )
        if row.name is not None:
            package.domains.append(row.name)
    if packages:  # the add-ons that raise the limits (ended ones do not)
        for addon in connection.execute(_ADDONS_FOR_CUSTOMER, {"customer_number": customer_number}):
            packages[addon.package_id].addons.append(
                Addon(
                    id=addon.id,
                    package_id=addon.package_id,
                    kind=addon.kind,
                    price_cents=addon.price_cents,
                    currency=addon.currency,
                    status=addon.status,
                    ordered_at=addon.ordered_at,
                    ends_at=addon.ends_at,
                )
            )
    return list(packages.values())


class PackageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, package: Package) -> None:
        row = PackageRow(id=package.id, customer_number=package.customer_number)
        self.session.add(row)
        self._write(row, package)
        self.session.flush()
        package.created_at = row.created_at

    def save(self, package: Package) -> None:
        """Writes a changed package back: product, status, usage, settings and its domains
        (a domain taken from another package in this unit of work moves with its row)."""
        row = self.session.get(PackageRow, package.id)
        if row is None:
            raise LookupError(package.id)
        self._write(row, package)
        self.session.flush()

    def _write(self, row: PackageRow, package: Package) -> None:
        with self.session.no_autoflush:
            row.product = package.product
            row.status = package.status
            row.storage_used_gb = package.storage_used_gb
            row.mailboxes_used = package.mailboxes_used
            row.databases_used = package.databases_used
            existing = {d.name: d for d in row.domains}
            domains = []
            for position, name in enumerate(package.domains):
                domain = existing.get(name) or self.session.get(DomainRow, name) or DomainRow(name=name)
                domain.position = position
                domains.append(domain)
            row.domains = domains
            stored = {s.key: s for s in row.settings}
            for key, value in package.settings.items():
                if key in stored:
                    stored[key].value = value
                else:
                    row.settings.append(PackageSettingRow(key=key, value=value))
            for key, setting in stored.items():
                if key not in package.settings:
                    row.settings.remove(setting)
            addons = {a.id: a for a in row.addons}
            for addon in package.addons:
                found = addons.get(addon.id)
                if found is None:
                    row.addons.append(
                        AddonRow(
                            id=addon.id,
                            kind=addon.kind,
                            price_cents=addon.price_cents,
                            currency=addon.currency,
                            status=addon.status,
                            ordered_at=addon.ordered_at,
                            ends_at=addon.ends_at,
                        )
                    )
                else:
                    found.status, found.ends_at = addon.status, addon.ends_at

    def record_product_change(
        self, *, package_id: str, from_product: str, to_product: str, direction: str, changed_by: str
    ) -> None:
        self.session.add(
            ProductChangeRow(
                package_id=package_id,
                from_product=from_product,
                to_product=to_product,
                direction=direction,
                changed_by=changed_by,
            )
        )
        self.session.flush()

    def product_changes(self, package_id: str) -> list[tuple[str, str, str, str]]:
        """(from, to, direction, by) of a package's product changes, oldest first."""
        rows = self.session.scalars(
            select(ProductChangeRow)
            .where(ProductChangeRow.package_id == package_id)
            .order_by(ProductChangeRow.id)
        )
        return [(r.from_product, r.to_product, r.direction, r.changed_by) for r in rows]

    def get_for_update(self, package_id: str) -> Package | None:
        """A package, its row locked until the unit of work ends (PostgreSQL; SQLite locks on write)."""
        row = self.session.scalar(
            select(PackageRow)
            .where(PackageRow.id == package_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return _to_domain(row) if row else None

    def get(self, package_id: str) -> Package | None:
        row = self.session.get(PackageRow, package_id)
        return _to_domain(row) if row else None

    def list_for_customer(self, customer_number: str) -> list[Package]:
        return packages_of(self.session.connection(), customer_number)

    def taken_domains(self, names: list[str]) -> list[str]:
        return list(self.session.scalars(select(DomainRow.name).where(DomainRow.name.in_(names))))

    def by_domain(self, name: str) -> Package | None:
        row = self.session.scalar(select(PackageRow).join(DomainRow).where(DomainRow.name == name))
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
                select(func.cast(literal(merge_id), MergeTransferRow.merge_id.type), PackageRow.id).where(
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
