"""One mail dispatcher in a process of its own, for the outbox tests:

    python -m tests.support.outbox_copy <database_url> <smtp_port>

runs one round (`Dispatcher.run_once`) over merge-service's outbox table and exits. With
FAULT_INJECT=outbox:after_send it kills itself (SIGKILL) right after the SMTP server accepted
the first mail, before marking it sent: a copy that dies mid-delivery."""

from __future__ import annotations

import sys

from cc_common import db
from cc_common.outbox import Dispatcher, SmtpTransport
from merge_service.adapters.orm import outbox


def main() -> None:
    url, port = sys.argv[1], int(sys.argv[2])
    engine = db.make_engine(url)
    Dispatcher(engine, outbox, SmtpTransport("127.0.0.1", port)).run_once()
    engine.dispose()


if __name__ == "__main__":
    main()
