"""/metrics of all five processes (issue 10, metrics): each parses with prometheus_client's
parser, and the counters move after the requests the test makes (logins, a failed one, the
packages, a merge run by the saga). The gateway's numbers are the sum of its gunicorn workers,
served by the master on GATEWAY_METRICS_PORT; its public port has no /metrics."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import PROCESSES
from tests.e2e.test_merges import pair, start, wait_status

GRPC_SERVICE = {
    "identity": "customercenter.v2.IdentityService",
    "contract": "customercenter.v2.ContractService",
    "package": "customercenter.v2.PackageService",
    "merge": "customercenter.v2.MergeService",
}


def scrape(suite, name: str) -> dict[tuple[str, tuple], float]:
    """Every sample of one process's /metrics: (name, sorted labels) -> value."""
    samples = {}
    for family in text_string_to_metric_families(suite.metrics_text(name)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and labels.items() <= dict(sample_labels).items()
    )


def names(samples) -> set[str]:
    return {name for name, _ in samples}


@pytest.fixture(scope="module")
def metrics_suite(suite_factory):
    # Its own suite: the counters of the shared one move with every other test of the worker,
    # and MERGE_REVIEW=auto lets a merge run without staff.
    return suite_factory(env={"MERGE_REVIEW": "auto", "LOGIN_MAX_FAILURES_PER_ACCOUNT": "2"})


def test_every_process_serves_metrics_that_parse_and_the_counters_move(metrics_suite):
    suite = metrics_suite
    before = {name: scrape(suite, name) for name in PROCESSES}
    for name in PROCESSES:
        assert names(before[name]), f"{name}: /metrics has no samples"

    # Logins of every kind, a failed one, a lockout; customers, packages, a merge.
    suite.staff_token(fresh=True)
    target, source, domains = pair(suite, "de", packages=1, invoices=1)
    token = suite.login_customer(target.number, target.password)
    wrong = {"customer_number": target.number, "password": "not-the-password"}
    assert suite.api("POST", "/api/v1/auth/customer-login", json=wrong).status_code == 401
    stranger = suite.create_customer("de")
    for _ in range(3):  # the limit is 2 here: the second failure locks, the third is refused
        suite.api(
            "POST", "/api/v1/auth/customer-login", json={"customer_number": stranger.number, "password": "x"}
        )
    package_token = suite.login_package(domains[0], "Package-pass-1")
    suite.api("GET", "/api/v1/packages", token=package_token, expect=200)
    suite.api("GET", "/api/v1/packages", token=token, expect=200)
    suite.api("GET", "/api/v1/customer", token=token, expect=200)
    reply = start(suite, token, source)
    assert reply.status_code == 201, reply.text
    merge_id = reply.json()["id"]
    suite.api("POST", f"/api/v1/merges/{merge_id}/take-over-data", token=token, expect=200)
    suite.api("POST", f"/api/v1/merges/{merge_id}/submit", token=token, expect=202)
    assert wait_status(suite, token, merge_id, {"completed", "failed"}) == "completed"

    after = _settled(suite, before)

    # The gateway: requests by route (the URL rule, not the path) and status, latency, in flight.
    gateway, gateway_before = after["gateway"], before["gateway"]

    def moved(name_, **labels):
        return total(gateway, name_, **labels) - total(gateway_before, name_, **labels)

    assert moved("cc_http_requests_total", route="/api/v1/auth/customer-login", status="200") >= 1
    assert moved("cc_http_requests_total", route="/api/v1/auth/customer-login", status="401") >= 1
    assert moved("cc_http_requests_total", route="/api/v1/packages", method="GET", status="200") >= 2
    assert moved("cc_http_request_duration_seconds_count", route="/api/v1/merges", method="POST") >= 1
    assert not any(
        labels and "route" in dict(labels) and str(target.number) in dict(labels)["route"]
        for _, labels in gateway
    ), "a raw path became a label"
    assert "cc_http_requests_in_flight" in names(gateway)
    assert "cc_revocation_replica_synced" in names(gateway)

    # Every service: RPCs by method and code, latency, in flight, its pool.
    for name, service in GRPC_SERVICE.items():
        samples, earlier = after[name], before[name]
        handled = total(samples, "cc_grpc_server_handled_total", grpc_service=service)
        assert handled > total(earlier, "cc_grpc_server_handled_total", grpc_service=service), name
        assert total(samples, "cc_grpc_server_handling_seconds_count", grpc_service=service) > 0, name
        assert "cc_grpc_server_in_flight" in names(samples), name
        assert "cc_db_pool_checked_out" in names(samples), name
        assert total(samples, "cc_revocation_replica_synced") == 1 or name == "identity", name

    identity, identity_before = after["identity"], before["identity"]

    def identity_moved(name_, **labels):
        return total(identity, name_, **labels) - total(identity_before, name_, **labels)

    assert identity_moved("cc_grpc_server_handled_total", grpc_method="CustomerLogin", grpc_code="OK") >= 1
    assert (
        identity_moved(
            "cc_grpc_server_handled_total", grpc_method="CustomerLogin", grpc_code="UNAUTHENTICATED"
        )
        >= 1
    )
    assert identity_moved("cc_logins_total", kind="customer", result="success") >= 1
    assert identity_moved("cc_logins_total", kind="customer", result="failure") >= 2
    assert identity_moved("cc_logins_total", kind="customer", result="locked") >= 1
    assert identity_moved("cc_logins_total", kind="package", result="success") >= 1
    assert identity_moved("cc_logins_total", kind="staff", result="success") >= 1
    assert identity_moved("cc_login_lockouts_total", scope="customer") >= 1
    # The merge retired a number: a revocation, acknowledged by the watchers.
    assert identity_moved("cc_revocation_ack_seconds_count") >= 1
    assert total(identity, "cc_revocation_watchers") >= 4  # the gateway's workers and three services

    merge, merge_before = after["merge"], before["merge"]
    assert (
        total(merge, "cc_merge_transitions_total", status="completed")
        - total(merge_before, "cc_merge_transitions_total", status="completed")
        >= 1
    )
    assert total(merge, "cc_saga_step_seconds_count", saga="execute", outcome="done") > total(
        merge_before, "cc_saga_step_seconds_count", saga="execute", outcome="done"
    )
    assert total(merge, "cc_merges", status="completed") >= 1
    for name in ("identity", "contract", "merge"):  # the services with a mail outbox
        assert ("cc_outbox_oldest_waiting_age_seconds", (("service", name),)) in after[name], name
        assert "cc_outbox_messages" in names(after[name]), name
    assert total(merge, "cc_outbox_deliveries_total", result="sent") >= 1

    # The public port has no /metrics.
    assert suite.api("GET", "/metrics").status_code == 404


def _settled(suite, before, timeout: float = 20.0):
    """The processes' metrics once the merge's completion mails were sent (the dispatcher runs
    after the saga), scraped again until then."""
    deadline = time.monotonic() + timeout
    while True:
        after = {name: scrape(suite, name) for name in PROCESSES}
        if (
            total(after["merge"], "cc_outbox_deliveries_total", result="sent") >= 1
            or time.monotonic() > deadline
        ):
            return after
        time.sleep(0.2)
