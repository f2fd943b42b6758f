"""Reading and writing credentials, login failures and revocations; hides the session from
the service layer."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from identity_service.adapters.orm import (
    CustomerCredentialRow,
    DeniedTokenRow,
    LoginFailureRow,
    PackageCredentialRow,
    RevocationRuleRow,
    RevocationSequenceRow,
    StaffAccountRow,
)
from identity_service.domain.model import CustomerCredential, PackageCredential, StaffAccount
from identity_service.domain.revocation import DeniedToken, SubjectRule
from identity_service.domain.throttling import FailureRecord, ThrottleKey


def _insert(session: Session):
    """INSERT ... ON CONFLICT DO NOTHING for the session's backend."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


class CredentialRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_customer(self, customer_number: str) -> CustomerCredential | None:
        row = self.session.get(CustomerCredentialRow, customer_number)
        if row is None:
            return None
        return CustomerCredential(row.customer_number, row.password_hash, row.status, row.merged_into)

    def save_customer(self, credential: CustomerCredential) -> None:
        row = self.session.get(CustomerCredentialRow, credential.customer_number)
        if row is None:
            row = CustomerCredentialRow(customer_number=credential.customer_number)
            self.session.add(row)
        row.password_hash = credential.password_hash
        row.status = credential.status
        row.merged_into = credential.merged_into

    def get_package(self, package_id: str) -> PackageCredential | None:
        row = self.session.get(PackageCredentialRow, package_id)
        return PackageCredential(row.package_id, row.password_hash) if row else None

    def save_package(self, credential: PackageCredential) -> None:
        row = self.session.get(PackageCredentialRow, credential.package_id)
        if row is None:
            row = PackageCredentialRow(package_id=credential.package_id)
            self.session.add(row)
        row.password_hash = credential.password_hash

    def get_staff(self, username: str) -> StaffAccount | None:
        row = self.session.get(StaffAccountRow, username)
        return StaffAccount(row.username, row.password_hash) if row else None

    def save_staff(self, account: StaffAccount) -> None:
        row = self.session.get(StaffAccountRow, account.username)
        if row is None:
            row = StaffAccountRow(username=account.username)
            self.session.add(row)
        row.password_hash = account.password_hash


class ThrottleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._locked: dict[ThrottleKey, LoginFailureRow] = {}

    def get(self, key: ThrottleKey) -> FailureRecord | None:
        row = self.session.get(LoginFailureRow, (key.scope, key.key))
        return _record(row) if row else None

    def get_for_update(self, key: ThrottleKey) -> FailureRecord:
        """The record of `key`, created if missing, with its row locked until commit (so
        concurrent failures of one key, also on other replicas, are all counted)."""
        self.session.execute(
            _insert(self.session)(LoginFailureRow)
            .values(scope=key.scope, throttle_key=key.key, failures=0, window_started_at=0.0, locked_until=0.0)
            .on_conflict_do_nothing()
        )
        row = self.session.scalars(
            select(LoginFailureRow)
            .where(LoginFailureRow.scope == key.scope, LoginFailureRow.throttle_key == key.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        self._locked[key] = row
        return _record(row)

    def save(self, key: ThrottleKey, record: FailureRecord) -> None:
        row = self._locked.get(key) or self.session.get(LoginFailureRow, (key.scope, key.key))
        if row is None:
            row = LoginFailureRow(scope=key.scope, throttle_key=key.key)
            self.session.add(row)
        row.failures = record.failures
        row.window_started_at = record.window_started_at
        row.locked_until = record.locked_until

    def reset(self, key: ThrottleKey) -> None:
        self.session.execute(
            delete(LoginFailureRow).where(
                LoginFailureRow.scope == key.scope, LoginFailureRow.throttle_key == key.key
            )
        )

    def prune(self, *, now: float, window_seconds: int) -> int:
        """Forgets keys that are neither locked nor inside their window."""
        result = self.session.execute(
            delete(LoginFailureRow).where(
                LoginFailureRow.locked_until <= now,
                LoginFailureRow.window_started_at <= now - window_seconds,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _record(row: LoginFailureRow) -> FailureRecord:
    return FailureRecord(row.failures, row.window_started_at, row.locked_until)


class RevocationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_sequence(self) -> int:
        """Takes the next sequence number; the counter row stays locked until commit."""
        self.session.execute(
            update(RevocationSequenceRow)
            .where(RevocationSequenceRow.id == 1)
            .values(value=RevocationSequenceRow.value + 1)
        )
        return int(
            self.session.scalar(select(RevocationSequenceRow.value).where(RevocationSequenceRow.id == 1))
        )

    def current_sequence(self) -> int:
        value = self.session.scalar(select(RevocationSequenceRow.value).where(RevocationSequenceRow.id == 1))
        return int(value or 0)

    def get_rule(self, subject: str) -> SubjectRule | None:
        row = self.session.get(RevocationRuleRow, subject)
        return _rule(row) if row else None

    def save_rule(self, rule: SubjectRule, *, sequence: int) -> None:
        row = self.session.get(RevocationRuleRow, rule.subject)
        if row is None:
            row = RevocationRuleRow(subject=rule.subject)
            self.session.add(row)
        row.generation = rule.generation
        row.min_generation = rule.min_generation
        row.keep_jti = rule.keep_jti
        row.sequence = sequence

    def deny(self, token: DeniedToken, *, sequence: int) -> None:
        row = self.session.get(DeniedTokenRow, token.jti)
        if row is None:
            self.session.add(DeniedTokenRow(jti=token.jti, expires_at=token.expires_at, sequence=sequence))
        else:
            row.expires_at = max(row.expires_at, token.expires_at)
            row.sequence = sequence

    def prune_denied(self, *, now: int) -> int:
        result = self.session.execute(delete(DeniedTokenRow).where(DeniedTokenRow.expires_at <= now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def all_rules(self) -> list[SubjectRule]:
        return [_rule(r) for r in self.session.scalars(select(RevocationRuleRow).order_by(RevocationRuleRow.subject))]

    def denied_since(self, *, now: int) -> list[DeniedToken]:
        rows = self.session.scalars(select(DeniedTokenRow).where(DeniedTokenRow.expires_at > now))
        return [DeniedToken(r.jti, r.expires_at) for r in rows]


def _rule(row: RevocationRuleRow) -> SubjectRule:
    return SubjectRule(row.subject, row.generation, row.min_generation, row.keep_jti)
