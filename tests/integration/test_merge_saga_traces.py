"""A merge's saga has a trace of its own (docs/observability.md, "Traces"): its root span is
linked to the request that approved it, and every step, undo and end is a span of it, also
when the saga stops half-way and another copy resumes it."""

from __future__ import annotations

import threading
from functools import partial

import pytest
from cc_common import db, telemetry
from cc_common.errors import ServiceUnavailable
from cc_common.tokens import Principal
from merge_service.adapters.orm import MergeRow
from merge_service.bootstrap import MIGRATIONS
from merge_service.domain import model
from merge_service.service_layer import services
from merge_service.service_layer.saga import SagaRunner, Stopped
from merge_service.service_layer.unit_of_work import MergeUnitOfWork
from opentelemetry import trace
from sqlalchemy import update

from tests.support.fake_backends import FakeBackends, check_invariants
from tests.support.tracing import recording

STEPS = ["freeze", "move_packages", "move_contracts", "retire_contract", "retire_credentials", "unfreeze"]
request_tracer = trace.get_tracer("tests.request")


def customer(number: str) -> Principal:
    return Principal(
        kind="customer",
        subject=f"customer:{number}",
        jti="j",
        generation=0,
        expires_at=2**40,
        issued_at=0,
        customer_number=number,
    )


@pytest.fixture
def spans():
    with recording() as exporter:
        yield exporter


@pytest.fixture
def copies(database_url):
    """Two "copies" of merge-service (own engine, own owner id) over one database."""
    url = database_url("merge")
    db.upgrade(url, MIGRATIONS)
    engines = [db.make_engine(url), db.make_engine(url)]
    uows = [partial(MergeUnitOfWork, db.make_session_factory(e)) for e in engines]
    fake = FakeBackends()
    fake.add_customer("100")
    fake.add_customer("200", street="Nebenstraße 9")
    for i in range(2):
        fake.packages[f"pkg_a{i}"] = "100"
        fake.packages[f"pkg_b{i}"] = "200"
        fake.invoices[f"RE_b{i}"] = "200"
    runners = [SagaRunner(u, fake, retry_cap=0.01, owner=f"copy-{i}") for i, u in enumerate(uows)]
    yield uows, fake, runners
    for e in engines:
        e.dispose()


def approved_in_a_request(uow, fake: FakeBackends) -> tuple[str, trace.SpanContext]:
    """A merge submitted and approved at once (MERGE_REVIEW=auto) inside a request's span."""
    with request_tracer.start_as_current_span("POST /api/v1/merges/submit") as request:
        merge = services.start_merge(
            uow=uow(),
            backends=fake,
            caller=customer("100"),
            source_customer_number="200",
            source_password="secret-password",
        )
        services.take_over_data(uow=uow(), caller=customer("100"), merge_id=merge.id)
        merge = services.submit_merge(
            uow=uow(), caller=customer("100"), merge_id=merge.id, auto_review=True, schedule=lambda _id: None
        )
    assert merge.status == model.EXECUTING
    return merge.id, request.get_span_context()


def stored_trace(uow, merge_id: str) -> str:
    with uow() as u:
        return u.merges.get(merge_id).saga_trace


def saga_spans(spans, trace_id: int):
    return [
        s
        for s in spans.get_finished_spans()
        if s.context.trace_id == trace_id and s.name.startswith("merge ")
    ]


def test_the_saga_has_a_trace_of_its_own_linked_to_the_approving_request_with_every_step_a_span(
    copies, spans
):
    uows, fake, (runner, _) = copies
    merge_id, request = approved_in_a_request(uows[0], fake)
    traceparent = stored_trace(uows[0], merge_id)
    version, trace_hex, root_hex, flags = traceparent.split("-")
    trace_id, root_id = int(trace_hex, 16), int(root_hex, 16)
    assert version == "00" and int(flags, 16) & 1 and trace_id != request.trace_id  # sampled

    root = [s for s in spans.get_finished_spans() if s.context.span_id == root_id]
    assert [s.name for s in root] == ["merge execute"]
    assert root[0].parent is None and root[0].attributes["merge.id"] == merge_id
    assert [link.context.span_id for link in root[0].links] == [request.span_id]  # the approval

    assert runner.run(merge_id) == model.COMPLETED
    steps = saga_spans(spans, trace_id)
    assert [s.name for s in steps if s.context.span_id != root_id] == [
        f"merge execute {n}" for n in STEPS
    ] + ["merge execute finish"]
    assert all(s.parent.span_id == root_id for s in steps if s.context.span_id != root_id)
    assert [
        s.attributes["merge.step.position"] for s in steps if "merge.step.position" in s.attributes
    ] == list(range(6))
    check_invariants(fake, 4, 2)


def test_every_step_is_in_the_merges_trace_across_a_stop_and_a_resumption_by_another_copy(copies, spans):
    uows, fake, (first, second) = copies
    merge_id, _ = approved_in_a_request(uows[0], fake)
    trace_id = int(stored_trace(uows[0], merge_id).split("-")[1], 16)
    root_id = int(stored_trace(uows[0], merge_id).split("-")[2], 16)
    real = fake.transfer_contracts
    stopped = threading.Event()

    def going_down(**kw):  # the first copy is told to stop while contracts move (SIGTERM)
        if not stopped.is_set():
            stopped.set()
            first.stop()
            raise ServiceUnavailable("contract-service is restarting")
        return real(**kw)

    fake.transfer_contracts = going_down
    with pytest.raises(Stopped):
        first.run(merge_id)
    with uows[1]() as u:
        assert u.merges.get(merge_id).status == model.EXECUTING
        assert [s.step for s in u.merges.steps(merge_id) if s.state == "done"] == STEPS[:2]

    assert second.run(merge_id) == model.COMPLETED  # the other copy, its own engine and lease
    steps = [s for s in saga_spans(spans, trace_id) if s.context.span_id != root_id]
    assert [(s.name.removeprefix("merge execute "), s.attributes["merge.saga.runner"]) for s in steps] == [
        ("freeze", "copy-0"),
        ("move_packages", "copy-0"),
        ("move_contracts", "copy-0"),
        ("move_contracts", "copy-1"),
        ("retire_contract", "copy-1"),
        ("retire_credentials", "copy-1"),
        ("unfreeze", "copy-1"),
        ("finish", "copy-1"),
    ]
    assert {s.parent.span_id for s in steps} == {root_id}  # one trace, one root, both copies
    stopped_step, repeated = steps[2], steps[3]
    assert not stopped_step.status.is_ok and stopped_step.events[0].attributes["exception.type"].endswith(
        "Stopped"
    )
    assert repeated.attributes["merge.step.repeated"] is True
    assert steps[4].attributes["merge.step.repeated"] is False
    check_invariants(fake, 4, 2)


def test_a_failed_step_and_its_undoing_are_spans_of_the_merges_trace(copies, spans):
    uows, fake, (runner, _) = copies
    merge_id, _ = approved_in_a_request(uows[0], fake)
    trace_id = int(stored_trace(uows[0], merge_id).split("-")[1], 16)
    fake.fail_step = "retire_credentials"
    assert runner.run(merge_id) == model.FAILED
    names = [s.name.removeprefix("merge execute ") for s in saga_spans(spans, trace_id)][1:]
    assert names == [
        "freeze",
        "move_packages",
        "move_contracts",
        "retire_contract",
        "retire_credentials",
        "undo retire_credentials",
        "undo retire_contract",
        "undo move_contracts",
        "undo move_packages",
        "undo freeze",
        "fail",
    ]
    failed = saga_spans(spans, trace_id)[5]
    assert failed.status.description.startswith("step_refused")


def test_a_merge_approved_before_traces_were_kept_gets_its_trace_when_the_saga_runs(copies, spans):
    uows, fake, (runner, _) = copies
    merge_id, _ = approved_in_a_request(uows[0], fake)
    with uows[0]() as u:  # as the rows migrated from revision 0005
        u.session.execute(update(MergeRow).where(MergeRow.id == merge_id).values(saga_trace=None))
        u.commit()
    assert runner.run(merge_id) == model.COMPLETED
    traceparent = stored_trace(uows[0], merge_id)
    trace_id, root_id = (int(part, 16) for part in traceparent.split("-")[1:3])
    steps = saga_spans(spans, trace_id)
    assert len(steps) == 1 + len(STEPS) + 1
    assert {s.parent.span_id for s in steps if s.parent} == {root_id}


def test_without_an_sdk_a_new_trace_still_gets_ids_and_its_spans_share_them():
    noop = trace.NoOpTracer()
    traceparent = telemetry.new_trace("merge execute", tracer=noop)
    version, trace_hex, span_hex, flags = traceparent.split("-")
    assert (version, len(trace_hex), len(span_hex), flags) == ("00", 32, 16, "00")
    with noop.start_as_current_span(
        "merge execute freeze", context=telemetry.context_of(traceparent)
    ) as span:
        assert f"{span.get_span_context().trace_id:032x}" == trace_hex
        assert telemetry.current_traceparent() == traceparent  # passed on to the services as is
    assert telemetry.context_of("") == telemetry.context_of("not-a-traceparent")
