"""Crash points for the crash tests. Without the variables below this is a no-op.

- `FAULT_INJECT=point1,point2` makes the process kill itself with SIGKILL when it reaches one of
  the named points (e.g. `merge:before:move_packages`, `package:after_commit:TransferPackages`).
  A point named with the prefix `hang:` (e.g. `hang:merge:before:move_contracts`) makes the
  thread that reaches it wait for ever instead, so a test can kill the process from outside
  while its other threads go on. It logs `fault point <point> reached: this thread hangs (pid N)`.
- `FAULT_INJECT_FILE=<path>` names a file read at every point while it exists, one point per
  line in the same form: the cluster tests write and remove it while the copies run.

Production (APP_ENV=production) refuses to start with either variable set.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

log = logging.getLogger(__name__)


def _points() -> set[str]:
    points = {p.strip() for p in os.environ.get("FAULT_INJECT", "").split(",") if p.strip()}
    path = os.environ.get("FAULT_INJECT_FILE", "")
    if path:
        try:
            with open(path, encoding="utf-8") as file:
                points.update(line.strip() for line in file if line.strip())
        except FileNotFoundError:
            pass
    return points


def crash_point(name: str) -> None:
    points = _points()
    if name in points:
        os.kill(os.getpid(), signal.SIGKILL)
    if f"hang:{name}" in points:
        log.warning("fault point %s reached: this thread hangs (pid %d)", name, os.getpid())
        threading.Event().wait()
