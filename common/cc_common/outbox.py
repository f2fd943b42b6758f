"""The mail outbox: a message is written to the `outbox` table in the same transaction as the
change that causes it, and a dispatcher thread delivers it afterwards.

Delivery: SMTP when SMTP_HOST is set, else a `.eml` file under `var/mail/` (so a person trying
the suite can read every mail). Every copy of a service runs a dispatcher on the same table.

Guarantee: every queued mail is delivered at least once; a duplicate carries the same
`Message-ID` (made once, when the row is queued, and stored in it), so a receiver can drop it.
A dispatcher claims one row at a time (pending -> sending) in its own commit, recording its own
id (`claimed_by`) and a lease (`lease_until`, OUTBOX_LEASE_SECONDS ahead), before it talks to
the server, and marks it sent afterwards. On PostgreSQL the claim selects with
`FOR UPDATE SKIP LOCKED`, so copies polling together take different rows; on SQLite (and
underneath on PostgreSQL) the claim is a compare-and-set UPDATE that only succeeds while the
row is still due: two live copies never send one row. A row left `sending` by a copy that died
(or hung) is due again once its lease has expired, and another copy sends it again: the only
case of a duplicate. A refused or failed connection puts the row back to pending with
exponential back-off (1 s, 2 s, 4 s ... at most 5 min); a row is marked failed after
OUTBOX_MAX_ATTEMPTS claims. The lease must be longer than one delivery (the SMTP timeout is
10 s per operation). See docs/outbox.md.
"""

from __future__ import annotations

import functools
import logging
import os
import smtplib
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cc_common import config, metrics
from cc_common.faults import crash_point
from cc_common.settings import MailSettings

log = logging.getLogger(__name__)

BATCH = 50  # rows one round delivers at most, one claim each


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", String(36), primary_key=True),
        # Idempotency: the same event never queues two mails (e.g. "mrg_x:completed:target").
        Column("dedup_key", String(200), nullable=False, unique=True),
        Column("recipient", String(320), nullable=False),
        Column("subject", String(300), nullable=False),
        Column("body", Text, nullable=False),
        Column("status", String(16), nullable=False, default="pending", index=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column("last_error", Text, nullable=True),
        # Made once when the row is queued: a mail sent again carries the same Message-ID.
        Column("message_id", String(255), nullable=False),
        # While `sending`: which dispatcher claimed the row, and until when (its lease).
        Column("claimed_by", String(120), nullable=True),
        Column("lease_until", DateTime(timezone=True), nullable=True),
    )


@functools.cache
def mail_settings() -> MailSettings:
    """MAIL_FROM and OUTBOX_*, read once per process on first use (not at import:
    package-service imports this module but sends no mail)."""
    return MailSettings.load()


def _message_id_domain() -> str:
    """The right-hand side of every Message-ID: the sender's domain."""
    return parseaddr(mail_settings().mail_from)[1].rpartition("@")[2] or "customer-center.example"


def _now() -> datetime:
    return datetime.now(UTC)


def message_id_for(row_id: str) -> str:
    return f"<{row_id}@{_message_id_domain()}>"


def enqueue(
    session: Session, table: Table, *, dedup_key: str, recipient: str, subject: str, body: str
) -> bool:
    """Adds a mail to the caller's transaction. Returns False when the key was queued before."""
    if session.execute(select(table.c.id).where(table.c.dedup_key == dedup_key)).first():
        return False
    now = _now()
    row_id = str(uuid.uuid4())
    try:
        with session.begin_nested():
            session.execute(
                table.insert().values(
                    id=row_id,
                    dedup_key=dedup_key,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    message_id=message_id_for(row_id),
                )
            )
    except IntegrityError:
        return False
    return True


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    def __init__(self, host: str, port: int, timeout: float = 10) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


class FileTransport:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))


def transport_from_env() -> Transport:
    mail = MailSettings.load()  # read now, as the tests point each server at their own SMTP
    if mail.smtp_host:
        return SmtpTransport(mail.smtp_host, mail.smtp_port)
    return FileTransport(config.var_dir() / "mail")


def build_message(row: Row[Any]) -> EmailMessage:
    """The mail of one outbox row; the same headers every time it is sent (Message-ID from the
    row, Date from when it was queued)."""
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    message = EmailMessage()
    message["From"] = mail_settings().mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(created.timestamp(), usegmt=True)
    message["Message-ID"] = row.message_id
    message.set_content(row.body)
    return message


def dispatcher_id() -> str:
    """Names one dispatcher in `claimed_by`: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class Dispatcher:
    """Delivers due mails in a daemon thread; `run_once()` is the testable unit. Any number of
    dispatchers (copies of a service) may work on one table at once."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        transport: Transport,
        *,
        interval: float = 0.5,
        lease_seconds: float | None = None,
    ) -> None:
        self.engine, self.table, self.transport, self.interval = engine, table, transport, interval
        mail = mail_settings()
        self.lease = timedelta(seconds=mail.outbox_lease_seconds if lease_seconds is None else lease_seconds)
        self.max_attempts = mail.outbox_max_attempts
        self.owner = dispatcher_id()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)

    def start(self) -> Dispatcher:
        with self.engine.connect() as conn:
            stuck = conn.execute(select(self.table.c.id).where(self.table.c.status == "sending")).all()
        if stuck:
            log.info(
                "%d outbox mail(s) are sending: by another copy, or left by one that stopped "
                "(then sent again, same Message-ID, once the lease has expired)",
                len(stuck),
            )
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep delivering whatever one failure was
                log.exception("outbox dispatch failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def run_once(self) -> int:
        """Claims and delivers due rows one at a time (at most BATCH); returns how many it sent."""
        self._fail_exhausted()
        sent = 0
        for _ in range(BATCH):
            if self._stop.is_set():
                break
            found, row = self._claim()
            if not found:
                break
            if row is not None:  # None: another copy claimed it first
                sent += self._deliver(row)
        return sent

    def _due(self, now: datetime) -> ColumnElement[bool]:
        t = self.table
        return or_(
            and_(t.c.status == "pending", t.c.next_attempt_at <= now),
            and_(t.c.status == "sending", t.c.lease_until < now, t.c.attempts < self.max_attempts),
        )

    def _claim(self) -> tuple[bool, Row[Any] | None]:
        """(False, None) when nothing is due; (True, row) when this dispatcher now holds the
        row's lease; (True, None) when another copy won the row between select and update."""
        t = self.table
        now = _now()
        with self.engine.begin() as conn:
            pick = select(t.c.id).where(self._due(now)).order_by(t.c.next_attempt_at).limit(1)
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            row_id = conn.execute(pick).scalar()
            if row_id is None:
                return False, None
            claimed = conn.execute(
                update(t)
                .where(and_(t.c.id == row_id, self._due(now)))  # compare-and-set
                .values(
                    status="sending",
                    claimed_by=self.owner,
                    lease_until=now + self.lease,
                    attempts=t.c.attempts + 1,
                )
                .returning(*t.c)
            ).first()
        return True, claimed

    def _mine(self, row_id: str) -> ColumnElement[bool]:
        t = self.table
        return and_(t.c.id == row_id, t.c.status == "sending", t.c.claimed_by == self.owner)

    def _deliver(self, row: Row[Any]) -> int:
        t = self.table
        try:
            self.transport.send(build_message(row))
        except (OSError, smtplib.SMTPException) as exc:
            status = "failed" if row.attempts >= self.max_attempts else "pending"
            delay = min(2 ** (row.attempts - 1), 300)
            with self.engine.begin() as conn:
                conn.execute(
                    update(t)
                    .where(self._mine(row.id))
                    .values(
                        status=status,
                        next_attempt_at=_now() + timedelta(seconds=delay),
                        last_error=str(exc)[:500],
                        claimed_by=None,
                        lease_until=None,
                    )
                )
            metrics.OUTBOX_DELIVERIES.labels(status if status == "failed" else "retry").inc()
            return 0
        crash_point("outbox:after_send")
        with self.engine.begin() as conn:
            marked = conn.execute(
                update(t).where(self._mine(row.id)).values(status="sent", sent_at=_now(), lease_until=None)
            ).rowcount
        metrics.OUTBOX_DELIVERIES.labels("sent").inc()
        if not marked:
            log.warning(
                "outbox message %s: lease ran out while sending; another copy may send it "
                "again with the same Message-ID",
                row.id,
            )
        return 1

    def _fail_exhausted(self) -> None:
        """A row left `sending` after its last allowed attempt is marked failed, not sent again."""
        t = self.table
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(
                    and_(t.c.status == "sending", t.c.lease_until < now, t.c.attempts >= self.max_attempts)
                )
                .values(status="failed", lease_until=None, last_error="lease expired after the last attempt")
            )
