"""Faults for the crash and shutdown tests, named in `FAULT_INJECT` (comma separated):

- a crash point (`merge:before:move_packages`, `package:after_commit:TransferPackages`) makes
  the process kill itself with SIGKILL when it reaches that point (`crash_point`);
- `delay:<Servicer.Method>=<seconds>` (`delay:PackageServicer.ListProducts=3`) makes every call
  of that RPC wait that long before it runs (`delay_of`, applied by cc_common.grpc_server.rpc),
  to have a call in flight when the process is stopped.

Without the variable this is a no-op; APP_ENV=production refuses to start with it set.
"""

from __future__ import annotations

import os
import signal

DELAY_PREFIX = "delay:"


def _points() -> frozenset[str]:
    return frozenset(p.strip() for p in os.environ.get("FAULT_INJECT", "").split(",") if p.strip())


def crash_point(name: str) -> None:
    if name in _points():
        os.kill(os.getpid(), signal.SIGKILL)


def delay_of(name: str) -> float:
    """The seconds `delay:<name>=<seconds>` in FAULT_INJECT asks for; 0 without one."""
    raw = os.environ.get("FAULT_INJECT")
    if not raw:
        return 0.0
    for point in _points():
        if point.startswith(DELAY_PREFIX):
            named, _, seconds = point[len(DELAY_PREFIX):].partition("=")
            if named == name:
                return float(seconds)
    return 0.0
