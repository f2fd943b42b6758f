"""The mail outbox: a message is written to the `outbox` table in the same transaction as the
change that causes it, and a dispatcher thread delivers it afterwards.

Delivery: SMTP when SMTP_HOST is set, else a `.eml` file under `var/mail/` (so a person trying
the suite can read every mail). The dispatcher claims a row (pending -> sending) in its own
commit before it talks to the server, and marks it sent afterwards: a message is never sent
twice. A refused or failed connection puts it back to pending with exponential back-off
(1 s, 2 s, 4 s ... at most 5 min; after OUTBOX_MAX_ATTEMPTS it is marked failed). A crash in
the short window between claim and "sent" leaves the row in `sending`, reported at start-up
for a person to check, rather than risking a duplicate.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, and_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cc_common import config

log = logging.getLogger(__name__)

MAX_ATTEMPTS = config.env_int("OUTBOX_MAX_ATTEMPTS", 10)
SENDER = config.env("MAIL_FROM", "Customer Center <service@customer-center.example>")


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
    )


def _now() -> datetime:
    return datetime.now(UTC)


def enqueue(session: Session, table: Table, *, dedup_key: str, recipient: str, subject: str, body: str) -> bool:
    """Adds a mail to the caller's transaction. Returns False when the key was queued before."""
    if session.execute(select(table.c.id).where(table.c.dedup_key == dedup_key)).first():
        return False
    now = _now()
    try:
        with session.begin_nested():
            session.execute(
                table.insert().values(
                    id=str(uuid.uuid4()),
                    dedup_key=dedup_key,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
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
    host = config.env("SMTP_HOST", "")
    if host:
        return SmtpTransport(host, config.env_int("SMTP_PORT", 25))
    return FileTransport(config.var_dir() / "mail")


def build_message(row) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=row.id, domain="customer-center.example")
    message.set_content(row.body)
    return message


class Dispatcher:
    """Delivers pending mails in a daemon thread; `run_once()` is the testable unit."""

    def __init__(self, engine: Engine, table: Table, transport: Transport, *, interval: float = 0.5) -> None:
        self.engine, self.table, self.transport, self.interval = engine, table, transport, interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)

    def start(self) -> Dispatcher:
        with self.engine.connect() as conn:
            stuck = conn.execute(select(self.table.c.id).where(self.table.c.status == "sending")).all()
        for row in stuck:
            log.warning("outbox message %s was being sent when the process stopped; check it", row.id)
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
        t = self.table
        sent = 0
        with self.engine.connect() as conn:
            due = conn.execute(
                select(t).where(and_(t.c.status == "pending", t.c.next_attempt_at <= _now())).limit(50)
            ).all()
        for row in due:
            with self.engine.begin() as conn:
                claimed = conn.execute(
                    update(t).where(and_(t.c.id == row.id, t.c.status == "pending")).values(status="sending")
                ).rowcount
            if not claimed:
                continue
            try:
                self.transport.send(build_message(row))
            except (OSError, smtplib.SMTPException) as exc:
                attempts = row.attempts + 1
                status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
                delay = min(2 ** (attempts - 1), 300)
                with self.engine.begin() as conn:
                    conn.execute(
                        update(t)
                        .where(t.c.id == row.id)
                        .values(
                            status=status,
                            attempts=attempts,
                            next_attempt_at=_now() + timedelta(seconds=delay),
                            last_error=str(exc)[:500],
                        )
                    )
                continue
            with self.engine.begin() as conn:
                conn.execute(update(t).where(t.c.id == row.id).values(status="sent", sent_at=_now()))
            sent += 1
        return sent
