"""Direct debits, offers of the month and contact requests through the real gateway and
services (docs/billing.md): what a customer asks for, what the service team does with it, and
what the customer sees afterwards."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_sepa_repeat_debit_is_collected_in_a_pain008_file_and_a_return_reopens_the_invoice(suite):
    customer = suite.create_customer("de")  # SEPA payment data
    token = suite.login_customer(customer.number, customer.password)
    staff = suite.staff_token()
    number = suite.create_invoice(customer.number, amount="119.00")
    suite.api("POST", f"/api/v1/invoices/{number}/repeat-debit", token=token, expect=(200, 202))
    mine = {
        i["number"]: i
        for i in suite.api("GET", "/api/v1/invoices", token=token, expect=200).json()["invoices"]
    }
    assert mine[number]["status"] == "debit_requested"

    made = suite.api("POST", "/api/v1/admin/direct-debits", token=staff, expect=201).json()
    assert number in [i["invoice_number"] for i in made["invoices"]]
    assert "*" in made["invoices"][0]["iban_masked"]  # never the full IBAN in JSON
    listed = suite.api("GET", "/api/v1/admin/direct-debits", token=staff, expect=200).json()["collections"]
    assert made["id"] in [c["id"] for c in listed]
    file = suite.api("GET", f"/api/v1/admin/direct-debits/{made['id']}/pain008", token=staff, expect=200)
    assert file.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(file.content)
    ids = [e.text for e in root.iter(f"{{{NS['p']}}}EndToEndId")]
    assert number in ids
    suite.api("GET", f"/api/v1/admin/direct-debits/{made['id']}/pain008", token=token, expect=403)

    returned = suite.api("POST", f"/api/v1/admin/invoices/{number}/returned", token=staff, expect=200,
                         json={"reason": "AC04 account closed"}).json()  # fmt: skip
    assert (returned["status"], returned["return_reason"]) == ("open", "AC04 account closed")
    mine = {
        i["number"]: i
        for i in suite.api("GET", "/api/v1/invoices", token=token, expect=200).json()["invoices"]
    }
    assert mine[number]["return_reason"] == "AC04 account closed"
    paid = suite.api("POST", f"/api/v1/admin/invoices/{number}/paid", token=staff, expect=200).json()
    assert paid["status"] == "paid"
    again = suite.api("POST", f"/api/v1/admin/invoices/{number}/returned", token=staff, expect=409,
                      json={"reason": "x"}).json()  # fmt: skip
    assert again["error"]["code"] == "invoice_not_debited"


def test_an_offer_of_the_month_is_set_up_by_staff_seen_by_its_market_and_ordered(suite):
    german = suite.create_customer("de")
    dutch = suite.create_customer("nl")
    package = suite.create_package(german.number)
    today = datetime.date.today()
    offer = suite.api("POST", "/api/v1/admin/offers", token=suite.staff_token(), expect=201, json={
        "product": "hosting-plus", "price": 6.99, "currency": "EUR", "markets": ["de"],
        "valid_from": today.replace(day=1).isoformat(), "valid_until": today.isoformat(),
    }).json()  # fmt: skip
    token = suite.login_customer(german.number, german.password)
    offers = suite.api("GET", "/api/v1/offers", token=token, expect=200).json()["offers"]
    mine = next(o for o in offers if o["id"] == offer["id"])
    assert (mine["product"], mine["price"], mine["currency"]) == ("hosting-plus", 6.99, "EUR")
    dutch_token = suite.login_customer(dutch.number, dutch.password)
    assert offer["id"] not in [
        o["id"] for o in suite.api("GET", "/api/v1/offers", token=dutch_token, expect=200).json()["offers"]
    ]
    ordered = suite.api("POST", f"/api/v1/offers/{offer['id']}/order", token=token, expect=200,
                        json={"package_id": package}).json()  # fmt: skip
    assert (ordered["id"], ordered["product"]) == (package, "hosting-plus")
    refused = suite.api("POST", f"/api/v1/offers/{offer['id']}/order", token=dutch_token, expect=404,
                        json={"package_id": package}).json()  # fmt: skip
    assert refused["error"]["code"] == "not_found"
    bad = suite.api("POST", "/api/v1/admin/offers", token=suite.staff_token(), expect=422, json={
        "product": "hosting-plus", "price": 6.99, "currency": "GBP", "markets": ["de"],
        "valid_from": today.isoformat(), "valid_until": today.isoformat(),
    }).json()  # fmt: skip
    assert bad["error"]["field"] == "currency"


def test_a_customer_and_a_package_login_write_to_the_service_team_through_the_contact_form(suite):
    customer = suite.create_customer("de")
    domain = f"contact-{datetime.datetime.now().strftime('%H%M%S%f')}.example"
    suite.create_package(customer.number, domains=[domain], package_password="Contact-Passw0rd!")
    token = suite.login_customer(customer.number, customer.password)
    written = suite.api("POST", "/api/v1/contact-requests", token=token, expect=201,
                        data={"subject": "Signed handover", "message": "Attached."},
                        files={"file": ("handover.pdf", PDF, "application/pdf")}).json()  # fmt: skip
    package_token = suite.login_package(domain, "Contact-Passw0rd!")
    suite.api("POST", "/api/v1/contact-requests", token=package_token, expect=201,
              data={"subject": "A question", "message": "Where are my mailboxes?"})  # fmt: skip
    bad = suite.api("POST", "/api/v1/contact-requests", token=token, expect=422,
                    data={"subject": "x", "message": "y"}, files={"file": ("x.pdf", b"GIF89a", "application/pdf")}).json()  # fmt: skip
    assert bad["error"]["field"] == "file"
    staff = suite.staff_token()
    listed = suite.api("GET", "/api/v1/admin/contact-requests", token=staff, expect=200).json()["requests"]
    mine = next(r for r in listed if r["id"] == written["id"])
    assert (mine["customer_number"], mine["attachment"]) == (customer.number, "handover.pdf")
    assert any(
        r["subject"] == "A question" and r["package_id"] and r["customer_number"] is None for r in listed
    )
    attachment = suite.api(
        "GET", f"/api/v1/admin/contact-requests/{written['id']}/attachment", token=staff, expect=200
    )
    assert attachment.content == PDF
    suite.api("GET", "/api/v1/admin/contact-requests", token=token, expect=403)
