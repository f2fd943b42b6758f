"""Crash points for the crash tests: `FAULT_INJECT=point1,point2` makes the process kill itself
with SIGKILL when it reaches one of the named points (e.g. `merge:before:move_packages`,
`package:after_commit:TransferPackages`). Without the variable this is a no-op."""

from __future__ import annotations

import os
import signal


def _points() -> frozenset[str]:
    return frozenset(p.strip() for p in os.environ.get("FAULT_INJECT", "").split(",") if p.strip())


def crash_point(name: str) -> None:
    if name in _points():
        os.kill(os.getpid(), signal.SIGKILL)
