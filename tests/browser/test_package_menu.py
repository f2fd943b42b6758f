"""The package menu of the customer area in a real chromium against the five real processes:
"Start" opens the package administration signed in as the package, "Administration / Set
passwords" sets a package password, and a message from the contact form reaches the service
team's queue, which answers it by mail."""

from __future__ import annotations

import uuid

from tests.browser.conftest import PDF, mail_text


def test_start_opens_the_package_administration_signed_in_as_the_package(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"start-{uuid.uuid4().hex[:8]}.example"
    package_id = suite.create_package(customer.number, domains=[domain])
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)
    package = page.locator("li.package", has_text=domain)
    assert package.locator(f"#more-{package_id}").get_attribute("href").endswith(f"/packages/{package_id}")
    b.shot("packages")
    package.locator(f"#start-{package_id}").click()
    page.wait_for_url(f"**/packages/{package_id}")
    assert domain in page.inner_text("h1")
    assert page.inner_text("header .who").strip() == "Package administration"  # signed in as the package
    text = page.inner_text("body")
    assert customer.number not in text and page.locator("nav.menu").count() == 0
    b.shot("package-administration")
    b.go("/customer")
    assert "may not open this page" in page.inner_text("main")  # the package session, not the customer's


def test_the_set_passwords_menu_entry_sets_a_package_password_in_german(suite, open_browser):
    customer = suite.create_customer("de")
    domain = f"pw-{uuid.uuid4().hex[:8]}.example"
    package_id = suite.create_package(customer.number, domains=[domain])
    b = open_browser("de-DE")
    page = b.login_customer(customer.number, customer.password)
    page.click("#menu-package-passwords")
    page.wait_for_url("**/customer/package-passwords")
    assert page.inner_text("h1") == "Verwaltung / Passwörter setzen"
    page.fill(f"#f-new_password-{package_id}", "Menu-Package-Pw1")
    page.fill(f"#f-confirm_password-{package_id}", "Another-Pw-2")
    page.click(f"#set-password-{package_id}")
    assert "nicht überein" in page.inner_text(f"#e-confirm_password-{package_id}")
    b.shot("mismatch")
    page.fill(f"#f-new_password-{package_id}", "Menu-Package-Pw1")
    page.fill(f"#f-confirm_password-{package_id}", "Menu-Package-Pw1")
    page.click(f"#set-password-{package_id}")
    page.wait_for_url("**notice=package_password_set")
    assert suite.login_package(domain, "Menu-Package-Pw1")


def test_a_contact_form_message_appears_in_the_staff_queue_and_is_answered_by_mail(
    suite, open_browser, tmp_path
):
    customer = suite.create_customer("de")
    subject = f"Unterschriebenes Formular {uuid.uuid4().hex[:6]}"
    attachment = tmp_path / "handover.pdf"
    attachment.write_bytes(PDF)
    b = open_browser("de-DE")
    page = b.login_customer(customer.number, customer.password)
    page.click("nav.menu >> text=Formulare")
    page.click("#forms-contact-link")
    page.wait_for_url("**/customer/contact?subject=*")
    assert page.input_value("#f-subject") == "Unterschriebenes Formular"
    page.fill("#f-subject", subject)
    page.fill("#f-message", "Anbei das unterschriebene Formular.")
    page.set_input_files("#f-file", str(attachment))
    b.shot("contact-form")
    page.click("#contact-send")
    page.wait_for_url("**notice=contact_sent")
    assert "Serviceteam gesendet" in page.inner_text("main")

    staff = open_browser()
    desk = staff.go("/staff/login")
    desk.fill("#f-username", suite.staff_username)
    desk.fill("#f-password", suite.staff_password)
    desk.click("main form button[type=submit]")
    desk.wait_for_url("**/staff/merges")
    desk.click("#staff-menu-contact")
    desk.wait_for_url("**/staff/contact-requests")
    request = desk.locator("li.contact-request", has_text=subject)
    assert customer.number in request.inner_text() and "handover.pdf" in request.inner_text()
    with desk.expect_download() as download:
        request.locator("text=handover.pdf").click()
    assert download.value.path().read_bytes() == PDF
    staff.shot("queue")
    request.locator("textarea").fill("Vielen Dank, die Übertragung ist erledigt.")
    request.locator("button[type=submit]").click()
    desk.wait_for_url("**notice=contact_answered")
    answered = desk.locator("li.contact-request", has_text=subject)
    assert "Vielen Dank, die Übertragung ist erledigt." in answered.locator(".answer").inner_text()
    (mail,) = suite.mails.wait_for(customer.fields["email"])
    assert "Vielen Dank, die Übertragung ist erledigt." in mail_text(mail.data)
    assert f"Unsere Antwort auf Ihre Nachricht: {subject}" == mail.subject
