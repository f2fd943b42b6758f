"""The unit of work of contract-service (fakes for unit tests live in tests/unit)."""

from __future__ import annotations

from typing import Protocol

from cc_common.uow import SqlAlchemyUnitOfWork
from sqlalchemy.orm import Session

from contract_service.adapters.repository import (
    ContactRequestRepository,
    ContractRepository,
    CustomerRepository,
    DirectDebitRepository,
    EmailRestoreRepository,
    InvoiceRepository,
    MailRepository,
    OfferRepository,
    TerminationRepository,
    TransferRepository,
)


class UnitOfWork(Protocol):
    customers: CustomerRepository
    invoices: InvoiceRepository
    contracts: ContractRepository
    terminations: TerminationRepository
    transfers: TransferRepository
    email_restores: EmailRestoreRepository
    mails: MailRepository
    direct_debits: DirectDebitRepository
    offers: OfferRepository
    contact_requests: ContactRequestRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class ContractUnitOfWork(SqlAlchemyUnitOfWork):
    customers: CustomerRepository
    invoices: InvoiceRepository
    contracts: ContractRepository
    terminations: TerminationRepository
    transfers: TransferRepository
    email_restores: EmailRestoreRepository
    mails: MailRepository
    direct_debits: DirectDebitRepository
    offers: OfferRepository
    contact_requests: ContactRequestRepository

    def _open(self, session: Session) -> None:
        self.customers = CustomerRepository(session)
        self.invoices = InvoiceRepository(session)
        self.contracts = ContractRepository(session)
        self.terminations = TerminationRepository(session)
        self.transfers = TransferRepository(session)
        self.email_restores = EmailRestoreRepository(session)
        self.mails = MailRepository(session)
        self.direct_debits = DirectDebitRepository(session)
        self.offers = OfferRepository(session)
        self.contact_requests = ContactRequestRepository(session)
