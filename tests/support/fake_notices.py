"""In-memory outbox and e-mail restore links for contract-service's use-case tests (no I/O)."""

from __future__ import annotations

from dataclasses import replace

from contract_service.domain.notices import PENDING, SUPERSEDED, USED, EmailRestore


class FakeMails:
    """The outbox: queued mails by dedup key (a key queues once, as in cc_common.outbox)."""

    def __init__(self) -> None:
        self.queued: dict[str, dict[str, str]] = {}

    def queue(self, *, dedup_key: str, recipient: str, subject: str, body: str) -> bool:
        if dedup_key in self.queued:
            return False
        self.queued[dedup_key] = {"recipient": recipient, "subject": subject, "body": body}
        return True

    def to(self, recipient: str) -> list[dict[str, str]]:
        return [mail for mail in self.queued.values() if mail["recipient"] == recipient]


class FakeEmailRestores:
    def __init__(self) -> None:
        self.rows: dict[str, EmailRestore] = {}

    def add(self, restore: EmailRestore) -> None:
        self.rows[restore.token_hash] = replace(restore)

    def get(self, token_hash: str) -> EmailRestore | None:
        row = self.rows.get(token_hash)
        return replace(row) if row else None

    def consume(self, restore: EmailRestore) -> bool:
        row = self.rows.get(restore.token_hash)
        if row is None or row.status != PENDING:
            return False
        row.status = USED
        for other in self.rows.values():
            if (
                other.customer_number == restore.customer_number
                and other.status == PENDING
                and other.created_at >= restore.created_at
            ):
                other.status = SUPERSEDED
        return True
