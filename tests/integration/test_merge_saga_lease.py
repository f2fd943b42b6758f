"""One owner per merge saga: two SagaRunners ("copies" of merge-service, each with its own
engine and owner id) over one database, on SQLite and PostgreSQL, with in-memory backends that
count every step and notice two copies inside one merge at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from cc_common import db
from cc_common.tokens import Principal
from merge_service.adapters.orm import MergeRow
from merge_service.bootstrap import MIGRATIONS
from merge_service.domain import model
from merge_service.service_layer import services
from merge_service.service_layer.saga import SagaRunner, wait_until
from merge_service.service_layer.unit_of_work import MergeUnitOfWork
from sqlalchemy import update

from tests.support.fake_backends import FakeBackends, check_invariants

STEPS = ["freeze", "move_packages", "move_contracts", "retire_contract", "retire_credentials", "unfreeze"]


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


class CountingBackends(FakeBackends):
    """Counts each step of each merge (by merge id, call and direction or status) and records
    every moment two callers were inside one merge's steps at once."""

    def __init__(self, step_seconds: float = 0.002) -> None:
        super().__init__()
        self.step_seconds = step_seconds
        self.counts: Counter[tuple[str, str]] = Counter()
        self.overlaps: list[str] = []
        self.by_thread: dict[str, set[str]] = {}
        self._inside: set[str] = set()
        self._guard = threading.Lock()

    def _step(self, merge_id: str, what: str, fn, **kw):
        with self._guard:
            if merge_id in self._inside:
                self.overlaps.append(f"{merge_id}:{what}")
            self._inside.add(merge_id)
            self.counts[(merge_id, what)] += 1
            self.by_thread.setdefault(threading.current_thread().name, set()).add(merge_id)
        try:
            time.sleep(self.step_seconds)  # widens the window a second copy would need
            return fn(merge_id=merge_id, **kw)
        finally:
            with self._guard:
                self._inside.discard(merge_id)

    def set_customer_status(self, *, merge_id, customer_numbers, status, merged_into=""):
        return self._step(
            merge_id,
            f"status:{status}",
            super().set_customer_status,
            customer_numbers=customer_numbers,
            status=status,
            merged_into=merged_into,
        )

    def transfer_packages(self, *, merge_id, source, target, reverse):
        return self._step(
            merge_id,
            f"packages:{reverse}",
            super().transfer_packages,
            source=source,
            target=target,
            reverse=reverse,
        )

    def transfer_contracts(self, *, merge_id, source, target, reverse):
        return self._step(
            merge_id,
            f"contracts:{reverse}",
            super().transfer_contracts,
            source=source,
            target=target,
            reverse=reverse,
        )

    def retire_credentials(self, *, merge_id, source, target):
        return self._step(merge_id, "retire", super().retire_credentials, source=source, target=target)

    def restore_credentials(self, *, merge_id, source):
        return self._step(merge_id, "restore", super().restore_credentials, source=source)


EXECUTE_CALLS = [
    "status:frozen",
    "packages:False",
    "contracts:False",
    "status:retired",
    "retire",
    "status:active",
]


class CountingRunner(SagaRunner):
    """A SagaRunner that records every end of a saga it reached (which copy, which merge)."""

    finishes: list[tuple[str, str]]

    def _finish(self, merge_id: str, saga: str) -> str:
        status = super()._finish(merge_id, saga)
        self.finishes.append((self.owner, merge_id))
        return status


@pytest.fixture
def two_copies(database_url):
    url = database_url("merge")
    db.upgrade(url, MIGRATIONS)
    engines = [db.make_engine(url), db.make_engine(url)]
    uows = [partial(MergeUnitOfWork, db.make_session_factory(e)) for e in engines]
    fake = CountingBackends()
    finishes: list[tuple[str, str]] = []
    runners: list[SagaRunner] = []

    def runner(i: int, **kw) -> SagaRunner:
        kw.setdefault("lease_seconds", 5)
        kw.setdefault("poll_seconds", 0.02)
        r = CountingRunner(uows[i], fake, retry_cap=0.01, owner=f"copy-{i}", **kw)
        r.finishes = finishes
        runners.append(r)
        return r

    yield uows, fake, runner, finishes
    for r in runners:
        r.stop()
    for e in engines:
        e.dispose()


def _executing(uow, fake, target: str, source: str, schedule) -> str:
    fake.add_customer(target)
    fake.add_customer(source, street="Nebenstraße 9")
    fake.packages[f"pkg_{target}"] = target
    fake.packages[f"pkg_{source}"] = source
    fake.invoices[f"RE_{source}"] = source
    merge = services.start_merge(
        uow=uow(),
        backends=fake,
        caller=customer(target),
        source_customer_number=source,
        source_password="secret-password",
    )
    services.take_over_data(uow=uow(), caller=customer(target), merge_id=merge.id)
    services.submit_merge(
        uow=uow(), caller=customer(target), merge_id=merge.id, auto_review=True, schedule=schedule
    )
    return merge.id


def _status(uow, merge_id: str) -> str:
    with uow() as u:
        return u.merges.get(merge_id).status


def test_two_copies_polling_one_database_run_every_step_of_every_merge_exactly_once(two_copies):
    uows, fake, runner, finishes = two_copies
    a, b = runner(0).start(), runner(1).start()

    def both(merge_id: str) -> None:  # each copy is told at once, and both poll as well
        a.schedule(merge_id)
        b.schedule(merge_id)

    ids = [_executing(uows[i % 2], fake, f"{1000 + i}", f"{5000 + i}", both) for i in range(24)]
    assert wait_until(lambda: all(_status(uows[0], m) == model.COMPLETED for m in ids), 90), [
        _status(uows[0], m) for m in ids
    ]
    time.sleep(0.3)  # a late second run would show up here
    assert fake.overlaps == []
    for merge_id in ids:
        assert {what: fake.counts[(merge_id, what)] for what in EXECUTE_CALLS} == dict.fromkeys(
            EXECUTE_CALLS, 1
        )
    assert sorted(m for _, m in finishes) == sorted(ids)  # each merge completed once, by one copy
    with uows[1]() as u:
        for merge_id in ids:
            assert [s.step for s in u.merges.steps(merge_id) if s.state == "done"] == STEPS
            row = u.session.get(MergeRow, merge_id)
            assert (row.saga_owner, row.saga_lease_until) == (None, None)  # released
    check_invariants(fake, 48, 24)


def test_a_copy_that_died_holding_the_lease_is_taken_over_once_the_lease_expired(two_copies):
    uows, fake, runner, finishes = two_copies
    merge_id = _executing(uows[0], fake, "100", "200", lambda _id: None)
    # A copy took the lease and died without a trace (no release, no heartbeat).
    now = model.utcnow()
    with uows[0]() as u:
        assert u.merges.claim_saga(merge_id, "dead-copy", now, now + timedelta(seconds=1.5))
        u.commit()
    taken = time.monotonic()
    survivor = runner(1, lease_seconds=1.5, poll_seconds=0.05).start()
    survivor.schedule(merge_id)  # told at once, the live copy still keeps off a lease held
    time.sleep(0.5)
    assert _status(uows[1], merge_id) == model.EXECUTING and not fake.counts
    assert wait_until(lambda: _status(uows[1], merge_id) == model.COMPLETED, 10)
    elapsed = time.monotonic() - taken
    assert 1.4 <= elapsed <= 1.5 + 0.05 + 2.0, elapsed
    assert finishes == [("copy-1", merge_id)]
    assert {what: fake.counts[(merge_id, what)] for what in EXECUTE_CALLS} == dict.fromkeys(EXECUTE_CALLS, 1)


def test_a_copy_that_lost_its_lease_mid_step_stops_without_writing_and_the_new_owner_finishes(two_copies):
    uows, fake, runner, finishes = two_copies
    merge_id = _executing(uows[0], fake, "100", "200", lambda _id: None)
    slow = runner(0, lease_seconds=30)
    inside, go_on = threading.Event(), threading.Event()
    real = fake.transfer_packages

    def stuck_once(**kw):
        if not inside.is_set():
            inside.set()
            go_on.wait(10)  # e.g. a paused process: meanwhile its lease is taken from it
        return real(**kw)

    fake.transfer_packages = stuck_once
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(slow.run(merge_id)))
    worker.start()
    assert inside.wait(10)
    # The lease ran out while the copy hung, and another copy took it.
    with uows[1]() as u:
        u.session.execute(update(MergeRow).where(MergeRow.id == merge_id).values(saga_owner="copy-1"))
        u.commit()
    go_on.set()
    worker.join(10)
    assert result == [model.EXECUTING]  # stopped at the fence of its next commit
    with uows[1]() as u:
        steps = {s.step: s.state for s in u.merges.steps(merge_id)}
        assert steps == {"freeze": "done", "move_packages": "started"}  # nothing written after the loss
        assert u.session.get(MergeRow, merge_id).saga_owner == "copy-1"  # its lease left alone
    # The new owner goes on from the step that had started (repeated: idempotent).
    assert runner(1).run(merge_id) == model.COMPLETED
    assert finishes == [("copy-1", merge_id)]
    assert fake.counts[(merge_id, "contracts:False")] == 1 and fake.counts[(merge_id, "retire")] == 1


def test_a_failed_try_is_scheduled_in_the_database_and_polled_up_when_due(two_copies):
    uows, fake, runner, finishes = two_copies
    merge_id = _executing(uows[0], fake, "100", "200", lambda _id: None)
    real = fake.transfer_contracts

    def broken_once(**kw):
        fake.transfer_contracts = real
        raise RuntimeError("this service's own database failed for a moment")

    fake.transfer_contracts = broken_once
    copy = runner(0)
    with pytest.raises(RuntimeError):
        copy.run(merge_id)
    with uows[0]() as u:
        row = u.session.get(MergeRow, merge_id)
        assert row.saga_owner is None and row.saga_attempts == 1 and row.saga_next_attempt_at is not None
    copy.start()  # the poller finds it due (retry_cap 0.01 s) - no timer in memory
    assert wait_until(lambda: _status(uows[0], merge_id) == model.COMPLETED, 10)
    with uows[0]() as u:
        assert u.session.get(MergeRow, merge_id).saga_attempts == 0
    assert fake.counts[(merge_id, "contracts:False")] == 1  # the failed try never reached the service
    assert fake.counts[(merge_id, "packages:False")] == 1  # done before the failure: not repeated
