"""The tables of contract-service (SQLAlchemy 2 typed declarative models)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import ClassVar

from cc_common.outbox import outbox_table
from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # Every row class maps one table (DeclarativeBase types it as any FromClause).
    __table__: ClassVar[Table]


class CustomerRow(Base):
    """Master data and payment data of one customer number."""

    __tablename__ = "customers"

    customer_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    market: Mapped[str] = mapped_column(String(2))
    company: Mapped[str] = mapped_column(String(200), default="")
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    street: Mapped[str] = mapped_column(String(200))
    zip: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str] = mapped_column(String(20), default="")
    mobile: Mapped[str] = mapped_column(String(20), default="")
    fax: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="active")
    # For a retired number: the customer number it was merged into; "" otherwise.
    merged_into: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # The language the customer chose for mails and PDFs (en, de, nl); NULL: its market's.
    language: Mapped[str | None] = mapped_column(String(2), nullable=True, default=None)
    # Payment data: "" (none), "sepa" (iban, bic) or "card" (token, last4, expiry).
    payment_method: Mapped[str] = mapped_column(String(10), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    card_token: Mapped[str] = mapped_column(String(200), default="")
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    card_expiry: Mapped[str] = mapped_column(String(5), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InvoiceRow(Base):
    __tablename__ = "invoices"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    customer_number: Mapped[str] = mapped_column(ForeignKey("customers.customer_number"), index=True)
    date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # open, debit_requested, paid (contract_service/domain/direct_debit.py).
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Why the bank returned the last direct debit ("" when none was returned).
    return_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")


class SequenceRow(Base):
    """Named counters (e.g. "invoice"); a row is locked by the UPDATE that takes a value."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer)


class ContractRow(Base):
    """The contract of one package (created when staff creates the package)."""

    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_number: Mapped[str] = mapped_column(ForeignKey("customers.customer_number"), index=True)
    product: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    term_months: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    # active, terminated.
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContractChangeRow(Base):
    """One product change of a contract (an upgrade or downgrade of its package)."""

    __tablename__ = "contract_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    from_product: Mapped[str] = mapped_column(String(100))
    to_product: Mapped[str] = mapped_column(String(100))
    # The caller's subject, e.g. "service:gateway" or "staff:admin".
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TerminationRow(Base):
    """A termination of a package's contract, or of one domain (domain != "") or one add-on
    (addon_id != "") of it."""

    __tablename__ = "terminations"
    __table_args__ = (
        # At most one open termination per package, domain and add-on ("" and "" = the whole
        # package).
        Index(
            "uq_terminations_open",
            "package_id",
            "domain",
            "addon_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_number: Mapped[str] = mapped_column(ForeignKey("customers.customer_number"), index=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"))
    package_id: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(253), default="")
    # One add-on of the package (package-service's id), "" otherwise.
    addon_id: Mapped[str] = mapped_column(String(40), default="", server_default="")
    effective_date: Mapped[date] = mapped_column(Date)
    # open, retracted, done (carried out on its date: contract_service/service_layer/terminations.py).
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    carried_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When package-service and identity-service followed (the package or domain ended, the
    # package's logins revoked); None while that is still to do.
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DebitRequestRow(Base):
    """A customer's request to debit an open invoice again."""

    __tablename__ = "debit_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_number: Mapped[str] = mapped_column(ForeignKey("invoices.number"), index=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # requested (waiting for a collection), collected, paid, returned.
    status: Mapped[str] = mapped_column(String(20), default="requested")
    collection_id: Mapped[str | None] = mapped_column(
        ForeignKey("direct_debit_collections.id"), nullable=True, index=True
    )


class DirectDebitCollectionRow(Base):
    """A SEPA direct debit collection made by staff: the invoices waiting for debit at the time."""

    __tablename__ = "direct_debit_collections"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    collection_date: Mapped[date] = mapped_column(Date)


class DirectDebitItemRow(Base):
    """One invoice of a collection, with the debtor's account as it was collected."""

    __tablename__ = "direct_debit_items"

    collection_id: Mapped[str] = mapped_column(ForeignKey("direct_debit_collections.id"), primary_key=True)
    invoice_number: Mapped[str] = mapped_column(ForeignKey("invoices.number"), primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    debtor_name: Mapped[str] = mapped_column(String(200))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11))
    mandate_id: Mapped[str] = mapped_column(String(35))
    mandate_date: Mapped[date] = mapped_column(Date)


class OfferRow(Base):
    """An offer of the month (contract_service/domain/offers.py)."""

    __tablename__ = "offers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product: Mapped[str] = mapped_column(String(100))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The market codes, comma-separated ("de,nl"): few offers run at a time, filtered in Python.
    markets: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class OfferOrderRow(Base):
    """A customer's order of an offer for one package; the package's price from then on."""

    __tablename__ = "offer_orders"

    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_number: Mapped[str] = mapped_column(ForeignKey("customers.customer_number"), index=True)
    product: Mapped[str] = mapped_column(String(100))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    ordered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContactRequestRow(Base):
    """A message to the service team, with an optional PDF (contract_service/domain/contact.py)."""

    __tablename__ = "contact_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20), default="", index=True)
    package_id: Mapped[str] = mapped_column(String(64), default="")
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(255), default="")
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # open, answered (the answer was mailed through the outbox in the same transaction).
    status: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    answer: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AppliedTransferRow(Base):
    """One row per merge and direction that was applied: a repeat returns the record."""

    __tablename__ = "applied_transfers"

    merge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # forward, reverse.
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)
    source_customer_number: Mapped[str] = mapped_column(String(20))
    target_customer_number: Mapped[str] = mapped_column(String(20))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MergeTransferRow(Base):
    """The ids of the records a transfer moved, per merge, direction and kind."""

    __tablename__ = "merge_transfers"

    merge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)
    # transfers.KINDS: invoices, contracts, terminations, offer_orders, contact_requests.
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class EmailRestoreRow(Base):
    """A single-use link mailed to the old contact address when the e-mail changes: it puts
    the old address back (domain/notices.py). Only the SHA-256 of the token is stored."""

    __tablename__ = "email_restore_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20), index=True)
    old_email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # pending, used, superseded (a restore with an older link voids the links of later changes).
    status: Mapped[str] = mapped_column(String(12), default="pending")


# The mail outbox (cc_common.outbox): notices are queued in the transaction of their change.
outbox = outbox_table(Base.metadata)
