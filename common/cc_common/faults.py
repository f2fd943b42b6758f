"""Crash points for the crash tests. Without the variables below this is a no-op.

- `FAULT_INJECT=point1,point2` makes the process kill itself with SIGKILL when it reaches one of
  the named points (e.g. `merge:before:move_packages`, `package:after_commit:TransferPackages`).
- `FAULT_INJECT_FILE=<path>` names a file read at every point (while it exists): one point per
  line, `point` to kill the process there, `point=hang` to stop that thread there for good (a
  hung copy, for the cluster tests, which write and remove the file while the copies run).
  A hang logs `fault point <point> reached: hanging (pid <pid>)` first.

Production (APP_ENV=production) refuses to start with either variable set.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

log = logging.getLogger(__name__)


def _points() -> dict[str, str]:
    points = {p.strip(): "kill" for p in os.environ.get("FAULT_INJECT", "").split(",") if p.strip()}
    path = os.environ.get("FAULT_INJECT_FILE", "")
    if path:
        try:
            with open(path, encoding="utf-8") as file:
                for line in file:
                    name, _, action = line.strip().partition("=")
                    if name:
                        points[name] = action or "kill"
        except FileNotFoundError:
            pass
    return points


def crash_point(name: str) -> None:
    action = _points().get(name)
    if action == "hang":
        log.warning("fault point %s reached: hanging (pid %d)", name, os.getpid())
        threading.Event().wait()
    elif action is not None:
        os.kill(os.getpid(), signal.SIGKILL)
