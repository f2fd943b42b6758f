"""Additional services (add-ons) through the five real processes: ordered and listed over the
API, refused where they must be, terminated on their own with a date, and ended by
contract-service's termination scheduler on that date through package-service."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest
from contract_service.domain.model import add_months
from sqlalchemy import create_engine, text

from tests.e2e.conftest import SHARED_SUITE_ENV


def unique_domain() -> str:
    return f"addon-{uuid.uuid4().hex[:10]}.example"


def error_of(reply):
    return reply.json()["error"]


@pytest.fixture(scope="module")
def scheduled(suite_factory):
    """A suite whose contract-service carries out due terminations every half second."""
    return suite_factory(env={**SHARED_SUITE_ENV, "TERMINATIONS_POLL_SECONDS": "0.5"})


def customer_with_package(suite, market="de", product="hosting-basic"):
    customer = suite.create_customer(market)
    token = suite.login_customer(customer.number, customer.password)
    domain = unique_domain()
    package_id = suite.create_package(
        customer.number, product=product, domains=[domain], package_password="Pkg-pass-12345"
    )
    return customer, token, package_id, domain


def term_ending_today(suite, package_id: str) -> str:
    """The package's contract began a year ago tomorrow, so its current term ends today and a
    termination made now takes effect today (as if a customer had waited for the last day)."""
    start = add_months(datetime.date.today(), -12) + datetime.timedelta(days=1)
    engine = create_engine(suite.database_urls["contract"])
    try:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE contracts SET start_date = :d WHERE package_id = :p"),
                {"d": start, "p": package_id},
            )
    finally:
        engine.dispose()
    return datetime.date.today().isoformat()


def wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_an_add_on_is_ordered_listed_and_raises_the_packages_limit(suite):
    customer, token, package_id, domain = customer_with_package(suite, market="uk")
    empty = suite.api("GET", f"/api/v1/packages/{package_id}/addons", token=token, expect=200).json()
    assert empty["addons"] == []
    assert [o["kind"] for o in empty["available"]] == ["extra_domain_slot", "mailbox_pack", "database"]
    created = suite.api("POST", f"/api/v1/packages/{package_id}/addons", token=token, json={"kind": "extra_domain_slot"},
                        expect=201).json()  # fmt: skip
    assert (created["kind"], created["status"], created["currency"], created["ends_at"]) == (
        "extra_domain_slot", "active", "GBP", None,
    )  # fmt: skip
    assert created["price"] == 1.79 and created["ordered_at"]
    listed = suite.api("GET", f"/api/v1/packages/{package_id}/addons", token=token, expect=200).json()[
        "addons"
    ]
    assert [a["id"] for a in listed] == [created["id"]]
    package = suite.api("GET", f"/api/v1/packages/{package_id}", token=token, expect=200).json()
    assert package["max_domains"] == 2

    package_token = suite.login_package(domain, "Pkg-pass-12345")
    seen = suite.api("GET", f"/api/v1/packages/{package_id}/addons", token=package_token, expect=200).json()
    assert [a["id"] for a in seen["addons"]] == [created["id"]]


def test_ordering_is_refused_for_a_package_login_an_unknown_kind_and_another_customers_package(suite):
    _customer, token, package_id, domain = customer_with_package(suite)
    _other, other_token, _other_package, _ = customer_with_package(suite)
    package_token = suite.login_package(domain, "Pkg-pass-12345")
    path = f"/api/v1/packages/{package_id}/addons"
    assert (
        error_of(suite.api("POST", path, token=package_token, json={"kind": "database"}, expect=403))["code"]
        == "forbidden"
    )
    assert (
        error_of(suite.api("POST", path, token=token, json={"kind": "sauna"}, expect=422))["field"] == "kind"
    )
    assert (
        error_of(suite.api("POST", path, token=other_token, json={"kind": "database"}, expect=404))["code"]
        == "not_found"
    )
    suite.api("GET", path, token=other_token, expect=404)
    assert suite.api("GET", path, token=token, expect=200).json()["addons"] == []


def test_an_add_on_is_terminated_on_its_own_and_the_termination_names_one_target(suite):
    _customer, token, package_id, domain = customer_with_package(suite)
    _other, _other_token, other_package, _ = customer_with_package(suite)
    addon = suite.api("POST", f"/api/v1/packages/{package_id}/addons", token=token, json={"kind": "database"},
                      expect=201).json()  # fmt: skip
    both = {"package_id": package_id, "domain": domain, "addon_id": addon["id"]}
    assert (
        error_of(suite.api("POST", "/api/v1/terminations", token=token, json=both, expect=422))["field"]
        == "addon_id"
    )
    unknown = {"package_id": package_id, "addon_id": "add_unknown"}
    assert (
        error_of(suite.api("POST", "/api/v1/terminations", token=token, json=unknown, expect=422))["field"]
        == "addon_id"
    )
    stranger = {"package_id": other_package, "addon_id": addon["id"]}
    suite.api("POST", "/api/v1/terminations", token=token, json=stranger, expect=(404, 422))

    body = {"package_id": package_id, "addon_id": addon["id"]}
    created = suite.api("POST", "/api/v1/terminations", token=token, json=body, expect=201).json()
    assert (created["addon_id"], created["domain"], created["status"]) == (addon["id"], None, "open")
    again = suite.api("POST", "/api/v1/terminations", token=token, json=body, expect=409)
    assert error_of(again)["code"] == "already_terminated"
    shown = suite.api("GET", f"/api/v1/packages/{package_id}/addons", token=token, expect=200).json()[
        "addons"
    ][0]
    assert (shown["status"], shown["ends_at"]) == ("terminated", created["effective_date"])
    contracts = suite.api("GET", "/api/v1/contracts", token=token, expect=200).json()["contracts"]
    assert [c["status"] for c in contracts if c["package_id"] == package_id] == ["active"]

    suite.api("DELETE", f"/api/v1/terminations/{created['id']}", token=token, expect=204)
    shown = suite.api("GET", f"/api/v1/packages/{package_id}/addons", token=token, expect=200).json()[
        "addons"
    ][0]
    assert (shown["status"], shown["ends_at"]) == ("active", None)


def test_the_scheduler_ends_a_terminated_add_on_on_its_date_and_a_terminated_package_orders_none(scheduled):
    suite = scheduled
    _customer, token, package_id, _domain = customer_with_package(suite)
    addons = f"/api/v1/packages/{package_id}/addons"
    slot = suite.api("POST", addons, token=token, json={"kind": "extra_domain_slot"}, expect=201).json()
    kept = suite.api("POST", addons, token=token, json={"kind": "mailbox_pack"}, expect=201).json()
    today = term_ending_today(suite, package_id)
    created = suite.api("POST", "/api/v1/terminations", token=token, json={"package_id": package_id, "addon_id": slot["id"]},
                        expect=201).json()  # fmt: skip
    assert created["effective_date"] == today

    def ended():
        listed = suite.api("GET", addons, token=token, expect=200).json()["addons"]
        return {a["id"]: (a["status"], a["ends_at"]) for a in listed}.get(slot["id"]) == (
            "ended",
            today,
        ) and listed

    listed = wait_for(ended)
    assert listed, suite.log_report(["contract", "package"])
    assert {a["id"]: a["status"] for a in listed} == {slot["id"]: "ended", kept["id"]: "active"}
    assert (
        suite.api("GET", f"/api/v1/packages/{package_id}", token=token, expect=200).json()["max_domains"] == 1
    )
    contracts = suite.api("GET", "/api/v1/contracts", token=token, expect=200).json()["contracts"]
    assert [c["status"] for c in contracts if c["package_id"] == package_id] == ["active"]
    again = suite.api("POST", "/api/v1/terminations", token=token, json={"package_id": package_id, "addon_id": slot["id"]},
                      expect=409)  # fmt: skip
    assert error_of(again)["code"] == "addon_ended"

    # The whole package ends today, too: its add-ons end with it, and it orders none.
    suite.api("POST", "/api/v1/terminations", token=token, json={"package_id": package_id}, expect=201)

    def package_ended():
        return (
            suite.api("GET", f"/api/v1/packages/{package_id}", token=token, expect=200).json()["status"]
            == "terminated"
        )

    assert wait_for(package_ended), suite.log_report(["contract", "package"])
    statuses = [a["status"] for a in suite.api("GET", addons, token=token, expect=200).json()["addons"]]
    assert statuses == ["ended", "ended"]
    refused = suite.api("POST", addons, token=token, json={"kind": "database"}, expect=409)
    assert error_of(refused)["code"] == "package_terminated"
