"""Background work a service runs beside its server at a fixed interval (for example
contract-service carrying out due terminations): one daemon thread per job, which logs a failed
run and tries again at the next interval, and stops when the server stops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Periodic:
    """Runs `job()` every `interval` seconds (the first run right after `start()`)."""

    stop_with_server = True  # cc_common.testing.ServerThread stops it with the server

    def __init__(self, name: str, interval: float, job: Callable[[], Any]) -> None:
        if interval <= 0:
            raise ValueError(f"{name}: the interval must be positive, not {interval}")
        self.name, self.interval, self._job = name, interval, job
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"periodic-{name}", daemon=True)
        self.runs = 0

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._job()
            except Exception:  # a database that is briefly away must not end the job for good
                log.exception("%s failed; trying again in %.0f s", self.name, self.interval)
            self.runs += 1
            self._stopped.wait(self.interval)

    def stop(self, timeout: float = 10) -> None:
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
