"""The tables of identity-service (SQLAlchemy 2 typed declarative models)."""

from __future__ import annotations

from datetime import UTC, datetime

from cc_common.outbox import outbox_table
from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class CustomerCredentialRow(Base):
    __tablename__ = "customer_credentials"

    customer_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="active")
    merged_into: Mapped[str | None] = mapped_column(String(20), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PackageCredentialRow(Base):
    __tablename__ = "package_credentials"

    package_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class StaffAccountRow(Base):
    __tablename__ = "staff_accounts"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class LoginFailureRow(Base):
    """Failed logins of one throttling key (scope: customer, package, staff or address)."""

    __tablename__ = "login_failures"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    throttle_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[float] = mapped_column(Float, default=0.0)  # unix seconds
    locked_until: Mapped[float] = mapped_column(Float, default=0.0, index=True)  # unix seconds


class RevocationRuleRow(Base):
    """The revocation generation of a subject; the source of truth for `LoginResult.generation`
    of every kind of subject (a subject without a row has generation 0)."""

    __tablename__ = "revocation_rules"

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    min_generation: Mapped[int] = mapped_column(BigInteger, default=0)
    keep_jti: Mapped[str] = mapped_column(String(128), default="")
    sequence: Mapped[int] = mapped_column(BigInteger, index=True)  # of the last change


class DeniedTokenRow(Base):
    __tablename__ = "denied_tokens"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)  # unix seconds
    sequence: Mapped[int] = mapped_column(BigInteger, index=True)


class RevocationSequenceRow(Base):
    """One row (id 1): the last revocation sequence number. Bumping it takes the row lock, so
    sequence numbers are handed out and committed in order, also across replicas."""

    __tablename__ = "revocation_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class RevocationReplicaRow(Base):
    """One running identity copy on PostgreSQL (service_layer/replicated_hub.py): the highest
    revocation sequence number that all of its watchers (and its own in-process state) have
    applied, and when it last showed it is alive (database clock). A revoking copy waits for
    every copy whose heartbeat is fresh; rows of copies that died are dropped later."""

    __tablename__ = "revocation_replicas"

    replica_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    acked_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PasswordResetTokenRow(Base):
    """A password reset token: only its SHA-256 is stored. The rows of the last hour also
    count the reset mails of a number (throttling); older ones are pruned."""

    __tablename__ = "password_reset_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)  # unix seconds
    expires_at: Mapped[float] = mapped_column(Float)  # unix seconds
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending, used, invalidated
    # Where the reset link went, and the number's market: the "new password set" notice goes
    # there in the customer's language once the link is used (identity holds no contact data).
    notify_email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    market: Mapped[str] = mapped_column(String(2), default="", server_default="")
    # The customer's language preference when the link was sent ("" = the market's).
    language: Mapped[str] = mapped_column(String(2), default="", server_default="")


class PasswordResetRequestRow(Base):
    """One reset request of a client address (whatever the number, known or not), counted
    against PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS; rows older than the hour are pruned."""

    __tablename__ = "password_reset_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_address: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)  # unix seconds


class PackageSignOnRow(Base):
    """A redeemed single sign-on link into a package's administration (its jti, the primary
    key): the insert is the compare-and-set that lets a link be used once across every copy.
    Rows are kept until the link would have expired anyway, then pruned."""

    __tablename__ = "package_sign_ons"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)  # unix seconds
    redeemed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SessionRow(Base):
    """A token issued at a login of the gateway (domain/sessions.py). Times in unix seconds."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # public, not the jti
    jti: Mapped[str] = mapped_column(String(128), unique=True)
    subject: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    client_address: Mapped[str] = mapped_column(String(255), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_device: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginHistoryRow(Base):
    """One login attempt of an existing subject at the gateway; the last 100 per subject within
    180 days are kept (domain/sessions.py)."""

    __tablename__ = "login_history"
    __table_args__ = (
        Index("ix_login_history_subject_at", "subject", "at"),
        Index("ix_login_history_subject_device", "subject", "device"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(100))
    at: Mapped[float] = mapped_column(Float)
    client_address: Mapped[str] = mapped_column(String(255), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    device: Mapped[str] = mapped_column(String(64))  # SHA-256 of the normalised user agent
    success: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(16))


class SecondFactorRow(Base):
    """The TOTP second factor of a subject ("customer:<number>", "staff:<username>"):
    inactive while enrolment waits for its first code; `last_used_step` refuses a code again
    within its window (domain/second_factor.py)."""

    __tablename__ = "second_factors"

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    last_used_step: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class RecoveryCodeRow(Base):
    """One unused recovery code of a subject: only its SHA-256; a used code's row is deleted."""

    __tablename__ = "second_factor_recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(100), index=True)


class SecondFactorChallengeRow(Base):
    """A login whose password was right and whose code is still to come: only the SHA-256 of
    the challenge token; deleted when used, pruned when expired."""

    __tablename__ = "second_factor_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # unix seconds


# The mail outbox (cc_common.outbox): reset mails are queued in the transaction of their token.
outbox = outbox_table(Base.metadata)
