"""The customer area's "Security" page in a real browser: the signed-in sessions, signing one of
them out (its browser is signed out at once), the login history and the data download."""

from __future__ import annotations

import json


def test_the_security_page_signs_out_another_session_and_its_browser_is_signed_out(suite, open_browser):
    customer = suite.create_customer("de")
    here = open_browser()
    elsewhere = open_browser("de-DE")
    elsewhere.login_customer(customer.number, customer.password)
    here.login_customer(customer.number, customer.password)

    page = here.go("/customer/security")
    rows = page.locator("#sessions tbody tr")
    assert rows.count() == 2
    assert page.locator("#sessions").get_by_text("This session").count() == 1
    assert page.locator("#logins tbody tr").count() == 2
    here.shot("two-sessions")

    page.locator("#sessions form button").click()  # the one other session has the only button
    page.wait_for_url("**/customer/security?notice=session_ended")
    assert "The session has been signed out." in page.inner_text("main")
    assert page.locator("#sessions tbody tr").count() == 1

    gone = elsewhere.go("/customer")
    assert "/login" in gone.url  # that browser's token died at once
    assert here.go("/customer").url.endswith("/customer")

    page = here.go("/customer/security")
    with page.expect_download() as info:
        page.click("#export")
    download = info.value
    assert customer.number in download.suggested_filename
    with open(download.path(), encoding="utf-8") as handle:
        data = json.load(handle)
    assert data["customer"]["customer_number"] == customer.number
    assert len(data["sessions"]) == 1


def test_the_security_page_is_in_german_and_dutch(suite, open_browser):
    customer = suite.create_customer("nl")
    for locale, title in (("de-DE", "Sicherheit"), ("nl-NL", "Beveiliging")):
        b = open_browser(locale)
        b.login_customer(customer.number, customer.password)
        page = b.go("/customer/security")
        assert page.locator("h1").inner_text() == title
