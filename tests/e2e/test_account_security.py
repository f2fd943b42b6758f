"""The customer's sessions, login history, new-device notice and data export through the real
gateway and services (docs/passwords-and-sessions.md)."""

from __future__ import annotations

import json
import time

LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
NEW_DEVICE_SUBJECTS = {
    "New sign-in to your customer account",
    "Neue Anmeldung bei Ihrem Kundenkonto",
    "Nieuwe aanmelding bij uw klantaccount",
}


def login(suite, customer, agent, *, password=None, expect=200):
    reply = suite.api(
        "POST", "/api/v1/auth/customer-login", expect=expect, headers={"User-Agent": agent},
        json={"customer_number": customer.number, "password": password or customer.password},
    )  # fmt: skip
    return reply.json().get("access_token")


def sessions(suite, token):
    return suite.api("GET", "/api/v1/sessions", token=token, expect=200).json()["sessions"]


def new_device_mails(suite, address, *, wait_for=0, timeout=20.0):
    """The new-device notices to `address`, once at least `wait_for` arrived (or `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in suite.mails.to(address) if m.subject in NEW_DEVICE_SUBJECTS]
        if len(found) >= wait_for or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_two_logins_are_two_sessions_and_signing_one_out_kills_its_token_at_once(suite):
    customer = suite.create_customer("de")
    laptop = login(suite, customer, LAPTOP)
    phone = login(suite, customer, PHONE)
    seen = sessions(suite, laptop)
    assert len(seen) == 2
    assert {s["user_agent"]: s["current"] for s in seen} == {LAPTOP: True, PHONE: False}
    assert {s["kind"] for s in seen} == {"customer"}
    other = next(s for s in seen if not s["current"])

    suite.api("DELETE", f"/api/v1/sessions/{other['id']}", token=laptop, expect=204)
    dead = suite.api("GET", "/api/v1/customer", token=phone, expect=401).json()
    assert dead["error"]["code"] == "unauthenticated"
    assert [s["user_agent"] for s in sessions(suite, laptop)] == [LAPTOP]
    again = suite.api("DELETE", f"/api/v1/sessions/{other['id']}", token=laptop, expect=404).json()
    assert again["error"]["code"] == "not_found"


def test_signing_out_everywhere_else_leaves_only_the_caller(suite):
    customer = suite.create_customer("nl")
    first = login(suite, customer, LAPTOP)
    second = login(suite, customer, PHONE)
    third = login(suite, customer, LAPTOP)
    suite.api("DELETE", "/api/v1/sessions", token=second, expect=204)
    for token in (first, third):
        suite.api("GET", "/api/v1/customer", token=token, expect=401)
    left = sessions(suite, second)
    assert [(s["user_agent"], s["current"]) for s in left] == [(PHONE, True)]


def test_another_customers_session_is_not_found_and_other_token_kinds_are_refused(suite):
    alice, bob = suite.create_customer("de"), suite.create_customer("de")
    alice_token = login(suite, alice, LAPTOP)
    bob_token = login(suite, bob, LAPTOP)
    (bobs,) = sessions(suite, bob_token)
    refused = suite.api("DELETE", f"/api/v1/sessions/{bobs['id']}", token=alice_token, expect=404).json()
    assert refused["error"]["code"] == "not_found"
    suite.api("GET", "/api/v1/customer", token=bob_token, expect=200)  # still alive
    suite.api("GET", "/api/v1/sessions", token=suite.staff_token(), expect=403)
    suite.api("GET", "/api/v1/login-history", expect=401)


def test_the_login_history_has_the_failure_and_the_success(suite):
    customer = suite.create_customer("uk")
    login(suite, customer, PHONE, password="Not-the-password-1", expect=401)
    token = login(suite, customer, LAPTOP)
    logins = suite.api("GET", "/api/v1/login-history", token=token, expect=200).json()["logins"]
    assert [(a["success"], a["method"], a["user_agent"]) for a in logins] == [
        (True, "password", LAPTOP),
        (False, "password", PHONE),
    ]
    assert all(a["client_address"] and a["at"] for a in logins)


def test_a_new_device_gets_a_notice_mail_once_and_the_first_login_none(suite):
    customer = suite.create_customer("de")
    address = customer.fields["email"]
    login(suite, customer, LAPTOP)
    login(suite, customer, LAPTOP)
    assert new_device_mails(suite, address) == []
    login(suite, customer, PHONE)
    (mail,) = new_device_mails(suite, address, wait_for=1)
    assert mail.subject == "Neue Anmeldung bei Ihrem Kundenkonto"
    assert "iPhone" in mail.text and customer.number in mail.text
    login(suite, customer, PHONE)
    login(suite, customer, LAPTOP)
    login(suite, customer, PHONE)
    # A second notice would be queued with its login, like the first: give it the same time.
    assert len(new_device_mails(suite, address, wait_for=2, timeout=3)) == 1


def test_the_export_holds_the_package_invoice_and_session_and_no_secret(suite):
    customer = suite.create_customer("de")
    package = suite.create_package(customer.number, package_password="Export-Passw0rd!")
    invoice = suite.create_invoice(customer.number)
    token = login(suite, customer, LAPTOP)
    suite.api("POST", f"/api/v1/invoices/{invoice}/repeat-debit", token=token, expect=(200, 202))
    suite.api("POST", "/api/v1/contact-requests", token=token, expect=201,
              data={"subject": "Export question", "message": "Hello"})  # fmt: skip
    reply = suite.api("GET", "/api/v1/customer/export", token=token, expect=200)
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and customer.number in disposition
    data = reply.json()
    assert data["customer"]["customer_number"] == customer.number
    assert [p["id"] for p in data["packages"]] == [package]
    assert "settings" in data["packages"][0] and data["packages"][0]["domains"]
    assert invoice in [i["number"] for i in data["invoices"]]
    assert [d["invoice_number"] for d in data["debit_requests"]] == [invoice]
    assert [c["subject"] for c in data["contact_requests"]] == ["Export question"]
    assert [s["current"] for s in data["sessions"]] == [True]
    assert [a["success"] for a in data["login_history"]] == [True]
    text = json.dumps(data)
    for secret in (token, customer.password, "Export-Passw0rd!", "argon2", customer.fields["iban"]):
        assert secret not in text
    suite.api("GET", "/api/v1/customer/export", token=suite.staff_token(), expect=403)
