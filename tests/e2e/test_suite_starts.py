"""The five real processes start and the gateway reports them healthy, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.e2e.harness import SERVICES


def test_healthz_is_200_and_names_the_four_services(suite):
    reply = suite.api("GET", "/healthz")
    assert reply.status_code == 200, reply.text
    body = reply.text.lower()
    for name in SERVICES:
        assert name in body, f"/healthz does not mention {name}: {reply.text}"


def test_staff_logs_in_with_the_configured_credentials(suite):
    token = suite.staff_token(fresh=True)
    queue = suite.api("GET", "/api/v1/admin/merges", token=token)
    assert queue.status_code == 200 and "merges" in queue.json()


def test_a_customer_created_by_staff_sees_its_packages_on_either_database(any_suite):
    customer = any_suite.create_customer(market="nl")
    package_id = any_suite.create_package(customer.number)
    token = any_suite.login_customer(customer.number, customer.password)
    listed = any_suite.api("GET", "/api/v1/packages", token=token, expect=200).json()
    assert [p["id"] for p in listed["packages"]] == [package_id]


def test_healthz_names_a_stopped_service_with_503_until_it_is_back(suite):
    suite.stop("package")
    try:
        reply = suite.api("GET", "/healthz")
        assert reply.status_code == 503
        assert "package" in reply.text
    finally:
        suite.start("package")
    suite.wait_ready(30)
    assert suite.api("GET", "/healthz").status_code == 200
