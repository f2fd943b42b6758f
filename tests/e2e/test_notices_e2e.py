"""A stolen session against the contact address, end to end through the gateway, the real
services and a real SMTP server: changing the e-mail needs the customer password; the old
address is told (the new one masked) and its link puts it back and ends every session; a
password change and a payment change are told too; no mail holds a new value in full."""

from __future__ import annotations

import email
import email.policy
import re
import uuid

import requests

RESTORE_LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/email-restore\?token=([A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def message(mail) -> email.message.EmailMessage:
    return email.message_from_bytes(mail.data, policy=email.policy.default)


def body(mail) -> str:
    return message(mail).get_content()


def error_of(reply):
    return reply.json()["error"]


def signed_in(suite, market="de"):
    customer = suite.create_customer(market)
    return customer, suite.login_customer(customer.number, customer.password)


def test_a_stolen_session_cannot_move_the_contact_address_without_the_password(suite):
    customer, stolen = signed_in(suite)
    new = f"thief-{uuid.uuid4().hex[:8]}@evil.example"
    missing = suite.api("PATCH", "/api/v1/customer", token=stolen, json={"email": new}, expect=422)
    assert error_of(missing)["code"] == "invalid_input" and error_of(missing)["field"] == "current_password"
    wrong = suite.api(
        "PATCH",
        "/api/v1/customer",
        token=stolen,
        json={"email": new, "current_password": "a guess"},
        expect=401,
    )
    assert error_of(wrong)["code"] == "invalid_credentials"
    record = suite.api("GET", "/api/v1/customer", token=stolen, expect=200).json()
    assert record["email"] == customer.fields["email"]
    assert suite.mails.to(customer.fields["email"]) == [] and suite.mails.to(new) == []


def test_wrong_current_passwords_are_throttled_like_logins(suite):
    customer, token = signed_in(suite)
    statuses = [
        suite.api(
            "PATCH",
            "/api/v1/customer",
            token=token,
            json={"email": "x@evil.example", "current_password": f"guess-{i}"},
        ).status_code
        for i in range(6)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    # The account is locked for logins too: the same throttling keys.
    locked = suite.api(
        "POST",
        "/api/v1/auth/customer-login",
        json={"customer_number": customer.number, "password": customer.password},
    )
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_the_old_address_is_told_and_its_link_restores_it_and_ends_every_session(suite):
    customer, thief = signed_in(suite)
    other_session = suite.login_customer(customer.number, customer.password)
    old, new = customer.fields["email"], f"thief-{uuid.uuid4().hex[:8]}@evil.example"
    suite.api(
        "PATCH",
        "/api/v1/customer",
        token=thief,
        json={"email": new, "current_password": customer.password},
        expect=200,
    )
    (notice,) = suite.mails.wait_for(old)
    text = body(notice)
    assert message(notice)["Subject"] == "Ihre Kontakt-E-Mail-Adresse wurde geändert"  # a de customer
    assert f"t***@{new.split('@')[1]}" in text and new not in text and new.split("@")[0] not in notice.text
    base, token = RESTORE_LINK.search(text).groups()
    assert base == suite.base_url

    # The link opens a page with a button; opening it changes nothing (mail scanners open links).
    browser = requests.Session()
    page = browser.get(f"{base}/email-restore", params={"token": token}, timeout=30)
    assert page.status_code == 200 and 'name="token"' in page.text
    assert suite.api("GET", "/api/v1/customer", token=thief, expect=200).json()["email"] == new

    done = browser.post(
        f"{base}/email-restore",
        data={"token": token, "csrf_token": CSRF.search(page.text).group(1)},
        timeout=30,
    )
    assert done.status_code == 200 and 'id="email-restored"' in done.text
    assert "/password-forgot" in done.text  # the page asks for a new password

    # Every session of the number is dead, the thief's and the owner's alike.
    for session in (thief, other_session):
        suite.api("GET", "/api/v1/customer", token=session, expect=401)
    fresh = suite.login_customer(customer.number, customer.password)
    assert suite.api("GET", "/api/v1/customer", token=fresh, expect=200).json()["email"] == old

    # The link works once.
    again = suite.api("POST", "/api/v1/customer/email-restore", json={"token": token}, expect=400)
    assert error_of(again)["code"] == "invalid_token"
    assert all(new not in m.text for m in suite.mails.messages)


def test_the_restore_api_puts_the_address_back_once(suite):
    customer, token = signed_in(suite, "uk")
    old, new = customer.fields["email"], f"new-{uuid.uuid4().hex[:8]}@example.org"
    suite.api(
        "PATCH",
        "/api/v1/customer",
        token=token,
        json={"email": new, "current_password": customer.password},
        expect=200,
    )
    (notice,) = suite.mails.wait_for(old)
    assert message(notice)["Subject"] == "Your contact e-mail address was changed"
    _base, link_token = RESTORE_LINK.search(body(notice)).groups()
    suite.api("POST", "/api/v1/customer/email-restore", json={"token": link_token}, expect=204)
    suite.api("GET", "/api/v1/customer", token=token, expect=401)
    fresh = suite.login_customer(customer.number, customer.password)
    assert suite.api("GET", "/api/v1/customer", token=fresh, expect=200).json()["email"] == old
    used = suite.api("POST", "/api/v1/customer/email-restore", json={"token": link_token}, expect=400)
    assert error_of(used)["code"] == "invalid_token"


def test_a_password_change_is_told_to_the_contact_address_without_the_password(suite):
    customer, token = signed_in(suite, "nl")
    suite.api(
        "PUT",
        "/api/v1/customer/password",
        token=token,
        json={"current_password": customer.password, "new_password": "Nieuw-wachtwoord-42"},
        expect=204,
    )
    (notice,) = suite.mails.wait_for(customer.fields["email"])
    assert message(notice)["Subject"] == "Uw klantwachtwoord is gewijzigd"
    assert customer.number in body(notice)
    assert "Nieuw-wachtwoord-42" not in notice.text and customer.password not in notice.text


def test_a_payment_change_is_told_with_the_iban_masked(suite):
    customer, token = signed_in(suite, "de")
    iban = "DE02120300000000202051"
    suite.api(
        "PUT", "/api/v1/customer/payment", token=token, json={"iban": iban, "bic": "BYLADEM1001"}, expect=200
    )
    (notice,) = suite.mails.wait_for(customer.fields["email"])
    assert message(notice)["Subject"] == "Ihre Zahlungsdaten wurden geändert"
    assert "DE02 **** **** **** **20 51" in body(notice)
    assert iban not in notice.text and "12030000" not in notice.text
