"""The execution saga of a merge, and of its reversal.

Each step is an idempotent RPC keyed by the merge id (and direction). The step log is written
before ("started") and after ("done") every step, each in its own commit. A crash of any
process at any point is survived: on start-up every merge that is `executing` (or `reversing`)
is run again from its first step that is not done; a step that had started is simply repeated,
which the services answer from their record. A transient failure (a service down) is retried
with back-off; a permanent one undoes every step done so far, in reverse order, and the merge
ends `failed`: done exactly once, or cleanly undone, never half.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cc_common.errors import DomainError, ServiceUnavailable
from cc_common.faults import crash_point

from merge_service.domain import model
from merge_service.service_layer import mails
from merge_service.service_layer.ports import Backends

log = logging.getLogger(__name__)

Moved = dict[str, list[str]]


@dataclass(frozen=True)
class Step:
    name: str
    do: Callable[[Backends, model.Merge], Moved | None]
    undo: Callable[[Backends, model.Merge], object] | None = None


def _status(numbers: Callable[[model.Merge], list[str]], status: str, merged_into: bool = False):
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


def _packages(reverse: bool):
    return lambda b, m: b.transfer_packages(
        merge_id=m.id, source=m.source_customer_number, target=m.target_customer_number, reverse=reverse
    )


def _contracts(reverse: bool):
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


INTERNAL_RETRIES = 5


class Stopped(Exception):
    """The process is shutting down; the saga resumes on the next start."""


class SagaRunner:
    """Runs sagas one after another in a worker thread; `run(merge_id)` is the testable unit."""

    def __init__(self, uow_factory, backends: Backends, *, retry_cap: float = 5.0, on_mail: Callable[[], None] | None = None):
        self._uow = uow_factory
        self._backends = backends
        self._retry_cap = retry_cap
        self._on_mail = on_mail or (lambda: None)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="merge-saga", daemon=True)

    # scheduling ----------------------------------------------------------------------------
    def start(self) -> SagaRunner:
        self._thread.start()
        self.resume_all()
        return self

    def resume_all(self) -> None:
        with self._uow() as uow:
            ids = uow.merges.ids_in_status(model.EXECUTING, model.REVERSING)
        for merge_id in ids:
            log.info("resuming merge %s", merge_id)
            self.schedule(merge_id)

    def schedule(self, merge_id: str) -> None:
        with self._lock:
            if merge_id in self._pending:
                return
            self._pending.add(merge_id)
        self._queue.put(merge_id)

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            merge_id = self._queue.get()
            if merge_id is None:
                return
            retry = False
            try:
                self.run(merge_id)
            except Stopped:
                return
            except Exception:  # e.g. this service's own database failing for a moment
                log.exception("saga of merge %s interrupted; retrying in %.0f s", merge_id, self._retry_cap)
                retry = True
            finally:
                with self._lock:
                    self._pending.discard(merge_id)
            if retry and not self._stop.is_set():
                timer = threading.Timer(self._retry_cap, self.schedule, args=(merge_id,))
                timer.daemon = True
                timer.start()

    # the saga ------------------------------------------------------------------------------
    def run(self, merge_id: str) -> str:
        with self._uow() as uow:
            merge = uow.merges.get(merge_id)
        if merge is None:
            return "missing"
        if merge.status == model.EXECUTING:
            return self._run_saga(merge, "execute", EXECUTE)
        if merge.status == model.REVERSING:
            return self._run_saga(merge, "reverse", REVERSE)
        return merge.status

    def _run_saga(self, merge: model.Merge, saga: str, steps: tuple[Step, ...]) -> str:
        with self._uow() as uow:
            states = [uow.merges.step_state(merge.id, saga, step.name) for step in steps]
        if saga == "execute" and "failed" in states:
            # The process stopped while undoing: go on undoing, never forward again.
            return self._compensate(merge, saga, steps, states.index("failed"), "", resumed=True)
        for position, step in enumerate(steps):
            if states[position] == "done":
                continue
            with self._uow() as uow:
                uow.merges.mark_step(merge.id, saga, step.name, position, "started", model.utcnow())
                uow.commit()
            crash_point(f"merge:before:{step.name}")
            try:
                moved = self._call(lambda step=step: step.do(self._backends, merge))
            except DomainError as exc:
                log.error("merge %s: step %s failed for good: %s", merge.id, step.name, exc)
                if saga == "reverse":
                    # A reversal is not undone half-way (that would leave numbers frozen and
                    # records split): it stays `reversing` with the failed step in the audit
                    # for staff, and is tried again on the next start.
                    with self._uow() as uow:
                        uow.merges.mark_step(merge.id, saga, step.name, position, "failed", model.utcnow(), str(exc))
                        uow.commit()
                    return model.REVERSING
                return self._compensate(merge, saga, steps, position, str(exc))
            crash_point(f"merge:after:{step.name}")
            with self._uow() as uow:
                if moved and saga == "execute":
                    for kind, ids in moved.items():
                        uow.merges.record_moved(merge.id, kind, ids)
                uow.merges.mark_step(merge.id, saga, step.name, position, "done", model.utcnow())
                uow.commit()
        return self._finish(merge.id, saga)

    def _call(self, fn: Callable[[], Moved | None]) -> Moved | None:
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
            if self._stop.is_set():
                raise Stopped()
            self._stop.wait(delay)
            if self._stop.is_set():
                raise Stopped()
            delay = min(delay * 2, self._retry_cap)

    def _finish(self, merge_id: str, saga: str) -> str:
        with self._uow() as uow:
            merge = uow.merges.get(merge_id, for_update=True)
            if saga == "execute" and merge.status == model.EXECUTING:
                merge.complete()
                mails.queue(uow, merge, "completed")
            elif saga == "reverse" and merge.status == model.REVERSING:
                merge.finish_reversal()
                mails.queue(uow, merge, "reversed")
            uow.merges.unlock(merge.id)
            uow.merges.save(merge)
            uow.commit()
        self._on_mail()
        return merge.status

    def _compensate(
        self, merge: model.Merge, saga: str, steps: tuple[Step, ...], failed_at: int, error: str, resumed: bool = False
    ) -> str:
        if not resumed:  # the failed step is the marker: after a crash, undoing goes on
            with self._uow() as uow:
                uow.merges.mark_step(merge.id, saga, steps[failed_at].name, failed_at, "failed", model.utcnow(), error)
                uow.commit()
        for position in range(failed_at, -1, -1):
            step = steps[position]
            if step.undo is None:
                continue
            try:
                self._call(lambda step=step: step.undo(self._backends, merge))
            except DomainError as exc:  # logged for staff; the remaining steps are still undone
                log.error("merge %s: undoing %s failed: %s", merge.id, step.name, exc)
                continue
            if position < failed_at:
                with self._uow() as uow:
                    uow.merges.mark_step(merge.id, saga, step.name, position, "compensated", model.utcnow())
                    uow.commit()
        with self._uow() as uow:
            current = uow.merges.get(merge.id, for_update=True)
            current.fail()
            mails.queue(uow, current, "failed")
            uow.merges.unlock(current.id)
            uow.merges.save(current)
            uow.commit()
        self._on_mail()
        return current.status


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:  # pragma: no cover - test aid
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
