"""Two copies of merge-service on one PostgreSQL database: the copy running a merge's saga
hangs in the middle of it (a FAULT_INJECT `hang:` point) and is killed with SIGKILL, and never
started again. The other copy keeps off while the hung copy's lease is still renewed, and
finishes the merge within MERGE_LEASE_SECONDS (+ its poll) of the kill: exactly once, one
completion mail, the invariants hold."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.e2e.test_merges import pair, start
from tests.support.invariants import check_invariants, holdings

LEASE = 4.0
POLL = 0.5
STEPS = ["freeze", "move_packages", "move_contracts", "retire_contract", "retire_credentials", "unfreeze"]
HANG_AT = "merge:before:move_contracts"


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout:.0f}s: {what}")


def _row(engine, merge_id):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT status, saga_owner FROM merges WHERE id = :id"), {"id": merge_id}
        ).one()


def _steps(engine, merge_id):
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text("SELECT step, state FROM merge_steps WHERE merge_id = :id AND saga = 'execute'"),
                {"id": merge_id},
            ).all()
        )


@pytest.mark.postgres
def test_a_killed_copy_mid_saga_is_taken_over_by_the_other_copy_within_the_lease(suite_factory):
    suite = suite_factory(
        backend="postgresql",
        env={
            "MERGE_REVIEW": "auto",
            "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
            "MERGE_LEASE_SECONDS": str(LEASE),
            "MERGE_POLL_SECONDS": str(POLL),
        },
    )
    engine = sa.create_engine(suite.database_urls["merge"])
    try:
        target, source, _ = pair(suite, "de", {"street": "Leaseweg 1"}, packages=2, invoices=2)
        numbers = [target.number, source.number]
        before = holdings(suite, numbers)
        token = suite.login_customer(target.number, target.password)
        merge = start(suite, token, source).json()
        suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)

        # The gateway's copy runs the saga and hangs before moving the contracts.
        suite.stop("merge")
        suite.processes["merge"].env["FAULT_INJECT"] = f"hang:{HANG_AT}"
        suite.start("merge")
        suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)
        _wait(lambda: f"fault point {HANG_AT} reached" in suite.log("merge"), 30, "the first copy hangs")
        hung_owner = _row(engine, merge["id"]).saga_owner
        assert hung_owner and hung_owner.split(":")[1] == str(suite.processes["merge"].popen.pid)

        # A second copy, polling the same database: the hung copy's heartbeat keeps the lease.
        suite.add_copy("merge", "merge-2")
        time.sleep(LEASE + 2 * POLL)
        assert _row(engine, merge["id"]) == ("executing", hung_owner)
        assert _steps(engine, merge["id"]) == {
            "freeze": "done",
            "move_packages": "done",
            "move_contracts": "started",
        }

        killed = time.monotonic()
        suite.kill("merge")  # SIGKILL, and it stays dead
        _wait(
            lambda: _row(engine, merge["id"]).status in ("completed", "failed"),
            LEASE + POLL + 30,
            "completion",
        )
        takeover = time.monotonic() - killed
        print(
            f"\nmerge completed by the second copy {takeover:.2f} s after the kill (lease {LEASE} s, poll {POLL} s)"
        )
        assert _row(engine, merge["id"]) == ("completed", None)
        assert takeover <= LEASE + POLL + 3.0, takeover
        assert not suite.processes["merge"].running
        log = suite.log("merge-2")
        assert log.count(f"merge {merge['id']}: saga taken up by") == 1, log

        assert _steps(engine, merge["id"]) == dict.fromkeys(STEPS, "done")
        after = check_invariants(suite, numbers, before)
        assert after.statuses[source.number] == "retired"
        assert after.packages.get(target.number, []) and not after.packages.get(source.number)
        # One completion mail, sent by the surviving copy's outbox.
        _wait(lambda: _completion_mails(suite, target), 20, "the completion mail")
        time.sleep(1.0)
        assert len(_completion_mails(suite, target)) == 1
    finally:
        engine.dispose()


def _completion_mails(suite, customer):
    return [m for m in suite.mails.to(customer.fields["email"]) if m.merged]
