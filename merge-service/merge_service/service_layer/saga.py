"""The execution saga of a merge, and of its reversal (docs/merge-saga.md).

Each step is an idempotent RPC keyed by the merge id (and direction). The step log is written
before ("started") and after ("done") every step, each in its own commit. A crash of any
process at any point is survived: the merge is run again from its first step that is not done;
a step that had started is simply repeated, which the services answer from their record. A
transient failure (a service down) is retried with back-off; a permanent one undoes every step
done so far, in reverse order, and the merge ends `failed`: done exactly once, or cleanly
undone, never half.

One copy at a time: a saga runs only under this copy's lease on the merge row (`saga_owner`,
`saga_lease_until`), taken by compare-and-set, renewed by a heartbeat while it runs and checked
in every commit of a step (a copy that lost its lease stops without writing). Every copy polls
for due sagas (open, lease free or expired, `saga_next_attempt_at` reached), so the merge of a
copy that died is finished by another one once the lease has expired, without any restart.
Retries after a failure are scheduled in the row (`saga_next_attempt_at`), not in memory.

Traces (docs/observability.md): a saga has a trace of its own, started with its root span
when the merge is approved (or its reversal asked for) and linked to that request; its
traceparent is kept on the merge row (`saga_trace`). Every step, every undo and the end are
spans whose parent is that root, in whichever copy runs them and however often the saga is
resumed, and the RPCs of a step are its children.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TypeVar

from cc_common import metrics, telemetry
from cc_common.errors import DomainError, ServiceUnavailable
from cc_common.faults import crash_point
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import AttributeValue

from merge_service.domain import model
from merge_service.service_layer import mails
from merge_service.service_layer.ports import Backends
from merge_service.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("merge_service.saga")

Moved = dict[str, list[str]]
T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    name: str
    do: Callable[[Backends, model.Merge], Moved | None]
    undo: Callable[[Backends, model.Merge], object] | None = None


def _status(
    numbers: Callable[[model.Merge], list[str]], status: str, merged_into: bool = False
) -> Callable[[Backends, model.Merge], None]:
    def call(b: Backends, m: model.Merge) -> None:
        b.set_customer_status(
            merge_id=m.id,
            customer_numbers=numbers(m),
            status=status,
            merged_into=m.target_customer_number if merged_into else "",
        )

    return call


def _both(m: model.Merge) -> list[str]:
    return [m.target_customer_number, m.source_customer_number]


def _source(m: model.Merge) -> list[str]:
    return [m.source_customer_number]


def _target(m: model.Merge) -> list[str]:
    return [m.target_customer_number]


def _packages(reverse: bool) -> Callable[[Backends, model.Merge], Moved]:
    return lambda b, m: b.transfer_packages(
        merge_id=m.id, source=m.source_customer_number, target=m.target_customer_number, reverse=reverse
    )


def _contracts(reverse: bool) -> Callable[[Backends, model.Merge], Moved]:
    return lambda b, m: b.transfer_contracts(
        merge_id=m.id, source=m.source_customer_number, target=m.target_customer_number, reverse=reverse
    )


def _retire(b: Backends, m: model.Merge) -> None:
    b.retire_credentials(merge_id=m.id, source=m.source_customer_number, target=m.target_customer_number)


def _restore(b: Backends, m: model.Merge) -> None:
    b.restore_credentials(merge_id=m.id, source=m.source_customer_number)


EXECUTE = (
    Step("freeze", _status(_both, "frozen"), _status(_both, "active")),
    Step("move_packages", _packages(False), _packages(True)),
    Step("move_contracts", _contracts(False), _contracts(True)),
    Step("retire_contract", _status(_source, "retired", merged_into=True), _status(_source, "frozen")),
    Step("retire_credentials", _retire, _restore),
    Step("unfreeze", _status(_target, "active"), None),
)

REVERSE = (
    Step("freeze", _status(_both, "frozen"), None),
    Step("restore_credentials", _restore, None),
    Step("return_packages", _packages(True), None),
    Step("return_contracts", _contracts(True), None),
    Step("unfreeze", _status(_both, "active"), None),
)


def start_trace(merge: model.Merge, saga: str) -> str:
    """A new trace for the saga that starts now ("execute", or "reverse"): its root span is
    linked to the current span (the request that approved the merge); returns its traceparent,
    kept on the merge as `saga_trace`."""
    return telemetry.new_trace(f"merge {saga}", {"merge.id": merge.id, "merge.saga": saga}, tracer=tracer)


INTERNAL_RETRIES = 5
MAX_RETRY_DELAY = 300.0  # seconds: the longest wait between two tries of one saga


class Stopped(Exception):
    """The process is shutting down; the lease is given up and any copy goes on at once."""


class LeaseLost(Exception):
    """This copy no longer holds the merge's lease (it expired and another copy took it)."""


def owner_id() -> str:
    """Names one runner in `saga_owner`: host, process and a random part (one per runner)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass
class _Lease:
    merge_id: str
    lost: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class SagaRunner:
    """Runs sagas one after another in a worker thread; `run(merge_id)` is the testable unit.

    Any number of runners (copies of merge-service) may work on one database: a saga is run
    only by the runner holding its lease. `schedule(merge_id)` runs a merge this copy has just
    approved at once; besides, the worker polls every `poll_seconds` for due sagas."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        backends: Backends,
        *,
        retry_cap: float = 5.0,
        on_mail: Callable[[], None] | None = None,
        lease_seconds: float = 15.0,
        poll_seconds: float = 1.0,
        owner: str | None = None,
    ) -> None:
        self._uow = uow_factory
        self._backends = backends
        self._retry_cap = retry_cap
        self._on_mail = on_mail or (lambda: None)
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.owner = owner or owner_id()
        self._queue: queue.Queue[str] = queue.Queue()
        self._pending: set[str] = set()
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._local = threading.local()
        self._thread = threading.Thread(target=self._loop, name="merge-saga", daemon=True)

    # scheduling ----------------------------------------------------------------------------
    def start(self) -> SagaRunner:
        with self._uow() as uow:
            open_ids = uow.merges.ids_in_status(model.EXECUTING, model.REVERSING)
        if open_ids:
            log.info(
                "%d merge(s) executing or reversing: run by whichever copy holds or takes their lease",
                len(open_ids),
            )
        self._thread.start()
        return self

    def schedule(self, merge_id: str) -> None:
        """Runs the merge soon in this copy (unless another copy holds its lease)."""
        with self._lock:
            if merge_id in self._pending:
                return
            self._pending.add(merge_id)
        self._queue.put(merge_id)
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.ident is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                merge_id = self._queue.get_nowait()
            except queue.Empty:
                merge_id = None
            try:
                if merge_id is not None:
                    with self._lock:
                        self._pending.discard(merge_id)
                    self.run(merge_id)
                elif not self.run_due():
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()
            except Stopped:
                return
            except Exception:  # the saga's failure (retry scheduled), or this database failing
                log.exception("saga loop: %s", f"merge {merge_id}" if merge_id else "polling")
                self._stop.wait(self.poll_seconds)

    def run_due(self) -> bool:
        """Claims one due saga and runs it; False when none was due."""
        now = model.utcnow()
        with self._uow() as uow:
            found, merge_id = uow.merges.claim_due_saga(self.owner, now, now + self.lease)
            uow.commit()
        if not found:
            return False
        if merge_id is None:  # another copy took it between the pick and the claim
            return True
        if not self._enter(merge_id):  # pragma: no cover - only if run() is called meanwhile
            return True
        log.info("merge %s: saga taken up by %s", merge_id, self.owner)
        self._run_leased(merge_id)
        return True

    # the lease -----------------------------------------------------------------------------
    def _enter(self, merge_id: str) -> bool:
        with self._lock:
            if merge_id in self._running:
                return False
            self._running.add(merge_id)
            return True

    def _claim(self, merge_id: str) -> bool:
        if not self._enter(merge_id):
            return False
        now = model.utcnow()
        with self._uow() as uow:
            claimed = uow.merges.claim_saga(merge_id, self.owner, now, now + self.lease)
            uow.commit()
        if not claimed:
            with self._lock:
                self._running.discard(merge_id)
        return claimed

    def _fence(self, uow: UnitOfWork) -> None:
        """In a step's transaction: renews the lease, or raises LeaseLost (nothing is written)."""
        lease: _Lease = self._local.lease
        now = model.utcnow()
        if lease.lost.is_set() or not uow.merges.hold_saga(lease.merge_id, self.owner, now, now + self.lease):
            lease.lost.set()
            raise LeaseLost(lease.merge_id)

    def _renew(self) -> None:
        with self._uow() as uow:
            self._fence(uow)
            uow.commit()

    def _heartbeat(self, lease: _Lease) -> None:
        """Renews the lease every third of its length while a step runs (however long)."""
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while not lease.done.wait(interval):
            try:
                now = model.utcnow()
                with self._uow() as uow:
                    held = uow.merges.hold_saga(lease.merge_id, self.owner, now, now + self.lease)
                    uow.commit()
            except Exception:  # a failing database: the next beat tries again
                log.warning("merge %s: renewing the lease failed", lease.merge_id, exc_info=True)
                continue
            if not held:
                log.warning("merge %s: the lease was lost; this copy stops the saga", lease.merge_id)
                lease.lost.set()
                return

    def _release(self, merge_id: str, outcome: str | None) -> None:
        """outcome None: ended (or stopped: due at once elsewhere); "retry": due after back-off."""
        with self._uow() as uow:
            if outcome == "retry":
                attempts = uow.merges.saga_attempts(merge_id) + 1
                delay = min(
                    self._retry_cap * 2 ** min(attempts - 1, 16), max(MAX_RETRY_DELAY, self._retry_cap)
                )
                next_at = model.utcnow() + timedelta(seconds=delay)
                log.info("merge %s: saga tried again in %.1f s (try %d)", merge_id, delay, attempts + 1)
                uow.merges.release_saga(merge_id, self.owner, next_attempt_at=next_at, attempts=attempts)
            elif outcome == "stopped":
                uow.merges.release_saga(merge_id, self.owner, next_attempt_at=None, attempts=None)
            else:
                uow.merges.release_saga(merge_id, self.owner, next_attempt_at=None, attempts=0)
            uow.commit()

    # the saga ------------------------------------------------------------------------------
    def run(self, merge_id: str) -> str:
        """Runs the saga of an executing or reversing merge under this runner's lease; returns
        the merge's status afterwards (unchanged when another copy holds the lease)."""
        if not self._claim(merge_id):
            with self._uow() as uow:
                merge = uow.merges.get(merge_id)
            return merge.status if merge else "missing"
        return self._run_leased(merge_id)

    def _run_leased(self, merge_id: str) -> str:
        lease = _Lease(merge_id)
        self._local.lease = lease
        beat = threading.Thread(
            target=self._heartbeat, args=(lease,), name=f"merge-lease-{merge_id}", daemon=True
        )
        beat.start()
        outcome: str | None = "retry"
        try:
            status = self._run(merge_id)
            outcome = "retry" if status == model.REVERSING else None  # a stuck reversal: later
            return status
        except Stopped:
            outcome = "stopped"
            raise
        except LeaseLost:
            log.warning("merge %s: lease lost to another copy; stopped without writing", merge_id)
            outcome = "lost"
            with self._uow() as uow:
                merge = uow.merges.get(merge_id)
            return merge.status if merge else "missing"
        except Exception:
            log.exception("saga of merge %s interrupted", merge_id)
            raise
        finally:
            lease.done.set()
            beat.join()
            self._local.lease = None
            try:
                if outcome != "lost":
                    self._release(merge_id, outcome)
            except Exception:  # the lease then simply expires
                log.exception("merge %s: giving up the lease failed", merge_id)
            finally:
                with self._lock:
                    self._running.discard(merge_id)

    def _run(self, merge_id: str) -> str:
        with self._uow() as uow:
            merge = uow.merges.get(merge_id)
        if merge is None:
            return "missing"
        if merge.status not in (model.EXECUTING, model.REVERSING):
            return merge.status
        saga, steps = ("execute", EXECUTE) if merge.status == model.EXECUTING else ("reverse", REVERSE)
        if not merge.saga_trace:  # started before traces were kept: a trace begins here
            merge.saga_trace = start_trace(merge, saga)
            with self._uow() as uow:
                self._fence(uow)
                uow.merges.set_saga_trace(merge.id, merge.saga_trace)
                uow.commit()
        # Everything this run does is in the saga's trace (its SQL and RPCs included).
        token = otel_context.attach(telemetry.context_of(merge.saga_trace))
        try:
            return self._run_saga(merge, saga, steps)
        finally:
            otel_context.detach(token)

    def _span(
        self, merge_id: str, saga: str, name: str, position: int | None = None, **attributes: AttributeValue
    ) -> AbstractContextManager[trace.Span]:
        """A span of the saga's trace (the context _run attached): a step, an undo, the end."""
        attrs: dict[str, AttributeValue] = {
            "merge.id": merge_id,
            "merge.saga": saga,
            "merge.saga.runner": self.owner,
            **attributes,
        }
        if position is not None:
            attrs["merge.step.position"] = position
        return tracer.start_as_current_span(f"merge {saga} {name}", attributes=attrs)

    def _between_steps(self) -> None:
        if self._stop.is_set():
            raise Stopped()
        if self._local.lease.lost.is_set():
            raise LeaseLost(self._local.lease.merge_id)

    def _run_saga(self, merge: model.Merge, saga: str, steps: tuple[Step, ...]) -> str:
        with self._uow() as uow:
            states = [uow.merges.step_state(merge.id, saga, step.name) for step in steps]
        if saga == "execute" and "failed" in states:
            # The process stopped while undoing: go on undoing, never forward again.
            return self._compensate(merge, saga, steps, states.index("failed"), "", resumed=True)
        for position, step in enumerate(steps):
            if states[position] == "done":
                continue
            self._between_steps()
            # A step that had started before (a crash, a lost lease, a stop) is repeated.
            with self._span(
                merge.id, saga, step.name, position, **{"merge.step.repeated": states[position] is not None}
            ) as span:
                with self._uow() as uow:
                    self._fence(uow)
                    uow.merges.mark_step(merge.id, saga, step.name, position, "started", model.utcnow())
                    uow.commit()
                crash_point(f"merge:before:{step.name}")
                started = time.perf_counter()
                try:
                    moved = self._call(partial(step.do, self._backends, merge))
                except DomainError as exc:
                    metrics.SAGA_STEP_SECONDS.labels(saga, step.name, "failed").observe(
                        time.perf_counter() - started
                    )
                    log.error("merge %s: step %s failed for good: %s", merge.id, step.name, exc)
                    span.set_status(Status(StatusCode.ERROR, f"{exc.code}: {exc.message}"))
                    failed: DomainError | None = exc
                else:
                    failed = None
                    metrics.SAGA_STEP_SECONDS.labels(saga, step.name, "done").observe(
                        time.perf_counter() - started
                    )
                    crash_point(f"merge:after:{step.name}")
                    with self._uow() as uow:
                        self._fence(uow)
                        if moved and saga == "execute":
                            for kind, ids in moved.items():
                                uow.merges.record_moved(merge.id, kind, ids)
                        uow.merges.mark_step(merge.id, saga, step.name, position, "done", model.utcnow())
                        uow.commit()
            if failed is not None:
                if saga == "reverse":
                    # A reversal is not undone half-way (that would leave numbers frozen and
                    # records split): it stays `reversing` with the failed step in the audit
                    # for staff, and is tried again later (with back-off).
                    with self._uow() as uow:
                        self._fence(uow)
                        uow.merges.mark_step(
                            merge.id, saga, step.name, position, "failed", model.utcnow(), str(failed)
                        )
                        uow.commit()
                    return model.REVERSING
                return self._compensate(merge, saga, steps, position, str(failed))
        return self._finish(merge.id, saga)

    def _call(self, fn: Callable[[], T]) -> T:
        """Runs one step's RPC: a service that is down is waited for (back-off), an INTERNAL
        answer (e.g. "database is locked") is tried a few times, anything else is for good."""
        delay = 0.1
        internal_errors = 0
        while True:
            try:
                return fn()
            except ServiceUnavailable as exc:
                log.warning("a service is unavailable (%s); retrying in %.1f s", exc, delay)
            except DomainError as exc:
                if exc.code != "internal_error" or internal_errors >= INTERNAL_RETRIES:
                    raise
                internal_errors += 1
                log.warning("a service failed internally (%s); retry %d", exc, internal_errors)
            self._between_steps()
            self._stop.wait(delay)
            self._between_steps()
            delay = min(delay * 2, self._retry_cap)

    def _finish(self, merge_id: str, saga: str) -> str:
        with self._span(merge_id, saga, "finish"):
            return self._finish_saga(merge_id, saga)

    def _finish_saga(self, merge_id: str, saga: str) -> str:
        with self._uow() as uow:
            self._fence(uow)
            merge = uow.merges.get(merge_id, for_update=True)
            assert merge is not None  # merges are never deleted, and this one was read before
            entered = None
            if saga == "execute" and merge.status == model.EXECUTING:
                merge.complete()
                mails.queue(uow, merge, "completed")
                entered = merge.status
            elif saga == "reverse" and merge.status == model.REVERSING:
                merge.finish_reversal()
                mails.queue(uow, merge, "reversed")
                entered = merge.status
            uow.merges.unlock(merge.id)
            uow.merges.save(merge)
            uow.merges.release_saga(merge.id, self.owner, next_attempt_at=None, attempts=0)  # with the end
            uow.commit()
        if entered is not None:
            metrics.MERGE_TRANSITIONS.labels(entered).inc()
        self._on_mail()
        return merge.status

    def _compensate(
        self,
        merge: model.Merge,
        saga: str,
        steps: tuple[Step, ...],
        failed_at: int,
        error: str,
        resumed: bool = False,
    ) -> str:
        if not resumed:  # the failed step is the marker: after a crash, undoing goes on
            with self._uow() as uow:
                self._fence(uow)
                uow.merges.mark_step(
                    merge.id, saga, steps[failed_at].name, failed_at, "failed", model.utcnow(), error
                )
                uow.commit()
        for position in range(failed_at, -1, -1):
            step = steps[position]
            if step.undo is None:
                continue
            self._between_steps()
            with self._span(merge.id, saga, f"undo {step.name}", position) as span:
                self._renew()  # the lease is ours for the whole undo that follows
                try:
                    self._call(partial(step.undo, self._backends, merge))
                except DomainError as exc:  # logged for staff; the remaining steps are still undone
                    log.error("merge %s: undoing %s failed: %s", merge.id, step.name, exc)
                    span.set_status(Status(StatusCode.ERROR, f"{exc.code}: {exc.message}"))
                    metrics.SAGA_COMPENSATIONS.labels(saga, step.name, "failed").inc()
                    continue
                metrics.SAGA_COMPENSATIONS.labels(saga, step.name, "done").inc()
                if position < failed_at:
                    with self._uow() as uow:
                        self._fence(uow)
                        uow.merges.mark_step(
                            merge.id, saga, step.name, position, "compensated", model.utcnow()
                        )
                        uow.commit()
        with self._span(merge.id, saga, "fail"):
            return self._fail(merge)

    def _fail(self, merge: model.Merge) -> str:
        with self._uow() as uow:
            self._fence(uow)
            current = uow.merges.get(merge.id, for_update=True)
            assert current is not None  # merges are never deleted
            current.fail()
            mails.queue(uow, current, "failed")
            uow.merges.unlock(current.id)
            uow.merges.save(current)
            uow.merges.release_saga(current.id, self.owner, next_attempt_at=None, attempts=0)
            uow.commit()
        metrics.MERGE_TRANSITIONS.labels(current.status).inc()
        self._on_mail()
        return current.status


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:  # pragma: no cover - test aid
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
