"""Terminations take effect on their date, through contract-service's use case on a real
database (SQLite and PostgreSQL): a due termination of a package ends its contract and mails the
customer in its language, a domain's leaves the contract running, a retracted one and one not yet
due are left alone, and each is carried out once however often (and by however many copies)
the scheduler runs."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from cc_common.errors import ServiceUnavailable
from contract_service.adapters.orm import outbox
from contract_service.service_layer import services, terminations
from sqlalchemy import select

from tests.support.contract_db import contract_database, principal

START = date(2026, 1, 1)


@pytest.fixture
def env(database_url):
    yield from contract_database(database_url("contract"))


def customer_with_packages(uow_factory, number: str, market: str, packages: int, start: date = START) -> None:
    data = {"first_name": "Erika", "last_name": "Mustermann", "street": "Hauptstraße 1", "zip": "10115",
            "city": "Berlin", "country": "DE", "email": f"k{number}@example.com"}  # fmt: skip
    if market == "nl":
        data.update(street="Keizersgracht 12", zip="1015 CX", city="Amsterdam", country="NL")
    services.create_customer(uow=uow_factory(), market=market, master_data=data, customer_number=number)
    for i in range(packages):
        services.create_contract(uow=uow_factory(), package_id=f"pkg_{number}_{i}", customer_number=number,
                                 product="hosting-basic", start_date=start.isoformat(), today=start)  # fmt: skip


def mails(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.recipient, r.subject) for r in conn.execute(select(outbox.c.recipient, outbox.c.subject))]


def test_due_terminations_take_effect_once_and_the_customer_is_told(env):
    uow_factory, engine = env
    customer_with_packages(uow_factory, "100", "de", 3)
    customer_with_packages(uow_factory, "200", "nl", 1, start=date(2026, 6, 1))
    owner, dutch = principal("customer", "100"), principal("customer", "200")
    whole = services.create_termination(uow=uow_factory(), caller=owner, package_id="pkg_100_0", today=START)
    domain = services.create_termination(uow=uow_factory(), caller=owner, package_id="pkg_100_1",
                                         domain="shop.example", today=START)  # fmt: skip
    retracted = services.create_termination(
        uow=uow_factory(), caller=owner, package_id="pkg_100_2", today=START
    )
    services.retract_termination(uow=uow_factory(), caller=owner, termination_id=retracted.id, today=START)
    later = services.create_termination(uow=uow_factory(), caller=dutch, package_id="pkg_200_0", today=START)
    due = whole.effective_date
    assert due == domain.effective_date < later.effective_date

    assert (
        terminations.carry_out_due(uow_factory=uow_factory, today=date.fromordinal(due.toordinal() - 1)) == []
    )
    done = terminations.carry_out_due(
        uow_factory=uow_factory, today=due, now=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert sorted(t.id for t in done) == sorted([whole.id, domain.id])
    assert terminations.carry_out_due(uow_factory=uow_factory, today=due) == []  # once
    assert [
        t.id for t in terminations.carry_out_due(uow_factory=uow_factory, today=later.effective_date)
    ] == [later.id]

    contracts = {c.package_id: c.status for c in services.list_contracts(uow=uow_factory(), caller=owner)}
    assert contracts == {"pkg_100_0": "terminated", "pkg_100_1": "active", "pkg_100_2": "active"}
    shown = {
        t.id: t.shown_status(today=due) for t in services.list_terminations(uow=uow_factory(), caller=owner)
    }
    assert shown == {whole.id: "effective", domain.id: "effective", retracted.id: "retracted"}
    sent = mails(engine)
    assert sorted(s for r, s in sent if r == "k100@example.com") == [
        "Ihr Paket ist beendet",
        "Ihre Domain ist gekündigt",
    ]
    assert [s for r, s in sent if r == "k200@example.com"] == ["Uw pakket is beëindigd"]


def test_copies_running_the_scheduler_together_carry_out_each_termination_once(env):
    uow_factory, engine = env
    customer_with_packages(uow_factory, "100", "de", 12)
    for i in range(12):
        services.create_termination(
            uow=uow_factory(), caller=principal("customer", "100"), package_id=f"pkg_100_{i}", today=START
        )
    due = date(2028, 1, 1)
    results: list[list] = []

    def copy() -> None:
        results.append(terminations.carry_out_due(uow_factory=uow_factory, today=due))

    threads = [threading.Thread(target=copy) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    carried = [t.id for r in results for t in r]
    assert len(carried) == 12 and len(set(carried)) == 12
    assert len(mails(engine)) == 12


class FlakyEnds:
    """The other services, down at the first call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.addons: list[tuple[str, str, date | None]] = []

    def end(self, *, package_id: str, domain: str, addon_id: str = "", day: date | None = None) -> None:
        if addon_id:
            self.addons.append((package_id, addon_id, day))
            return
        self.calls.append((package_id, domain))
        if len(self.calls) == 1:
            raise ServiceUnavailable("package-service is not reachable")


def test_the_other_services_follow_each_carried_out_termination_once_retrying_after_a_failure(env):
    uow_factory, _engine = env
    customer_with_packages(uow_factory, "100", "de", 2)
    owner = principal("customer", "100")
    whole = services.create_termination(uow=uow_factory(), caller=owner, package_id="pkg_100_0", today=START)
    domain = services.create_termination(uow=uow_factory(), caller=owner, package_id="pkg_100_1",
                                         domain="shop.example", today=START)  # fmt: skip
    ends = FlakyEnds()
    assert terminations.apply_carried_out(uow_factory=uow_factory, ends=ends) == []  # nothing carried out yet
    terminations.carry_out_due(uow_factory=uow_factory, today=whole.effective_date)
    first = terminations.apply_carried_out(uow_factory=uow_factory, ends=ends)
    assert len(first) == 1  # the first call failed: that one is left for the next run
    second = terminations.apply_carried_out(uow_factory=uow_factory, ends=ends)
    assert sorted(first + second) == sorted([whole.id, domain.id])
    assert terminations.apply_carried_out(uow_factory=uow_factory, ends=ends) == []
    assert sorted(ends.calls[1:]) == [("pkg_100_0", ""), ("pkg_100_1", "shop.example")]


def test_an_add_on_termination_leaves_the_contract_running_and_package_service_ends_the_add_on_on_its_date(
    env,
):
    uow_factory, engine = env
    customer_with_packages(uow_factory, "300", "nl", 1)
    owner = principal("customer", "300")
    addon = services.create_termination(
        uow=uow_factory(), caller=owner, package_id="pkg_300_0", addon_id="add_1", today=START
    )
    assert addon.addon_id == "add_1" and addon.effective_date == date(2026, 12, 31)
    # the add-on's open termination does not block the whole package's
    services.create_termination(uow=uow_factory(), caller=owner, package_id="pkg_300_0", today=START)
    terminations.carry_out_due(uow_factory=uow_factory, today=addon.effective_date)
    ends = FlakyEnds()
    ends.calls.append(("warm", ""))  # no failure this time
    terminations.apply_carried_out(uow_factory=uow_factory, ends=ends)
    assert ends.addons == [("pkg_300_0", "add_1", date(2026, 12, 31))]
    sent = [s for r, s in mails(engine) if r == "k300@example.com"]
    assert sorted(sent) == ["Uw extra dienst is beëindigd", "Uw pakket is beëindigd"]
