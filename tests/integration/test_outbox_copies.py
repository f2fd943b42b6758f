"""The mail outbox with several copies of a service on one database (SQLite and PostgreSQL),
delivering to a real SMTP server (aiosmtpd): two live dispatchers never send one row twice, a
row left `sending` by a dispatcher that died is sent again after its lease with the same
Message-ID, and rows queued before the upgrade get one too."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from cc_common import db
from cc_common.outbox import Dispatcher, SmtpTransport, enqueue
from merge_service.adapters.orm import outbox
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.e2e.harness import child_env
from tests.integration.test_identity_password_mails import smtp  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "merge-service" / "merge_service" / "migrations"


@pytest.fixture
def outbox_url(database_url):
    url = database_url("outbox")
    db.upgrade(url, MIGRATIONS)
    return url


def queue(engine, count: int) -> None:
    with Session(engine) as session, session.begin():
        for i in range(count):
            enqueue(
                session,
                outbox,
                dedup_key=f"test:{i}",
                recipient=f"c{i}@example.org",
                subject=f"mail {i}",
                body="hello",
            )


def message_ids(smtp) -> list[str]:  # noqa: F811 - the fixture
    return [
        email.message_from_bytes(e.content, policy=email.policy.default)["Message-ID"] for e in smtp.envelopes
    ]


def rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(outbox)).all()


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_two_dispatchers_polling_one_database_together_send_every_mail_exactly_once(outbox_url, smtp):  # noqa: F811
    engines = [db.make_engine(outbox_url) for _ in range(2)]  # two copies: an engine each
    queue(engines[0], 30)
    port = int(os.environ["SMTP_PORT"])
    dispatchers = [Dispatcher(engine, outbox, SmtpTransport("127.0.0.1", port)) for engine in engines]
    start = threading.Barrier(2)
    sent: list[int] = []

    def copy(dispatcher: Dispatcher) -> None:
        start.wait()
        total = 0
        while (count := dispatcher.run_once()) > 0:
            total += count
        sent.append(total)

    threads = [threading.Thread(target=copy, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    delivered = smtp.wait_for(30)

    assert sum(sent) == 30
    assert len(delivered) == 30
    counts = Counter(message_ids(smtp))
    assert max(counts.values()) == 1, [mid for mid, n in counts.items() if n > 1]
    stored = rows(engines[0])
    assert set(counts) == {row.message_id for row in stored}
    assert {row.status for row in stored} == {"sent"}
    assert {row.attempts for row in stored} == {1}
    assert {row.claimed_by for row in stored} <= {d.owner for d in dispatchers}
    for engine in engines:
        engine.dispose()


def _dying_copy(url: str, port: int) -> subprocess.CompletedProcess:
    env = child_env(repo_on_path=True)
    env.update(
        FAULT_INJECT="outbox:after_send",
        OUTBOX_LEASE_SECONDS="3",
    )
    argv = [sys.executable, "-m", "tests.support.outbox_copy", url, str(port)]
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


def test_a_mail_left_sending_by_a_dispatcher_that_died_is_sent_again_after_its_lease_with_the_same_message_id(
    outbox_url,
    smtp,  # noqa: F811
):
    engine = db.make_engine(outbox_url)
    queue(engine, 1)
    port = int(os.environ["SMTP_PORT"])

    died = _dying_copy(outbox_url, port)
    assert died.returncode == -9, died.stderr
    assert len(smtp.wait_for(1)) == 1
    (row,) = rows(engine)
    assert row.status == "sending" and row.claimed_by and row.attempts == 1
    lease_until = aware(row.lease_until)

    survivor = Dispatcher(engine, outbox, SmtpTransport("127.0.0.1", port), lease_seconds=3)
    if datetime.now(UTC) < lease_until:  # the dead copy's lease still runs: not sent again yet
        assert survivor.run_once() == 0
    deadline = time.monotonic() + 20
    while survivor.run_once() == 0 and time.monotonic() < deadline:
        time.sleep(0.1)

    assert datetime.now(UTC) >= lease_until
    assert len(smtp.wait_for(2)) == 2
    first, again = message_ids(smtp)
    assert first == again == row.message_id
    (row,) = rows(engine)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, survivor.owner)
    assert survivor.run_once() == 0  # and never a third time
    assert len(smtp.envelopes) == 2
    engine.dispose()


class Recording:
    def __init__(self) -> None:
        self.messages: list = []

    def send(self, message) -> None:
        self.messages.append(message)


def test_upgrading_gives_queued_mails_a_message_id_and_makes_one_left_sending_due_again(database_url):
    url = database_url("outbox")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "0003")  # the outbox before this change
    engine = db.make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for row_id, status in (("row-pending", "pending"), ("row-stuck", "sending")):
            conn.execute(
                text(
                    "INSERT INTO outbox (id, dedup_key, recipient, subject, body, status, attempts, "
                    "next_attempt_at, created_at) VALUES (:id, :id, 'a@example.org', 's', 'b', :status, 0, "
                    ":now, :now)"
                ),
                {"id": row_id, "status": status, "now": now},
            )
    db.upgrade(url, MIGRATIONS)

    transport = Recording()
    assert Dispatcher(engine, outbox, transport).run_once() == 2
    assert sorted(m["Message-ID"] for m in transport.messages) == [
        "<row-pending@customer-center.example>",
        "<row-stuck@customer-center.example>",
    ]
    assert {row.status for row in rows(engine)} == {"sent"}
    engine.dispose()
