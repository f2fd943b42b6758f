"""merge-service's use cases and saga over a real database, with in-memory backends."""

from __future__ import annotations

from functools import partial

import pytest
from cc_common import db
from cc_common.errors import Conflict, InvalidInput, Unauthenticated
from cc_common.tokens import Principal
from merge_service.bootstrap import MIGRATIONS
from merge_service.service_layer import services
from merge_service.service_layer.saga import SagaRunner
from merge_service.service_layer.unit_of_work import MergeUnitOfWork

from tests.support.fake_backends import FakeBackends, check_invariants


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


STAFF = Principal(kind="staff", subject="staff:admin", jti="s", generation=0, expires_at=2**40, issued_at=0)


@pytest.fixture
def world(database_url):
    url = database_url("merge")
    db.upgrade(url, MIGRATIONS)
    engine = db.make_engine(url)
    uow = partial(MergeUnitOfWork, db.make_session_factory(engine))
    fake = FakeBackends()
    fake.add_customer("100")
    fake.add_customer("200", street="Nebenstraße 9")
    for i in range(3):
        fake.packages[f"pkg_a{i}"] = "100"
        fake.packages[f"pkg_b{i}"] = "200"
        fake.invoices[f"RE_b{i}"] = "200"
    saga = SagaRunner(uow, fake, retry_cap=0.01)
    scheduled: list[str] = []
    yield uow, fake, saga, scheduled
    engine.dispose()


def start(uow, fake, target="100", source="200", **kw):
    kw.setdefault("source_password", "secret-password")
    return services.start_merge(
        uow=uow(), backends=fake, caller=customer(target), source_customer_number=source, **kw
    )


def test_a_merge_with_contact_differences_is_highlighted_taken_over_submitted_and_executed(world):
    uow, fake, saga, scheduled = world
    merge = start(uow, fake)
    assert merge.status == "ready"
    assert {r.field: r.result for r in merge.comparison}["street"] == "differs"
    with pytest.raises(Conflict) as err:
        services.submit_merge(
            uow=uow(), caller=customer("100"), merge_id=merge.id, auto_review=False, schedule=scheduled.append
        )
    assert err.value.code == "differences_not_resolved"
    services.take_over_data(uow=uow(), caller=customer("100"), merge_id=merge.id)
    services.submit_merge(
        uow=uow(), caller=customer("100"), merge_id=merge.id, auto_review=False, schedule=scheduled.append
    )
    services.approve_merge(uow=uow(), merge_id=merge.id, schedule=scheduled.append)
    assert scheduled == [merge.id]
    assert saga.run(merge.id) == "completed"
    assert all(owner == "100" for owner in fake.packages.values())
    assert fake.retired == {"200": "100"}
    merged, steps, moved = services.audit(uow=uow(), merge_id=merge.id)
    assert sorted(moved["packages"]) == ["pkg_b0", "pkg_b1", "pkg_b2"]
    assert sorted(moved["invoices"]) == ["RE_b0", "RE_b1", "RE_b2"]
    assert all(s.state == "done" for s in steps)
    check_invariants(fake, 6, 3)
    # The kept number can start the next merge at once.
    fake.add_customer("300")
    assert start(uow, fake, source="300").status == "ready"


def test_wrong_proof_is_invalid_credentials_without_a_hint(world):
    uow, fake, _, _ = world
    with pytest.raises(Unauthenticated) as err:
        start(uow, fake, source_password="wrong")
    assert err.value.code == "invalid_credentials"
    with pytest.raises(Unauthenticated):
        start(uow, fake, source_password="", domain="nope.example", domain_password="x")


def test_the_same_number_is_refused(world):
    uow, fake, _, _ = world
    with pytest.raises(InvalidInput) as err:
        start(uow, fake, source="100")
    assert err.value.code == "same_customer_number"


def test_different_markets_are_refused(world):
    uow, fake, _, _ = world
    fake.add_customer("400", market="nl")
    with pytest.raises(Conflict) as err:
        start(uow, fake, source="400")
    assert err.value.code == "different_markets"


def test_a_number_in_an_open_merge_cannot_join_another(world):
    uow, fake, _, _ = world
    fake.add_customer("300")
    start(uow, fake)
    with pytest.raises(Conflict) as err:
        start(uow, fake, target="300", source="200")
    assert err.value.code == "merge_conflict"
    with pytest.raises(Conflict):
        start(uow, fake, target="200", source="100")


def test_a_cancelled_merge_releases_both_numbers(world):
    uow, fake, _, _ = world
    merge = start(uow, fake)
    services.cancel_merge(uow=uow(), caller=customer("100"), merge_id=merge.id)
    assert start(uow, fake).status == "ready"


def test_transient_failures_are_retried_and_the_merge_completes_once(world):
    uow, fake, saga, scheduled = world
    merge = start(uow, fake)
    services.take_over_data(uow=uow(), caller=customer("100"), merge_id=merge.id)
    services.submit_merge(
        uow=uow(), caller=customer("100"), merge_id=merge.id, auto_review=True, schedule=scheduled.append
    )
    fake.unavailable_calls = 3
    assert saga.run(merge.id) == "completed"
    # The first step (freeze) is refused three times and retried; then every step runs once.
    assert fake.calls == ["set_customer_status"] * 4 + [
        "transfer_packages",
        "transfer_contracts",
        "set_customer_status",
        "retire_credentials",
        "set_customer_status",
    ]
    check_invariants(fake, 6, 3)


def test_a_step_that_fails_for_good_is_undone_and_the_merge_fails(world):
    uow, fake, saga, scheduled = world
    before = dict(fake.packages), dict(fake.invoices)
    merge = start(uow, fake)
    services.take_over_data(uow=uow(), caller=customer("100"), merge_id=merge.id)
    services.submit_merge(
        uow=uow(), caller=customer("100"), merge_id=merge.id, auto_review=True, schedule=scheduled.append
    )
    fake.fail_step = "retire_credentials"
    assert saga.run(merge.id) == "failed"
    assert (fake.packages, fake.invoices) == before
    assert fake.customers["200"]["status"] == "active" and fake.customers["100"]["status"] == "active"
    check_invariants(fake, 6, 3)


def test_a_saga_repeated_after_a_crash_changes_nothing_twice(world):
    uow, fake, saga, scheduled = world
    merge = start(uow, fake)
    services.take_over_data(uow=uow(), caller=customer("100"), merge_id=merge.id)
    services.submit_merge(
        uow=uow(), caller=customer("100"), merge_id=merge.id, auto_review=True, schedule=scheduled.append
    )
    # Simulate a crash after move_packages ran but before its "done" was written.
    fake.transfer_packages(merge_id=merge.id, source="200", target="100", reverse=False)
    assert saga.run(merge.id) == "completed"
    calls = list(fake.calls)
    assert saga.run(merge.id) == "completed"
    assert fake.calls == calls  # a completed merge runs no step again
    _, steps, moved = services.audit(uow=uow(), merge_id=merge.id)
    assert [s.step for s in steps if s.state == "done"] == [
        "freeze",
        "move_packages",
        "move_contracts",
        "retire_contract",
        "retire_credentials",
        "unfreeze",
    ]
    assert sorted(moved["packages"]) == ["pkg_b0", "pkg_b1", "pkg_b2"]
    check_invariants(fake, 6, 3)


def test_a_reversal_returns_exactly_the_moved_records(world):
    uow, fake, saga, scheduled = world
    merge = start(uow, fake)
    services.take_over_data(uow=uow(), caller=customer("100"), merge_id=merge.id)
    services.submit_merge(
        uow=uow(), caller=customer("100"), merge_id=merge.id, auto_review=True, schedule=scheduled.append
    )
    saga.run(merge.id)
    fake.packages["pkg_new"] = "100"  # created after the merge: stays with the kept number
    services.reverse_merge(
        uow=uow(), backends=fake, merge_id=merge.id, reason="customer asked", schedule=scheduled.append
    )
    assert saga.run(merge.id) == "reversed"
    assert sorted(i for i, o in fake.packages.items() if o == "200") == ["pkg_b0", "pkg_b1", "pkg_b2"]
    assert fake.packages["pkg_new"] == "100"
    assert "200" not in fake.retired
    check_invariants(fake, 7, 3)


def test_a_customer_cannot_see_anothers_merge_but_staff_can(world):
    uow, fake, _, _ = world
    fake.add_customer("300")
    merge = start(uow, fake)
    from cc_common.errors import NotFound

    with pytest.raises(NotFound):
        services.get_merge(uow=uow(), caller=customer("300"), merge_id=merge.id)
    assert services.get_merge(uow=uow(), caller=STAFF, merge_id=merge.id).id == merge.id
    with pytest.raises(NotFound):
        services.take_over_data(uow=uow(), caller=customer("300"), merge_id=merge.id)


def _executing(uow, fake, scheduled, target="100", source="200"):
    merge = start(uow, fake, target=target, source=source)
    services.take_over_data(uow=uow(), caller=customer(target), merge_id=merge.id)
    services.submit_merge(
        uow=uow(), caller=customer(target), merge_id=merge.id, auto_review=True, schedule=scheduled.append
    )
    return merge


def test_a_crash_while_undoing_goes_on_undoing_after_the_restart_and_never_forward(world):
    uow, fake, saga, scheduled = world
    before = dict(fake.packages), dict(fake.invoices)
    merge = _executing(uow, fake, scheduled)
    fake.fail_step = "retire_credentials"
    real_undo = fake.transfer_contracts
    calls = {"n": 0}

    def crash_on_first_undo(**kw):
        if kw["reverse"] and calls["n"] == 0:
            calls["n"] += 1
            raise RuntimeError("the process died while undoing")
        return real_undo(**kw)

    fake.transfer_contracts = crash_on_first_undo
    with pytest.raises(RuntimeError):
        saga.run(merge.id)
    fake.fail_step = None  # after the restart retiring would work: it must not be tried again
    assert SagaRunner(uow, fake, retry_cap=0.01).run(merge.id) == "failed"
    assert (fake.packages, fake.invoices) == before
    assert "200" not in fake.retired
    check_invariants(fake, 6, 3)


def test_a_reversal_is_refused_when_the_numbers_changed_since(world):
    uow, fake, saga, scheduled = world
    merge = _executing(uow, fake, scheduled)
    saga.run(merge.id)
    fake.add_customer("300")
    later = _executing(uow, fake, scheduled, target="300", source="100")  # 300 absorbs the kept number
    saga.run(later.id)
    with pytest.raises(Conflict) as err:
        services.reverse_merge(
            uow=uow(), backends=fake, merge_id=merge.id, reason="asked", schedule=scheduled.append
        )
    assert err.value.code == "merge_conflict"


def test_a_reversal_that_fails_for_good_stays_reversing_for_staff_and_is_retried(world):
    uow, fake, saga, scheduled = world
    merge = _executing(uow, fake, scheduled)
    saga.run(merge.id)
    services.reverse_merge(
        uow=uow(), backends=fake, merge_id=merge.id, reason="asked", schedule=scheduled.append
    )
    fake.fail_step = "transfer_contracts"
    assert saga.run(merge.id) == "reversing"
    _, steps, _ = services.audit(uow=uow(), merge_id=merge.id)
    assert any(s.saga == "reverse" and s.state == "failed" for s in steps)
    fake.fail_step = None
    assert SagaRunner(uow, fake, retry_cap=0.01).run(merge.id) == "reversed"
    check_invariants(fake, 6, 3)


def test_the_absorbed_number_and_staff_can_cancel_a_draft(world):
    uow, fake, _, _ = world
    merge = start(uow, fake)
    assert services.cancel_merge(uow=uow(), caller=customer("200"), merge_id=merge.id).status == "cancelled"
    again = start(uow, fake)
    assert services.cancel_merge(uow=uow(), caller=STAFF, merge_id=again.id).status == "cancelled"
