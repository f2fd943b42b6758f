"""Reading and writing credentials, login failures and revocations; hides the session from
the service layer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cc_common import outbox as outbox_mails
from cc_common.db import rowcount
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from identity_service.adapters.orm import (
    CustomerCredentialRow,
    DeniedTokenRow,
    LoginFailureRow,
    LoginHistoryRow,
    PackageCredentialRow,
    PackageSignOnRow,
    PasswordResetRequestRow,
    PasswordResetTokenRow,
    RecoveryCodeRow,
    RevocationReplicaRow,
    RevocationRuleRow,
    RevocationSequenceRow,
    SecondFactorChallengeRow,
    SecondFactorRow,
    SessionRow,
    StaffAccountRow,
    outbox,
)
from identity_service.domain import password_reset
from identity_service.domain.model import CustomerCredential, PackageCredential, StaffAccount
from identity_service.domain.revocation import DeniedToken, SubjectRule
from identity_service.domain.second_factor import Challenge, SecondFactor
from identity_service.domain.sessions import LoginRecord
from identity_service.domain.sessions import Session as LoginSession
from identity_service.domain.throttling import FailureRecord, ThrottleKey

# PostgreSQL NOTIFY channels between identity copies (adapters/pg_revocations.py listens):
# a committed revocation (payload: its sequence number), and a copy's new acknowledgement
# (payload: "<replica id> <sequence>"). A NOTIFY sent in a transaction is delivered on commit.
CHANGES_CHANNEL = "cc_identity_revocations"
ACKS_CHANNEL = "cc_identity_revocation_acks"


def _insert(session: Session) -> Callable[[Any], PgInsert | SqliteInsert]:
    """INSERT ... ON CONFLICT DO NOTHING for the session's backend."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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


class SecondFactorRepository:
    """Second factors, their recovery codes and login challenges. The single-use steps (a TOTP
    time step, a recovery code, a challenge) are conditional writes whose row count says
    whether this call won: two identity copies can never both spend the same one."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, subject: str) -> SecondFactor | None:
        row = self.session.get(SecondFactorRow, subject)
        if row is None:
            return None
        return SecondFactor(row.subject, row.secret, row.active, row.last_used_step)

    def is_active(self, subject: str) -> bool:
        return bool(
            self.session.scalar(select(SecondFactorRow.active).where(SecondFactorRow.subject == subject))
        )

    def save(self, factor: SecondFactor) -> None:
        """Stores the factor; when `recovery_hashes` is not empty they replace the old codes."""
        row = self.session.get(SecondFactorRow, factor.subject)
        if row is None:
            row = SecondFactorRow(subject=factor.subject)
            self.session.add(row)
        row.secret = factor.secret
        row.active = factor.active
        row.last_used_step = factor.last_used_step
        if factor.recovery_hashes:
            self.session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.subject == factor.subject))
            self.session.add_all(
                RecoveryCodeRow(code_hash=h, subject=factor.subject) for h in factor.recovery_hashes
            )

    def remove(self, subject: str) -> None:
        self.session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.subject == subject))
        self.session.execute(delete(SecondFactorRow).where(SecondFactorRow.subject == subject))

    def use_step(self, subject: str, step: int) -> bool:
        """Records `step` as the last used one; False when it (or a later one) was used."""
        result = self.session.execute(
            update(SecondFactorRow)
            .where(
                SecondFactorRow.subject == subject,
                SecondFactorRow.active.is_(True),
                SecondFactorRow.last_used_step < step,
            )
            .values(last_used_step=step)
        )
        return rowcount(result) == 1

    def spend_recovery_code(self, subject: str, code_hash: str) -> bool:
        result = self.session.execute(
            delete(RecoveryCodeRow).where(
                RecoveryCodeRow.code_hash == code_hash, RecoveryCodeRow.subject == subject
            )
        )
        return rowcount(result) == 1

    def count_recovery_codes(self, subject: str) -> int:
        return int(
            self.session.scalar(
                select(func.count()).select_from(RecoveryCodeRow).where(RecoveryCodeRow.subject == subject)
            )
            or 0
        )

    def add_challenge(self, challenge: Challenge) -> None:
        self.session.add(
            SecondFactorChallengeRow(
                challenge_hash=challenge.challenge_hash,
                subject=challenge.subject,
                expires_at=challenge.expires_at,
            )
        )

    def get_challenge(self, challenge_hash: str) -> Challenge | None:
        row = self.session.get(SecondFactorChallengeRow, challenge_hash)
        return Challenge(row.challenge_hash, row.subject, row.expires_at) if row else None

    def spend_challenge(self, challenge_hash: str, *, now: float) -> bool:
        result = self.session.execute(
            delete(SecondFactorChallengeRow).where(
                SecondFactorChallengeRow.challenge_hash == challenge_hash,
                SecondFactorChallengeRow.expires_at > now,
            )
        )
        return rowcount(result) == 1

    def prune_challenges(self, *, now: float) -> None:
        self.session.execute(
            delete(SecondFactorChallengeRow).where(SecondFactorChallengeRow.expires_at <= now)
        )


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
            .values(
                scope=key.scope, throttle_key=key.key, failures=0, window_started_at=0.0, locked_until=0.0
            )
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
        return rowcount(result)


def _record(row: LoginFailureRow) -> FailureRecord:
    return FailureRecord(row.failures, row.window_started_at, row.locked_until)


class RevocationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_sequence(self) -> int:
        """Takes the next sequence number; the counter row stays locked until commit, so the
        numbers are committed in order, by every identity copy together. On PostgreSQL the
        number is also announced to the other copies (NOTIFY, delivered on commit)."""
        self.session.execute(
            update(RevocationSequenceRow)
            .where(RevocationSequenceRow.id == 1)
            .values(value=RevocationSequenceRow.value + 1)
        )
        sequence = int(
            self.session.execute(
                select(RevocationSequenceRow.value).where(RevocationSequenceRow.id == 1)
            ).scalar_one()
        )
        if _postgresql(self.session):
            self.session.execute(select(func.pg_notify(CHANGES_CHANNEL, str(sequence))))
        return sequence

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
        return rowcount(result)

    def all_rules(self) -> list[SubjectRule]:
        return [
            _rule(r)
            for r in self.session.scalars(select(RevocationRuleRow).order_by(RevocationRuleRow.subject))
        ]

    def denied_since(self, *, now: int) -> list[DeniedToken]:
        rows = self.session.scalars(select(DeniedTokenRow).where(DeniedTokenRow.expires_at > now))
        return [DeniedToken(r.jti, r.expires_at) for r in rows]

    def rules_changed(self, *, after: int, upto: int) -> list[SubjectRule]:
        """The rules whose last change has a sequence number in (after, upto]."""
        rows = self.session.scalars(
            select(RevocationRuleRow)
            .where(RevocationRuleRow.sequence > after, RevocationRuleRow.sequence <= upto)
            .order_by(RevocationRuleRow.sequence)
        )
        return [_rule(r) for r in rows]

    def denied_changed(self, *, after: int, upto: int, now: int) -> list[DeniedToken]:
        """The unexpired denied tokens whose last change is in (after, upto]."""
        rows = self.session.scalars(
            select(DeniedTokenRow).where(
                DeniedTokenRow.sequence > after,
                DeniedTokenRow.sequence <= upto,
                DeniedTokenRow.expires_at > now,
            )
        )
        return [DeniedToken(r.jti, r.expires_at) for r in rows]


def _rule(row: RevocationRuleRow) -> SubjectRule:
    return SubjectRule(row.subject, row.generation, row.min_generation, row.keep_jti)


class ReplicaRepository:
    """The identity copies sharing one PostgreSQL database: their acknowledgements and
    heartbeats (`revocation_replicas`). Times are the database's clock (`now()`), so the
    copies' own clocks never matter. PostgreSQL only."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def heartbeat(self, replica_id: str, *, acked: int) -> None:
        """Creates or refreshes the row of `replica_id` (a copy whose row was dropped while it
        was stalled comes back with its next heartbeat)."""
        insert = pg_insert(RevocationReplicaRow).values(
            replica_id=replica_id, acked_sequence=acked, heartbeat_at=func.now()
        )
        self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[RevocationReplicaRow.replica_id],
                set_={
                    "heartbeat_at": func.now(),
                    "acked_sequence": func.greatest(RevocationReplicaRow.acked_sequence, acked),
                },
            )
        )

    def forget_silent(self, *, seconds: float) -> int:
        """Drops the rows of copies silent for `seconds` (they died without saying goodbye)."""
        result = self.session.execute(
            delete(RevocationReplicaRow).where(
                RevocationReplicaRow.heartbeat_at < func.now() - timedelta(seconds=seconds)
            )
        )
        return rowcount(result)

    def record_ack(self, replica_id: str, sequence: int) -> None:
        """Every watcher of `replica_id` applied `sequence`; the copies waiting for it are
        woken (NOTIFY on commit)."""
        self.session.execute(
            update(RevocationReplicaRow)
            .where(
                RevocationReplicaRow.replica_id == replica_id, RevocationReplicaRow.acked_sequence < sequence
            )
            .values(acked_sequence=sequence)
        )
        self.session.execute(select(func.pg_notify(ACKS_CHANNEL, f"{replica_id} {sequence}")))

    def lagging(self, *, sequence: int, alive_within: float, exclude: str) -> list[str]:
        """The live copies (heartbeat within `alive_within` seconds), other than `exclude`,
        that have not acknowledged `sequence` yet."""
        return list(
            self.session.scalars(
                select(RevocationReplicaRow.replica_id).where(
                    RevocationReplicaRow.replica_id != exclude,
                    RevocationReplicaRow.acked_sequence < sequence,
                    RevocationReplicaRow.heartbeat_at > func.now() - timedelta(seconds=alive_within),
                )
            )
        )

    def remove(self, replica_id: str) -> None:
        self.session.execute(
            delete(RevocationReplicaRow).where(RevocationReplicaRow.replica_id == replica_id)
        )


class PasswordResetRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: password_reset.ResetToken) -> None:
        self.session.add(
            PasswordResetTokenRow(
                token_hash=token.token_hash,
                customer_number=token.customer_number,
                created_at=token.created_at,
                expires_at=token.expires_at,
                status=token.status,
                notify_email=token.notify_email,
                market=token.market,
                language=token.language,
            )
        )

    def get(self, token_hash: str) -> password_reset.ResetToken | None:
        row = self.session.get(PasswordResetTokenRow, token_hash)
        if row is None:
            return None
        return password_reset.ResetToken(
            row.token_hash,
            row.customer_number,
            row.created_at,
            row.expires_at,
            row.status,
            notify_email=row.notify_email or "",
            market=row.market or "",
            language=row.language or "",
        )

    def count_since(self, customer_number: str, since: float) -> int:
        """Tokens (= reset mails) of a number created since `since`."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(PasswordResetTokenRow)
                .where(
                    PasswordResetTokenRow.customer_number == customer_number,
                    PasswordResetTokenRow.created_at > since,
                )
            )
            or 0
        )

    def count_usable(self, customer_number: str, *, now: float) -> int:
        """Links of a number that could still be used (pending and unexpired)."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(PasswordResetTokenRow)
                .where(
                    PasswordResetTokenRow.customer_number == customer_number,
                    PasswordResetTokenRow.status == password_reset.PENDING,
                    PasswordResetTokenRow.expires_at > now,
                )
            )
            or 0
        )

    def record_request(self, client_address: str, now: float) -> None:
        self.session.add(PasswordResetRequestRow(client_address=client_address, created_at=now))

    def count_requests_since(self, client_address: str, since: float) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(PasswordResetRequestRow)
                .where(
                    PasswordResetRequestRow.client_address == client_address,
                    PasswordResetRequestRow.created_at > since,
                )
            )
            or 0
        )

    def invalidate_pending(self, customer_number: str) -> int:
        result = self.session.execute(
            update(PasswordResetTokenRow)
            .where(
                PasswordResetTokenRow.customer_number == customer_number,
                PasswordResetTokenRow.status == password_reset.PENDING,
            )
            .values(status=password_reset.INVALIDATED)
        )
        return rowcount(result)

    def consume(self, token_hash: str, *, now: float) -> str | None:
        """Marks a pending, unexpired token used and returns its customer number; None when
        it is unknown, used, invalidated or expired. A conditional UPDATE: of two concurrent
        confirmations only one changes the row (also across replicas)."""
        token = self.get(token_hash)
        if token is None or not token.usable(now):
            return None
        result = self.session.execute(
            update(PasswordResetTokenRow)
            .where(
                PasswordResetTokenRow.token_hash == token_hash,
                PasswordResetTokenRow.status == password_reset.PENDING,
            )
            .values(status=password_reset.USED)
        )
        return token.customer_number if rowcount(result) == 1 else None

    def prune(self, *, before: float) -> int:
        """Forgets tokens and requests created before `before` (expired and out of the
        throttling window)."""
        result = self.session.execute(
            delete(PasswordResetTokenRow).where(PasswordResetTokenRow.created_at < before)
        )
        self.session.execute(
            delete(PasswordResetRequestRow).where(PasswordResetRequestRow.created_at < before)
        )
        return rowcount(result)


class SignOnRepository:
    """The redeemed single sign-on links into the package administration."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def redeem(self, jti: str, *, package_id: str, expires_at: int) -> bool:
        """Records `jti` as redeemed; False when it already was (by this or another copy): the
        primary key makes the insert a compare-and-set, on SQLite and PostgreSQL alike (the
        RETURNING row tells which; a DO NOTHING insert's rowcount is not reliable on psycopg)."""
        inserted = self.session.scalar(
            _insert(self.session)(PackageSignOnRow)
            .values(jti=jti, package_id=package_id, expires_at=expires_at)
            .on_conflict_do_nothing()
            .returning(PackageSignOnRow.jti)
        )
        return inserted is not None

    def prune(self, *, now: int) -> int:
        """Forgets links that have expired anyway (a used one can no longer be replayed)."""
        return rowcount(
            self.session.execute(delete(PackageSignOnRow).where(PackageSignOnRow.expires_at < now))
        )


class MailRepository:
    """Queues mails in the outbox, in the caller's transaction (cc_common.outbox)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def queue(self, *, dedup_key: str, recipient: str, subject: str, body: str) -> bool:
        return outbox_mails.enqueue(
            self.session, outbox, dedup_key=dedup_key, recipient=recipient, subject=subject, body=body
        )


def _session_of(row: SessionRow) -> LoginSession:
    return LoginSession(
        id=row.id,
        jti=row.jti,
        subject=row.subject,
        kind=row.kind,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        client_address=row.client_address,
        user_agent=row.user_agent,
        ended_at=row.ended_at,
        new_device=row.new_device,
    )


class SessionRepository:
    """The sessions table (domain/sessions.py)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: LoginSession) -> None:
        self.session.add(
            SessionRow(
                id=item.id,
                jti=item.jti,
                subject=item.subject,
                kind=item.kind,
                created_at=item.created_at,
                last_used_at=item.last_used_at,
                expires_at=item.expires_at,
                client_address=item.client_address,
                user_agent=item.user_agent,
                ended_at=item.ended_at,
                new_device=item.new_device,
            )
        )

    def get(self, session_id: str) -> LoginSession | None:
        row = self.session.get(SessionRow, session_id)
        return _session_of(row) if row is not None else None

    def of_subject(self, subject: str, *, live_at: float | None = None) -> list[LoginSession]:
        """The subject's sessions, newest first; only the live ones at `live_at` when given."""
        query = select(SessionRow).where(SessionRow.subject == subject)
        if live_at is not None:
            query = query.where(SessionRow.ended_at.is_(None), SessionRow.expires_at > live_at)
        rows = self.session.scalars(query.order_by(SessionRow.created_at.desc(), SessionRow.id))
        return [_session_of(row) for row in rows]

    def end(self, session_id: str, *, now: float) -> None:
        self.session.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.ended_at.is_(None))
            .values(ended_at=now, new_device=False)
        )

    def end_by_jti(self, jti: str, *, now: float) -> None:
        self.session.execute(
            update(SessionRow)
            .where(SessionRow.jti == jti, SessionRow.ended_at.is_(None))
            .values(ended_at=now, new_device=False)
        )

    def end_all(self, subject: str, *, now: float, keep_jti: str = "") -> int:
        """Ends every open session of `subject` but the one of `keep_jti`."""
        query = update(SessionRow).where(SessionRow.subject == subject, SessionRow.ended_at.is_(None))
        if keep_jti:
            query = query.where(SessionRow.jti != keep_jti)
        return rowcount(self.session.execute(query.values(ended_at=now, new_device=False)))

    def touch(self, jtis: list[str], *, now: float) -> int:
        if not jtis:
            return 0
        result = self.session.execute(
            update(SessionRow)
            .where(SessionRow.jti.in_(jtis), SessionRow.ended_at.is_(None), SessionRow.last_used_at < now)
            .values(last_used_at=now)
        )
        return rowcount(result)

    def clear_new_device(self, session_id: str) -> bool:
        """Takes the pending "new device" notice of a session: True for exactly one caller."""
        result = self.session.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.new_device.is_(True))
            .values(new_device=False)
        )
        return rowcount(result) == 1

    def prune(self, *, before: float) -> int:
        """Drops the sessions that expired before `before`."""
        return rowcount(self.session.execute(delete(SessionRow).where(SessionRow.expires_at < before)))


class LoginHistoryRepository:
    """The login_history table: bounded per subject by `prune`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, item: LoginRecord) -> None:
        self.session.add(
            LoginHistoryRow(
                subject=item.subject,
                at=item.at,
                client_address=item.client_address,
                user_agent=item.user_agent,
                device=item.device,
                success=item.success,
                method=item.method,
            )
        )

    def of_subject(self, subject: str, *, limit: int) -> list[LoginRecord]:
        rows = self.session.scalars(
            select(LoginHistoryRow)
            .where(LoginHistoryRow.subject == subject)
            .order_by(LoginHistoryRow.at.desc(), LoginHistoryRow.id.desc())
            .limit(limit)
        )
        return [
            LoginRecord(
                subject=row.subject,
                at=row.at,
                client_address=row.client_address,
                user_agent=row.user_agent,
                success=row.success,
                method=row.method,
            )
            for row in rows
        ]

    def has_success(self, subject: str, *, device: str | None = None) -> bool:
        """Whether the subject has a successful login on record (from `device`, when given)."""
        query = select(LoginHistoryRow.id).where(
            LoginHistoryRow.subject == subject, LoginHistoryRow.success.is_(True)
        )
        if device is not None:
            query = query.where(LoginHistoryRow.device == device)
        return self.session.scalars(query.limit(1)).first() is not None

    def prune(self, subject: str, *, keep: int, before: float) -> int:
        """Drops the subject's attempts older than `before` and beyond the newest `keep`."""
        newest = (
            select(LoginHistoryRow.id)
            .where(LoginHistoryRow.subject == subject)
            .order_by(LoginHistoryRow.at.desc(), LoginHistoryRow.id.desc())
            .limit(keep)
        ).scalar_subquery()
        result = self.session.execute(
            delete(LoginHistoryRow)
            .where(LoginHistoryRow.subject == subject)
            .where((LoginHistoryRow.at < before) | LoginHistoryRow.id.not_in(newest))
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
