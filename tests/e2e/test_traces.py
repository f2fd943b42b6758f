"""Traces end to end (docs/observability.md, "Traces"): the five real processes export over
OTLP/HTTP to a receiver the test runs. A client's `traceparent` is continued: the gateway's
span is its child and the parent of the services' spans; a merge's saga is a trace of its
own, linked to the request that approved it, through every service it touches."""

from __future__ import annotations

import secrets

import pytest

from tests.e2e.test_merges import pair, start, wait_status
from tests.support.otlp_receiver import OtlpReceiver


@pytest.fixture(scope="module")
def receiver():
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def traced(suite_factory, receiver):
    return suite_factory(
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds: spans arrive within a moment
            "MERGE_REVIEW": "auto",
        }
    )


def chosen_traceparent() -> tuple[str, str, str]:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{parent_id}-01", trace_id, parent_id


def by_id(spans):
    return {s.span_id: s for s in spans}


def test_a_clients_traceparent_is_continued_from_the_gateway_into_the_service(traced, receiver):
    customer = traced.create_customer(market="de")
    traced.create_package(customer.number)
    token = traced.login_customer(customer.number, customer.password)
    traceparent, trace_id, parent_id = chosen_traceparent()
    traced.api("GET", "/api/v1/packages", token=token, headers={"traceparent": traceparent}, expect=200)

    def complete(spans):
        mine = [s for s in spans if s.trace_id == trace_id]
        return any(s.service == "package" and s.kind == "server" for s in mine) and any(
            s.service == "gateway" and s.kind == "server" for s in mine
        )

    receiver.wait_for(complete)
    spans = receiver.trace(trace_id)
    assert {s.trace_id for s in spans} == {trace_id}  # one trace, the client's
    gateway = [s for s in spans if s.service == "gateway" and s.kind == "server"]
    assert len(gateway) == 1 and gateway[0].parent_id == parent_id  # a child of the client's span
    assert gateway[0].attributes.get("http.route") == "/api/v1/packages" or "packages" in gateway[0].name
    ids = by_id(spans)
    served = [s for s in spans if s.service == "package" and s.kind == "server"]
    assert [s.name for s in served] == ["/customercenter.v2.PackageService/ListPackages"]
    call = ids[served[0].parent_id]  # the gateway's call, inside the gateway's request span
    assert (call.service, call.kind, call.parent_id) == ("gateway", "client", gateway[0].span_id)
    # The service's SQL is in the same trace, under its server span.
    sql = [s for s in spans if s.service == "package" and s.kind == "client"]
    assert sql and all(ids[s.parent_id].service == "package" for s in sql)


def test_a_merges_saga_is_a_trace_of_its_own_linked_to_the_request_that_approved_it(traced, receiver):
    target, source, _ = pair(traced, packages=1, invoices=1)
    token = traced.login_customer(target.number, target.password)
    merge = start(traced, token, source).json()
    traced.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    traceparent, trace_id, _ = chosen_traceparent()
    traced.api(
        "POST",
        f"/api/v1/merges/{merge['id']}/submit",
        token=token,
        headers={"traceparent": traceparent},
        expect=202,
    )
    assert wait_status(traced, token, merge["id"], {"completed", "failed"}) == "completed"

    def saga_done(spans):
        return any(
            s.name == "merge execute finish" and s.attributes.get("merge.id") == merge["id"] for s in spans
        )

    spans = receiver.wait_for(saga_done)
    root = [s for s in spans if s.name == "merge execute" and s.attributes.get("merge.id") == merge["id"]]
    assert len(root) == 1 and root[0].service == "merge" and root[0].parent_id == ""
    request_ids = {s.span_id for s in receiver.trace(trace_id)}
    assert root[0].trace_id != trace_id and root[0].links[0] in {(trace_id, i) for i in request_ids}

    def all_services(_spans):
        return {s.service for s in receiver.trace(root[0].trace_id)} >= {
            "merge",
            "contract",
            "package",
            "identity",
        }

    receiver.wait_for(all_services)
    saga = receiver.trace(root[0].trace_id)
    ids = by_id(saga)
    steps = [s for s in saga if s.parent_id == root[0].span_id and "merge.saga.runner" in s.attributes]
    assert [s.name.removeprefix("merge execute ") for s in steps] == [
        "freeze",
        "move_packages",
        "move_contracts",
        "retire_contract",
        "retire_credentials",
        "unfreeze",
        "finish",
    ]
    # The steps' RPCs reach contract, package and identity in the merge's trace.
    served = {s.service for s in saga if s.kind == "server"}
    assert served == {"contract", "package", "identity"}
    for s in saga:
        if s.kind == "server":
            call = ids[s.parent_id]
            assert call.service == "merge" and ids[call.parent_id] in steps
