"""The back office's billing pages in a real chromium against the five real processes
(docs/billing.md): the service team sets up an offer of the month that the customer then sees,
and collects a repeat debit the customer asked for, downloads the collection's pain.008 file
and records the bank's return, after which the customer's invoice is open again."""

from __future__ import annotations

import datetime
import random
import uuid
import xml.etree.ElementTree as ET

NS = "{urn:iso:std:iso:20022:tech:xsd:pain.008.001.02}"


def staff_desk(suite, open_browser, locale: str = "en-GB"):
    staff = open_browser(locale)
    desk = staff.go("/staff/login")
    desk.fill("#f-username", suite.staff_username)
    desk.fill("#f-password", suite.staff_password)
    desk.click("main form button[type=submit]")
    desk.wait_for_url("**/staff/merges")
    return staff, desk


def test_an_offer_set_up_on_the_offers_page_is_shown_to_a_customer_of_its_market(suite, open_browser):
    customer = suite.create_customer("de")
    suite.create_package(customer.number, domains=[f"bo-offer-{uuid.uuid4().hex[:8]}.example"])
    price = f"3.{random.randint(10, 99)}"
    today = datetime.date.today()
    staff, desk = staff_desk(suite, open_browser)
    desk.click("#staff-menu-offers")
    desk.wait_for_url("**/staff/offers")
    desk.select_option("#f-product", "hosting-plus")
    desk.fill("#f-price", "")
    desk.click("#create-offer")  # refused: no price, shown next to the field
    assert desk.locator("#e-price").is_visible()
    desk.fill("#f-price", price)
    desk.select_option("#f-currency", "EUR")
    desk.check("#f-market-de")
    desk.uncheck("#f-market-uk")
    desk.fill("#f-valid_from", today.isoformat())
    desk.fill("#f-valid_until", (today + datetime.timedelta(days=10)).isoformat())
    staff.shot("offer-form")
    desk.click("#create-offer")
    desk.wait_for_url("**/staff/offers?notice=offer_created")
    row = desk.locator("#staff-offers tr", has_text=price).first
    assert "hosting-plus" in row.inner_text() and "EUR" in row.inner_text()
    staff.shot("offers")

    b = open_browser("de-DE")
    page = b.login_customer(customer.number, customer.password)
    page.goto(suite.url("/customer/offers"))
    offers = page.locator("#offers").inner_text()
    assert "Hosting Plus" in offers and price.replace(".", ",") in offers
    b.shot("customer-offers")


def test_a_repeat_debit_is_collected_downloaded_and_returned_on_the_direct_debits_page(suite, open_browser):
    customer = suite.create_customer("de")  # SEPA payment data, billed in EUR
    amount = f"{random.randint(100, 999)}.{random.randint(10, 99)}"
    number = suite.create_invoice(customer.number, amount=amount)
    b = open_browser("de-DE")
    page = b.login_customer(customer.number, customer.password)
    page.goto(suite.url("/customer/invoices"))
    page.locator("#invoices tr", has_text=number).locator("button[type=submit]").click()
    page.wait_for_url("**notice=debit_requested")
    assert page.locator("#invoices tr", has_text=number).get_attribute("class") == "debit_requested"

    staff, desk = staff_desk(suite, open_browser)
    desk.click("#staff-menu-debits")
    desk.wait_for_url("**/staff/direct-debits")
    desk.click("#create-collection")
    desk.wait_for_url("**/staff/direct-debits?notice=collection_created")
    collection = desk.locator(f"article.collection:has(tr[data-invoice='{number}'])").first
    row = collection.locator(f"tr[data-invoice='{number}']")
    assert amount in row.inner_text() and customer.number in row.inner_text()
    staff.shot("collection")
    with desk.expect_download() as download:
        collection.locator("a[id^=pain008-]").click()
    root = ET.fromstring(download.value.path().read_bytes())
    debits = {
        tx.find(f"{NS}PmtId/{NS}EndToEndId").text: tx.find(f"{NS}InstdAmt").text
        for tx in root.iter(f"{NS}DrctDbtTxInf")
    }
    assert float(debits[number]) == float(amount)

    row.locator("input[name=reason]").fill("AC04 account closed")
    row.locator("button", has_text="Mark returned").click()
    desk.wait_for_url("**/staff/direct-debits?notice=invoice_returned")
    assert "open again" in desk.inner_text("main")
    staff.shot("returned")

    page.goto(suite.url("/customer/invoices"))
    mine = page.locator("#invoices tr", has_text=number)
    assert mine.get_attribute("class") == "open"
    assert "AC04 account closed" in mine.locator(".return-reason").inner_text()
    b.shot("invoice-open-again")
