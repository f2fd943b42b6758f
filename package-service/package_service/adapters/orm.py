"""The tables of package-service (SQLAlchemy 2 typed declarative models)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class PackageRow(Base):
    __tablename__ = "packages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20), index=True)
    product: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    storage_used_gb: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    mailboxes_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    databases_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    domains: Mapped[list[DomainRow]] = relationship(
        back_populates="package",
        order_by="DomainRow.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    settings: Mapped[list[PackageSettingRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PackageSettingRow.key"
    )
    # The add-ons belong to the package row: a merge's transfer (the owner's number changes)
    # and the package's end take them along.
    addons: Mapped[list[AddonRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="(AddonRow.ordered_at, AddonRow.id)"
    )


class DomainRow(Base):
    __tablename__ = "domains"

    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    package: Mapped[PackageRow] = relationship(back_populates="domains")


class MergeTransferRow(Base):
    """The ids of the packages a merge moved (for the idempotent repeat and the reversal)."""

    __tablename__ = "merge_transfers"

    merge_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class AppliedTransferRow(Base):
    """One row per merge and direction that has been applied."""

    __tablename__ = "applied_transfers"

    merge_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)  # forward, reverse
    moved_ids: Mapped[str] = mapped_column(Text, default="")
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PackageSettingRow(Base):
    """One technical setting of a package (php_version, https_redirect, ...)."""

    __tablename__ = "package_settings"

    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(100))


class ProductChangeRow(Base):
    """One upgrade or downgrade of a package, with who made it."""

    __tablename__ = "product_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"), index=True)
    from_product: Mapped[str] = mapped_column(String(40))
    to_product: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(10))  # upgrade, downgrade
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(80))  # the caller's subject


class AddonRow(Base):
    """An additional service of a package (extra_domain_slot, mailbox_pack, database) with the
    monthly price it was ordered at."""

    __tablename__ = "addons"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # active, terminated (a termination is in place until ends_at), ended.
    status: Mapped[str] = mapped_column(String(20), default="active")
    ordered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ends_at: Mapped[date | None] = mapped_column(Date, nullable=True)
