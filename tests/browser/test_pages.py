"""The web pages in a real chromium against the five real processes: the three logins,
"forgot password", the customer area, an invoice download, the package administration (and
its upgrade), card payment data, offers of the month, help and contact, the 404 page and CSRF
refusal."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest

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
    # A new e-mail address needs the customer password in the same form.
    assert (
        page.inner_text("#e-current_password")
        == "Enter your current customer password to change the e-mail address."
    )
    page.fill("#f-current_password", customer.password)
    page.click("main form button[type=submit]")
    assert page.inner_text("#e-email") == "Please enter a valid e-mail address."
    assert page.input_value("#f-current_password") == ""
    assert page.input_value("#f-email") == "not-an-address"
    assert page.input_value("#f-street") == "Neue Straße 9"
    b.shot("field-error")
    page.fill("#f-email", "erika.neu@example.com")
    page.fill("#f-current_password", customer.password)
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
    page.locator("li.package", has_text=domain).locator("text=More").click()
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


# --- upgrade, card payment, offers of the month, help and contact, 404 ---------------------------

WORDS = {
    "de": {
        "locale": "de-DE",
        "payment": "Zahlungsdaten",
        "card_refused": "Kartennummern werden hier nicht angenommen",
        "offers": "Angebote des Monats",
        "order_now": "Jetzt bestellen",
        "ordered": "Das Angebot ist bestellt",
        "help": "Hilfe und Kontakt",
        "hours": "Montag bis Freitag",
        "price": "7,49",
        "not_found": "Seite nicht gefunden",
    },
    "nl": {
        "locale": "nl-NL",
        "payment": "Betaalgegevens",
        "card_refused": "Kaartnummers worden hier niet geaccepteerd",
        "offers": "Aanbiedingen van de maand",
        "order_now": "Nu bestellen",
        "ordered": "De aanbieding is besteld",
        "help": "Hulp en contact",
        "hours": "Maandag t/m vrijdag",
        "price": "7,49",
        "not_found": "Pagina niet gevonden",
    },
}


def test_the_customer_upgrades_a_package_from_its_administration_page(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"up-{uuid.uuid4().hex[:8]}.example"
    suite.create_package(customer.number, domains=[domain])
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)
    page.locator("li.package", has_text=domain).locator("text=More").click()
    upgrade = page.locator("#upgrade")
    assert upgrade.locator("input[name=product]").count() == 3  # plus, pro, dedicated server
    assert upgrade.locator("input[value=hosting-basic]").count() == 0
    assert "€11.99 per month" in upgrade.inner_text()
    b.shot("upgrade-offered")
    page.check("#product-hosting-pro")
    page.click("#upgrade-button")
    page.wait_for_url("**notice=upgraded")
    assert "The package has been upgraded." in page.inner_text("main")
    assert "Hosting Pro" in page.inner_text("#package-facts")
    token = suite.login_customer(customer.number, customer.password)
    contracts = suite.api("GET", "/api/v1/contracts", token=token, expect=200).json()["contracts"]
    assert [c["product"] for c in contracts] == ["hosting-pro"]  # the contract followed


def test_the_package_login_sees_the_upgrade_offer_but_the_contract_holder_orders_it(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"pkgup-{uuid.uuid4().hex[:8]}.example"
    suite.create_package(
        customer.number, product="hosting-plus", domains=[domain], package_password="Package-Passw0rd!"
    )
    b = open_browser()
    page = b.go("/package-login")
    page.fill("#f-domain", domain)
    page.fill("#f-password", "Package-Passw0rd!")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/packages/*")
    upgrade = page.inner_text("#upgrade")
    assert "Hosting Pro" in upgrade and "per month" not in upgrade  # no contract data for a package login
    assert "contract holder orders it" in page.inner_text("#upgrade-contract-holder")
    assert page.locator("#upgrade-button").count() == 0
    assert customer.number not in page.content()
    b.shot("package-login-upgrade-note")


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_a_card_is_saved_as_payment_and_a_card_number_is_refused(suite, open_browser, lang):
    words = WORDS[lang]
    customer = suite.create_customer(lang)
    b = open_browser(words["locale"])
    page = b.login_customer(customer.number, customer.password)
    page.click(f"nav.menu >> text={words['payment']}")
    page.fill("#f-card_token", "4111 1111 1111 1111")
    page.fill("#f-card_last4", "1111")
    page.fill("#f-card_expiry", "12/30")
    page.click("#save-card")
    assert words["card_refused"] in page.inner_text("#e-card_token")
    assert page.input_value("#f-card_token") == ""  # never echoed back
    assert "4111 1111" not in page.content()
    assert page.input_value("#f-card_expiry") == "12/30"
    b.shot("card-number-refused")
    page.fill("#f-card_token", "tok_visa_4242")
    page.fill("#f-card_last4", "4242")
    page.click("#save-card")
    page.wait_for_url("**/customer/payment?notice=saved")
    assert "4242" in page.inner_text("#current-payment") and "12/30" in page.inner_text("#current-payment")
    token = suite.login_customer(customer.number, customer.password)
    payment = suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["payment"]
    assert (payment["method"], payment["card_last4"]) == ("card", "4242")


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_offers_of_the_month_help_and_not_found_in_each_language(suite, open_browser, lang):
    words = WORDS[lang]
    customer = suite.create_customer(lang)
    domain = f"offer-{uuid.uuid4().hex[:8]}.example"
    package = suite.create_package(customer.number, domains=[domain])
    today = datetime.date.today()
    offer = suite.api("POST", "/api/v1/admin/offers", token=suite.staff_token(), expect=201, json={
        "product": "hosting-plus", "price": "7.49", "currency": "EUR", "markets": [lang],
        "valid_from": today.replace(day=1).isoformat(), "valid_until": today.isoformat(),
    }).json()  # fmt: skip
    b = open_browser(words["locale"])
    page = b.login_customer(customer.number, customer.password)
    page.click(f"nav.menu >> text={words['offers']}")
    assert page.locator("h1").inner_text() == words["offers"]
    shown = page.locator(f"li.offer[data-offer='{offer['id']}']")
    assert "Hosting Plus" in shown.inner_text() and words["price"] in shown.inner_text()
    b.shot("offers")
    shown.locator("button", has_text=words["order_now"]).click()
    page.wait_for_url("**/customer/offers?notice=ordered")
    assert words["ordered"] in page.inner_text("main")
    token = suite.login_customer(customer.number, customer.password)
    mine = suite.api("GET", f"/api/v1/packages/{package}", token=token, expect=200).json()
    assert mine["product"] == "hosting-plus"

    page.click("#footer-help")
    assert page.locator("h1").inner_text() == words["help"]
    assert words["hours"] in page.inner_text("#contact-channels")
    b.shot("help")
    response = page.goto(suite.url("/no-such-page"))
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == words["not_found"]
    b.shot("not-found")
