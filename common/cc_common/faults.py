"""Crash points for the crash tests: `FAULT_INJECT=point1,point2` makes the process kill itself
with SIGKILL when it reaches one of the named points (e.g. `merge:before:move_packages`,
`package:after_commit:TransferPackages`). A point named with the prefix `hang:` (e.g.
`hang:merge:before:move_contracts`) makes the thread that reaches it wait for ever instead, so
a test can kill the process from outside while its other threads go on. Without the variable
this is a no-op."""

from __future__ import annotations

import logging
import os
import signal
import threading


def _points() -> frozenset[str]:
    return frozenset(p.strip() for p in os.environ.get("FAULT_INJECT", "").split(",") if p.strip())


def crash_point(name: str) -> None:
    points = _points()
    if name in points:
        os.kill(os.getpid(), signal.SIGKILL)
    if f"hang:{name}" in points:
        logging.getLogger(__name__).warning("fault point %s reached: this thread hangs", name)
        threading.Event().wait()
