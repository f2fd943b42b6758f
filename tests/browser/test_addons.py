"""Additional services on the package administration page, in a real chromium against the five
real processes: the customer orders one and terminates it; the page shows it terminated with its
date, and the API sees the same add-on (one code path)."""

from __future__ import annotations

import uuid


def test_the_customer_orders_and_terminates_an_additional_service_on_the_package_page(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"addon-{uuid.uuid4().hex[:8]}.example"
    package_id = suite.create_package(customer.number, domains=[domain])
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)
    page.locator("li.package", has_text=domain).locator("text=More").click()
    section = page.locator("#addons")
    assert "This package has no additional services." in section.inner_text()
    assert "€1.99 per month" in section.inner_text()  # the extra domain slot in the market de
    page.check("#kind-extra_domain_slot")
    section.locator("#addon-order-button").click()
    page.wait_for_url("**notice=addon_ordered")
    assert "The additional service has been ordered." in page.inner_text("main")
    row = page.locator("#addon-list tbody tr")
    assert row.count() == 1 and "Extra domain slot" in row.inner_text() and "active" in row.inner_text()
    assert "at most 2" in page.inner_text("#package-facts")
    b.shot("addon-ordered")

    row.locator("button", has_text="Terminate").click()
    page.wait_for_url("**notice=addon_terminated")
    row = page.locator("#addon-list tbody tr")
    assert row.get_attribute("data-status") == "terminated"
    assert row.locator("button", has_text="Terminate").count() == 0
    token = suite.login_customer(customer.number, customer.password)
    addons = suite.api("GET", f"/api/v1/packages/{package_id}/addons", token=token, expect=200).json()[
        "addons"
    ]
    terminations = suite.api("GET", "/api/v1/terminations", token=token, expect=200).json()["terminations"]
    assert [(t["addon_id"], t["effective_date"]) for t in terminations] == [
        (addons[0]["id"], addons[0]["ends_at"])
    ]
    assert addons[0]["ends_at"] in row.inner_text()
    b.shot("addon-terminated")


def test_the_additional_services_are_offered_in_german(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"addon-de-{uuid.uuid4().hex[:8]}.example"
    suite.create_package(customer.number, domains=[domain])
    b = open_browser("de-DE")
    page = b.login_customer(customer.number, customer.password, lang="de")
    page.locator("li.package", has_text=domain).locator("a[href^='/packages/']").first.click()
    section = page.locator("#addons")
    assert "Zusatzleistungen" in section.inner_text() and "Zusätzlicher Domain-Platz" in section.inner_text()
    page.check("#kind-database")
    section.locator("#addon-order-button").click()
    page.wait_for_url("**notice=addon_ordered")
    assert "Die Zusatzleistung wurde bestellt." in page.inner_text("main")
