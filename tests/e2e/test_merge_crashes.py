"""Crashes during the merge saga: the real process of merge-service, or of the service it
calls, is killed (SIGKILL, via the FAULT_INJECT crash points) at each step boundary, before and
after the step's commit, and started again. Every run must end with the merge completed exactly
once, and the invariants must hold. A killed merge-service leaves its saga lease behind: the process
started again (a new owner) goes on with the saga when that lease has expired."""

from __future__ import annotations

import threading
import time

import pytest

from tests.e2e.test_merges import pair, start, wait_status
from tests.support.invariants import check_invariants, holdings

STEPS = ["freeze", "move_packages", "move_contracts", "retire_contract", "retire_credentials", "unfreeze"]
CRASH_POINTS = [("merge", f"merge:{when}:{step}") for step in STEPS for when in ("before", "after")] + [
    ("package", "package:before_commit:TransferPackages"),
    ("package", "package:after_commit:TransferPackages"),
    ("contract", "contract:before_commit:TransferContracts"),
    ("contract", "contract:before_commit:SetCustomerStatus"),
    ("contract", "contract:after_commit:TransferContracts"),
    ("contract", "contract:after_commit:SetCustomerStatus"),
    ("identity", "identity:before_commit:SetCustomerStatus"),
    ("identity", "identity:after_commit:SetCustomerStatus"),
]


@pytest.fixture(scope="module")
def crash_suite(suite_factory):
    # A restarted merge-service takes over the saga once the killed process's lease has run
    # out: a short lease keeps the twelve merge crash points quick.
    return suite_factory(
        env={
            "MERGE_REVIEW": "auto",
            "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
            "MERGE_LEASE_SECONDS": "2",
            "MERGE_POLL_SECONDS": "0.25",
        }
    )


def _wait_dead(suite, name, timeout=60):
    proc = suite.processes[name]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            return proc.popen.returncode
        time.sleep(0.05)
    raise AssertionError(f"{name} did not reach its crash point\n{suite.log_report([name, 'merge'])}")


@pytest.mark.parametrize("victim, point", CRASH_POINTS, ids=[p for _, p in CRASH_POINTS])
def test_a_crash_at_a_step_boundary_ends_with_the_merge_completed_exactly_once(crash_suite, victim, point):
    suite = crash_suite
    target, source, _ = pair(suite, "de", {"street": "Crashweg 1"}, packages=2, invoices=2)
    numbers = [target.number, source.number]
    before = holdings(suite, numbers)
    token = suite.login_customer(target.number, target.password)
    merge = start(suite, token, source).json()
    suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)

    suite.stop(victim)
    suite.processes[victim].env["FAULT_INJECT"] = point
    suite.start(victim)
    try:
        suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)
        assert _wait_dead(suite, victim) == -9  # SIGKILL
    finally:
        suite.processes[victim].env.pop("FAULT_INJECT", None)
        if not suite.processes[victim].running:
            suite.start(victim)

    assert wait_status(suite, token, merge["id"], {"completed", "failed"}, timeout=60) == "completed"
    after = check_invariants(suite, numbers, before)
    assert after.statuses[source.number] == "retired"
    audit = suite.api(
        "GET", f"/api/v1/admin/merges/{merge['id']}", token=suite.staff_token(), expect=200
    ).json()
    assert sorted(audit["moved"]["packages"]) == sorted(before.packages[source.number])
    done = [s["name"] for s in audit["steps"] if s["state"] == "done"]
    assert done == [f"execute:{step}" for step in STEPS]
    # Exactly one completion mail per customer, however often a step ran: wait for the first,
    # then give a duplicate the dispatcher's interval (0.5 s) twice over to show up.
    deadline = time.monotonic() + 20
    while not _completion_mails(suite, target) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    assert len(_completion_mails(suite, target)) == 1


def _completion_mails(suite, customer):
    return [m for m in suite.mails.to(customer.fields["email"]) if m.merged]


def _race(suite, calls):
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i, fn):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.postgres
def test_on_postgresql_a_absorbs_b_while_b_absorbs_a_exactly_one_wins(suite_pg):
    suite = suite_pg
    a, b, _ = pair(suite, "de", packages=1, invoices=1)
    before = holdings(suite, [a.number, b.number])
    a_token, b_token = suite.login_customer(a.number, a.password), suite.login_customer(b.number, b.password)
    replies = _race(suite, [lambda: start(suite, a_token, b), lambda: start(suite, b_token, a)])
    codes = sorted(r.status_code for r in replies)
    assert codes == [201, 409], [r.text for r in replies]
    loser = next(r for r in replies if r.status_code == 409)
    assert loser.json()["error"]["code"] == "merge_conflict"
    check_invariants(suite, [a.number, b.number], before)


@pytest.mark.postgres
def test_on_postgresql_a_absorbs_b_while_c_absorbs_b_exactly_one_wins(suite_pg):
    suite = suite_pg
    a, b, _ = pair(suite, "de", packages=1, invoices=1)
    c = suite.create_customer("de", first_name=a.fields["first_name"], last_name=a.fields["last_name"])
    before = holdings(suite, [a.number, b.number, c.number])
    a_token, c_token = suite.login_customer(a.number, a.password), suite.login_customer(c.number, c.password)
    replies = _race(suite, [lambda: start(suite, a_token, b), lambda: start(suite, c_token, b)])
    assert sorted(r.status_code for r in replies) == [201, 409], [r.text for r in replies]
    winner = next(r for r in replies if r.status_code == 201).json()
    winner_token = a_token if winner["target_customer_number"] == a.number else c_token
    suite.api("POST", f"/api/v1/merges/{winner['id']}/take-over-data", token=winner_token, expect=200)
    suite.api("POST", f"/api/v1/merges/{winner['id']}/submit", token=winner_token, expect=202)
    suite.api("POST", f"/api/v1/admin/merges/{winner['id']}/approve", token=suite.staff_token(), expect=202)
    assert wait_status(suite, winner_token, winner["id"], {"completed", "failed"}) == "completed"
    check_invariants(suite, [a.number, b.number, c.number], before)
