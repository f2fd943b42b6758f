"""cc_common.periodic: a job runs at once and then every interval, a failing run is logged and
the next one still comes, and stop() ends the thread."""

from __future__ import annotations

import threading

import pytest
from cc_common.periodic import Periodic


def test_a_job_runs_again_after_a_failure_and_stops_when_asked(caplog):
    calls: list[int] = []
    third = threading.Event()

    def job() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database away")
        if len(calls) >= 3:
            third.set()

    periodic = Periodic("test-job", 0.01, job).start()
    assert third.wait(5)
    periodic.stop()
    stopped_at = len(calls)
    assert not periodic._thread.is_alive() and len(calls) == stopped_at
    assert "test-job failed" in caplog.text


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError):
        Periodic("never", 0, lambda: None)
