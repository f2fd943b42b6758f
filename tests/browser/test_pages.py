"""The web pages in a real chromium against the five real processes: the three logins,
"forgot password", the customer area, an invoice download, the package administration and
CSRF refusal."""

from __future__ import annotations

import re
import uuid

from tests.browser.conftest import mail_text


def test_customer_login_shows_packages_in_the_middle_and_the_contract_menu_on_the_left(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"erika-{uuid.uuid4().hex[:8]}.example"
    suite.create_package(customer.number, domains=[domain])
    b = open_browser()
    page = b.go("/")
    assert page.url.endswith("/login")
    b.shot("login")
    b.login_customer(customer.number, customer.password)
    assert page.locator("#customer-number").inner_text() == customer.number
    assert domain in page.locator("ul.packages").inner_text()
    menu = page.locator("nav.menu").inner_text()
    for item in (
        "Change customer data",
        "Payment data",
        "Change customer password",
        "Your invoices",
        "Forms",
    ):
        assert item in menu
    b.shot("overview")

    page.click("#logout")
    page.wait_for_url("**/login?notice=signed_out")
    assert "You have been logged out." in page.inner_text("main")
    b.go("/customer")
    assert "/login" in page.url  # the session is gone


def test_a_wrong_password_is_refused_on_the_page_and_keeps_the_number(suite, open_browser):
    customer = suite.create_customer("de")
    b = open_browser()
    page = b.go("/login")
    page.fill("#f-customer_number", customer.number)
    page.fill("#f-password", "not-the-password")
    page.click("main form button[type=submit]")
    assert "The data you entered are not correct." in page.inner_text("#form-error")
    assert page.input_value("#f-customer_number") == customer.number
    assert page.input_value("#f-password") == ""
    b.shot("wrong-password")


def test_forgot_password_mails_a_link_that_sets_a_new_password(suite, open_browser):
    customer = suite.create_customer("nl")
    b = open_browser("nl-NL")
    page = b.go("/login")
    assert page.locator("html").get_attribute("lang") == "nl"
    page.click("#forgot")
    page.fill("#f-customer_number", customer.number)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/login?notice=reset_sent")
    mails = suite.mails.wait_for(customer.fields["email"])
    link = re.search(r"https?://\S+/password-reset\?token=[A-Za-z0-9_\-]+", mail_text(mails[-1].data)).group(
        0
    )
    page.goto(link)
    page.fill("#f-new_password", "Nieuw-Wachtwoord-123")
    page.fill("#f-confirm_password", "Nieuw-Wachtwoord-123")
    b.shot("reset")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/login?notice=reset_done")
    b.login_customer(customer.number, "Nieuw-Wachtwoord-123")
    assert "Je pakketten" in page.inner_text("main")


def test_customer_data_field_errors_stay_next_to_the_field_and_changes_are_saved(suite, open_browser):
    customer = suite.create_customer("de")
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)
    page.click("nav.menu >> text=Change customer data")
    assert "contract handover" in page.inner_text("#written-form-hint")
    assert page.locator("input[name=last_name]").count() == 0
    page.fill("#f-street", "Neue Straße 9")
    page.fill("#f-email", "not-an-address")
    page.click("main form button[type=submit]")
    assert page.inner_text("#e-email") == "Please enter a valid e-mail address."
    assert page.input_value("#f-email") == "not-an-address"
    assert page.input_value("#f-street") == "Neue Straße 9"
    b.shot("field-error")
    page.fill("#f-email", "erika.neu@example.com")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/customer/data?notice=saved")
    assert page.input_value("#f-email") == "erika.neu@example.com"
    assert page.input_value("#f-street") == "Neue Straße 9"

    page.click("nav.menu >> text=Payment data")
    assert "DE89" in page.inner_text("#current-payment")
    page.click("nav.menu >> text=Forms")
    assert page.locator("a[href$='/customer/forms/contract_transfer.pdf']").count() == 1
    assert page.locator("#form-link_customer_numbers").count() == 1
    b.shot("forms")


def test_change_customer_password_ends_other_sessions(suite, open_browser):
    customer = suite.create_customer("uk")
    first, second = open_browser(), open_browser()
    first.login_customer(customer.number, customer.password)
    page = second.login_customer(customer.number, customer.password)
    page.click("nav.menu >> text=Change customer password")
    page.fill("#f-current_password", customer.password)
    page.fill("#f-new_password", "short")
    page.fill("#f-confirm_password", "short")
    page.click("main form button[type=submit]")
    assert "8 to 128 characters" in page.inner_text("#e-new_password")
    page.fill("#f-current_password", customer.password)
    page.fill("#f-new_password", "A-much-better-passw0rd")
    page.fill("#f-confirm_password", "A-much-better-passw0rd")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/customer/password?notice=password_changed")
    second.go("/customer")
    assert page.url.endswith("/customer")  # this session survives
    first.go("/customer")
    assert "/login" in first.page.url  # the other one is dead


def test_an_invoice_downloads_as_pdf_and_an_open_one_can_be_debited_again(suite, open_browser):
    customer = suite.create_customer("de")
    open_number = suite.create_invoice(customer.number, amount="19.99", status="open")
    paid_number = suite.create_invoice(customer.number, amount="5.00", status="paid")
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)
    page.click("nav.menu >> text=Your invoices")
    rows = page.locator("#invoices tbody tr")
    assert rows.count() == 2
    b.shot("invoices")
    with page.expect_download() as download_info:
        page.click(f"a[href$='/customer/invoices/{open_number}.pdf']")
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert open(download.path(), "rb").read(5) == b"%PDF-"
    paid_row = page.locator("#invoices tbody tr", has_text=paid_number)
    assert paid_row.locator("text=Repeat debit").count() == 0
    page.locator("#invoices tbody tr", has_text=open_number).locator(
        "button", has_text="Repeat debit"
    ).click()
    page.wait_for_url("**/customer/invoices?notice=debit_requested")
    assert "Repeat debit requested" in page.locator("#invoices tbody tr", has_text=open_number).inner_text()


def test_package_login_administers_the_package_and_shows_nothing_contractual(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"pkg-{uuid.uuid4().hex[:8]}.example"
    suite.create_package(customer.number, domains=[domain], package_password="Package-Passw0rd!")
    b = open_browser()
    page = b.go("/package-login")
    page.fill("#f-domain", domain)
    page.fill("#f-password", "Package-Passw0rd!")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/packages/*")
    assert domain in page.inner_text("h1")
    text = page.inner_text("body")
    assert customer.number not in text and "invoice" not in text.lower()
    assert page.locator("nav.menu").count() == 0
    page.select_option("#f-php_version", "8.2")
    page.fill("#f-php_memory_limit_mb", "4096")
    page.click("text=Save settings")
    assert "64 to 1024" in page.inner_text("#e-php_memory_limit_mb")
    assert page.input_value("#f-php_memory_limit_mb") == "4096"
    page.fill("#f-php_memory_limit_mb", "512")
    page.click("text=Save settings")
    page.wait_for_url("**notice=settings_saved")
    assert page.input_value("#f-php_version") == "8.2"
    b.shot("package-admin")
    b.go("/customer")
    assert "may not open this page" in page.inner_text("main")


def test_the_customer_reaches_the_package_administration_and_sets_the_package_password(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"own-{uuid.uuid4().hex[:8]}.example"
    suite.create_package(customer.number, domains=[domain])
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)
    page.locator("li.package", has_text=domain).locator("text=Settings").click()
    page.fill("#f-new_password", "Fresh-Package-Pw1")
    page.fill("#f-confirm_password", "Fresh-Package-Pw1")
    page.click("text=Set password")
    page.wait_for_url("**notice=package_password_set")
    assert suite.login_package(domain, "Fresh-Package-Pw1")


def test_staff_login_opens_the_review_queue(suite, open_browser):
    b = open_browser()
    page = b.go("/staff/login")
    page.fill("#f-username", suite.staff_username)
    page.fill("#f-password", suite.staff_password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/staff/merges")
    assert page.locator("h1").inner_text() == "Merges of customer numbers"
    b.go("/customer")
    assert "may not open this page" in page.inner_text("main")


def test_a_form_sent_without_its_csrf_token_is_refused(suite, open_browser):
    customer = suite.create_customer("de")
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)
    page.click("nav.menu >> text=Change customer data")
    page.fill("#f-city", "Potsdam")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.click("form:has(#f-city) button[type=submit]")
    assert "could not be accepted" in page.inner_text("main")
    b.shot("csrf-refused")
    token = suite.login_customer(customer.number, customer.password)
    city = suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["city"]
    assert city == customer.fields["city"]  # nothing changed


def test_the_online_forms_downgrade_terminate_retract_and_split_a_package(suite, open_browser):
    customer = suite.create_customer("de")
    first, second = (f"{name}-{uuid.uuid4().hex[:8]}.example" for name in ("main", "extra"))
    suite.create_package(customer.number, product="hosting-plus", domains=[first, second])
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)

    page.click("nav.menu >> text=Package splitting")
    page.fill("#f-domain", second)
    page.select_option("#f-target_package_id", "")
    page.select_option("#f-product", "hosting-basic")
    page.click("main form button[type=submit]")
    page.wait_for_url("**notice=split")
    page.click("nav.menu >> text=Your packages")
    assert page.locator("li.package").count() == 2

    page.click("nav.menu >> text=Package change (downgrade)")
    page.select_option("#f-package_id", label=f"Hosting Plus – {first}")
    page.select_option("#f-product", "hosting-basic")
    page.click("main form button[type=submit]")
    page.wait_for_url("**notice=downgraded")

    page.click("nav.menu >> text=Termination")
    page.select_option("#f-package_id", label=f"Hosting Basic – {first}")
    page.fill("#f-domain", "not-in-this-package.example")
    page.click("main form button[type=submit]")
    assert "does not belong" in page.inner_text("#e-domain")
    page.fill("#f-domain", "")
    page.click("main form button[type=submit]")
    page.wait_for_url("**notice=terminated")
    row = page.locator("#terminations tbody tr").first
    assert "open" in row.inner_text()
    b.shot("terminated")
    row.locator("text=Retract").click()
    page.wait_for_url("**notice=retracted")
    assert "retracted" in page.locator("#terminations tbody tr").first.inner_text()
