"""The tables of package-service (SQLAlchemy 2 typed declarative models)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class PackageRow(Base):
    __tablename__ = "packages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20), index=True)
    product: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    domains: Mapped[list["DomainRow"]] = relationship(
        back_populates="package", order_by="DomainRow.position", cascade="all, delete-orphan",
        lazy="selectin",
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
