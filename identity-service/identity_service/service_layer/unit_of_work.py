"""The unit of work of identity-service and its protocol (a fake lives in the unit tests)."""

from __future__ import annotations

from typing import Protocol

from cc_common.uow import SqlAlchemyUnitOfWork
from sqlalchemy.orm import Session

from identity_service.adapters.repository import (
    CredentialRepository,
    LoginHistoryRepository,
    MailRepository,
    PasswordResetRepository,
    ReplicaRepository,
    RevocationRepository,
    SecondFactorRepository,
    SessionRepository,
    SignOnRepository,
    ThrottleRepository,
)


class UnitOfWork(Protocol):
    credentials: CredentialRepository
    throttle: ThrottleRepository
    revocations: RevocationRepository
    replicas: ReplicaRepository
    resets: PasswordResetRepository
    mails: MailRepository
    sign_ons: SignOnRepository
    sessions: SessionRepository
    logins: LoginHistoryRepository
    second_factors: SecondFactorRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class IdentityUnitOfWork(SqlAlchemyUnitOfWork):
    credentials: CredentialRepository
    throttle: ThrottleRepository
    revocations: RevocationRepository
    replicas: ReplicaRepository
    resets: PasswordResetRepository
    mails: MailRepository
    sign_ons: SignOnRepository
    sessions: SessionRepository
    logins: LoginHistoryRepository
    second_factors: SecondFactorRepository

    def _open(self, session: Session) -> None:
        self.credentials = CredentialRepository(session)
        self.throttle = ThrottleRepository(session)
        self.revocations = RevocationRepository(session)
        self.replicas = ReplicaRepository(session)
        self.resets = PasswordResetRepository(session)
        self.mails = MailRepository(session)
        self.sign_ons = SignOnRepository(session)
        self.sessions = SessionRepository(session)
        self.logins = LoginHistoryRepository(session)
        self.second_factors = SecondFactorRepository(session)
