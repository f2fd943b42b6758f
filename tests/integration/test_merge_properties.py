"""A stateful property test (hypothesis) of random merges, cancels, reversals and crashes
against the invariants: merge-service's real use cases, saga and database (SQLite), with
in-memory backends that can crash before or after any step's effect."""

from __future__ import annotations

from functools import partial

from cc_common import db
from cc_common.errors import DomainError
from cc_common.tokens import Principal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from merge_service.bootstrap import MIGRATIONS
from merge_service.domain import model
from merge_service.service_layer import services
from merge_service.service_layer.saga import SagaRunner
from merge_service.service_layer.unit_of_work import MergeUnitOfWork

from tests.support.fake_backends import FakeBackends

NUMBERS = ["100", "200", "300", "400"]


class Crash(BaseException):
    """The process died: nothing after this point ran."""


class CrashingBackends(FakeBackends):
    """Crashes at the n-th step call, before or after the step took effect."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_in: int | None = None
        self.crash_after_effect = False

    def _step(self, name: str, fn, **kwargs):
        if self.crash_in is not None:
            self.crash_in -= 1
            if self.crash_in < 0:
                self.crash_in = None
                if self.crash_after_effect:
                    fn(**kwargs)
                raise Crash(name)
        return fn(**kwargs)

    def set_customer_status(self, **kw):
        return self._step("status", super().set_customer_status, **kw)

    def transfer_packages(self, **kw):
        return self._step("packages", super().transfer_packages, **kw)

    def transfer_contracts(self, **kw):
        return self._step("contracts", super().transfer_contracts, **kw)

    def retire_credentials(self, **kw):
        return self._step("retire", super().retire_credentials, **kw)

    def restore_credentials(self, **kw):
        return self._step("restore", super().restore_credentials, **kw)


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


class MergeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        url = f"sqlite:///{self._dir.name}/merge.db"
        db.upgrade(url, MIGRATIONS)
        self.engine = db.make_engine(url)
        self.uow = partial(MergeUnitOfWork, db.make_session_factory(self.engine))
        self.fake = CrashingBackends()
        for i, number in enumerate(NUMBERS):
            self.fake.add_customer(number)
            for j in range(i + 1):
                self.fake.packages[f"pkg_{number}_{j}"] = number
                self.fake.invoices[f"RE_{number}_{j}"] = number
        self.total = (set(self.fake.packages), set(self.fake.invoices))
        self.merges: list[str] = []

    def teardown(self) -> None:
        self.engine.dispose()
        self._dir.cleanup()

    def _run_with_crashes(self, merge_id: str, crash_in: int | None, after: bool) -> None:
        self.fake.crash_in, self.fake.crash_after_effect = crash_in, after
        for _ in range(3):  # a crash, then the restart resumes the saga
            try:
                SagaRunner(self.uow, self.fake, retry_cap=0.001).run(merge_id)
                break
            except Crash:
                continue
        self.fake.crash_in = None
        SagaRunner(self.uow, self.fake, retry_cap=0.001).run(merge_id)

    @rule(
        kept=st.sampled_from(NUMBERS),
        source=st.sampled_from(NUMBERS),
        crash_in=st.none() | st.integers(0, 7),
        after=st.booleans(),
        submit=st.booleans(),
    )
    def merge(self, kept, source, crash_in, after, submit):
        target = kept
        try:
            merge = services.start_merge(
                uow=self.uow(),
                backends=self.fake,
                caller=customer(target),
                source_customer_number=source,
                source_password="secret-password",
            )
        except DomainError as exc:
            assert exc.code in ("same_customer_number", "merge_conflict", "invalid_credentials"), exc.code
            return
        self.merges.append(merge.id)
        if not submit:
            return
        services.take_over_data(uow=self.uow(), caller=customer(target), merge_id=merge.id)
        services.submit_merge(
            uow=self.uow(),
            caller=customer(target),
            merge_id=merge.id,
            auto_review=True,
            schedule=lambda _id: None,
        )
        self._run_with_crashes(merge.id, crash_in, after)
        assert (
            services.get_merge(uow=self.uow(), caller=customer(target), merge_id=merge.id).status
            == model.COMPLETED
        )

    @rule(index=st.integers(0, 50))
    def cancel(self, index):
        if not self.merges:
            return
        merge_id = self.merges[index % len(self.merges)]
        with self.uow() as uow:
            merge = uow.merges.get(merge_id)
        try:
            services.cancel_merge(
                uow=self.uow(), caller=customer(merge.target_customer_number), merge_id=merge_id
            )
        except DomainError as exc:
            assert exc.code == "merge_not_open"

    @rule(index=st.integers(0, 50), crash_in=st.none() | st.integers(0, 6), after=st.booleans())
    def reverse(self, index, crash_in, after):
        if not self.merges:
            return
        merge_id = self.merges[index % len(self.merges)]
        try:
            services.reverse_merge(
                uow=self.uow(),
                backends=self.fake,
                merge_id=merge_id,
                reason="test",
                schedule=lambda _id: None,
            )
        except DomainError as exc:
            assert exc.code in ("merge_not_open", "merge_conflict"), exc.code
            return
        self._run_with_crashes(merge_id, crash_in, after)
        with self.uow() as uow:
            assert uow.merges.get(merge_id).status == model.REVERSED

    @invariant()
    def records_have_one_active_owner_and_nothing_is_lost(self):
        assert (set(self.fake.packages), set(self.fake.invoices)) == self.total
        for store in (self.fake.packages, self.fake.invoices):
            for owner in store.values():
                assert self.fake.customers[owner]["status"] == "active"
                assert owner not in self.fake.retired
        for number in self.fake.retired:
            assert number not in self.fake.packages.values() and number not in self.fake.invoices.values()


MergeMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestMergeMachine = MergeMachine.TestCase
