"""The PostgreSQL listener of an identity copy: LISTEN for the revocations and the acks of
all copies (the channels of adapters/repository.py) on one dedicated connection, in a daemon
thread. Used by service_layer/replicated_hub.py, which reads the changes themselves from the
tables; a notification only says "something is new".

The connection is probed every PROBE_SECONDS (a dead network link is noticed even when no
notification comes) and reopened after a failure, with a backoff of up to MAX_BACKOFF seconds;
the hub hears `on_lost` and `on_connected` and catches up from the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import make_url

from identity_service.adapters.repository import ACKS_CHANNEL, CHANGES_CHANNEL

log = logging.getLogger(__name__)

WAIT_SECONDS = 0.25  # the longest wait for notifications before the stop flag is looked at
PROBE_SECONDS = 1.0
MAX_BACKOFF = 2.0


def conninfo(database_url: str) -> str:
    """A libpq URI from an SQLAlchemy URL (`postgresql+psycopg://...` -> `postgresql://...`)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgChangeFeed:
    def __init__(self, database_url: str, *, name: str) -> None:
        self._conninfo = conninfo(database_url)
        self._name = name[:63]  # application_name: how an operator (or a test) finds it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False

    def start(
        self,
        *,
        on_change: Callable[[int], None],
        on_ack: Callable[[], None],
        on_connected: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None:
        self._thread = threading.Thread(
            target=self._run,
            args=(on_change, on_ack, on_connected, on_lost),
            name="revocation-listener",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(
        self,
        on_change: Callable[[int], None],
        on_ack: Callable[[], None],
        on_connected: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None:
        import psycopg

        backoff = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=5,
                    application_name=self._name,
                    keepalives=1,
                    keepalives_idle=5,
                    keepalives_interval=2,
                    keepalives_count=3,
                ) as conn:
                    conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    conn.execute(f"LISTEN {ACKS_CHANNEL}")
                    self.connected = True
                    backoff = 0.1
                    on_connected()
                    probed = time.monotonic()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=WAIT_SECONDS):
                            if note.channel == CHANGES_CHANNEL:
                                on_change(_sequence(note.payload))
                            else:
                                on_ack()
                        if time.monotonic() - probed >= PROBE_SECONDS:
                            conn.execute("SELECT 1")
                            probed = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect
                if not self._stop.is_set():
                    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    log.warning("revocation listener: %s; reconnecting", reason)
            finally:
                if self.connected:
                    self.connected = False
                    if not self._stop.is_set():
                        on_lost()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)


def _sequence(payload: str) -> int:
    try:
        return int(payload)
    except ValueError:
        return 0
