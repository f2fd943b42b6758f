"""Faults for the crash, shutdown and cluster tests. Without the variables below this is a no-op.

- `FAULT_INJECT` (comma separated):
  - a crash point (`merge:before:move_packages`, `package:after_commit:TransferPackages`) makes
    the process kill itself with SIGKILL when it reaches that point (`crash_point`);
  - `hang:<point>` (e.g. `hang:merge:before:move_contracts`) makes the thread that reaches the
    point wait for ever instead, so a test can kill the process from outside while its other
    threads go on; it logs `fault point <point> reached: this thread hangs (pid N)`;
  - `delay:<Servicer.Method>=<seconds>` (`delay:PackageServicer.ListProducts=3`) makes every
    call of that RPC wait that long before it runs (`delay_of`, applied by
    cc_common.grpc_server.rpc), to have a call in flight when the process is stopped.
- `FAULT_INJECT_FILE=<path>` names a file read at every crash point while it exists, one
  crash or hang point per line: the cluster tests write and remove it while the copies run.

APP_ENV=production refuses to start with either variable set.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

log = logging.getLogger(__name__)

DELAY_PREFIX = "delay:"


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


def delay_of(name: str) -> float:
    """The seconds `delay:<name>=<seconds>` in FAULT_INJECT asks for; 0 without one."""
    raw = os.environ.get("FAULT_INJECT")
    if not raw:
        return 0.0
    for point in _points():
        if point.startswith(DELAY_PREFIX):
            named, _, seconds = point[len(DELAY_PREFIX) :].partition("=")
            if named == name:
                return float(seconds)
    return 0.0
