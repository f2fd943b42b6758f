"""Two-factor authentication on the pages, in a real chromium against the five real processes:
turning it on in the customer area (QR code, key, first code, recovery codes shown once) and
signing in with a code, then with a recovery code."""

from __future__ import annotations

import time

import pyotp


def test_a_customer_turns_on_two_factor_authentication_and_signs_in_with_a_code(suite, open_browser):
    customer = suite.create_customer("de")
    b = open_browser()
    page = b.login_customer(customer.number, customer.password)
    page.click("nav.menu >> text=Two-factor authentication")
    page.wait_for_url("**/customer/second-factor")
    assert "Two-factor authentication is off." in page.inner_text("#second-factor-state")
    page.fill("#f-current_password", customer.password)
    page.click("main form button[type=submit]")
    assert page.locator("#otpauth-qr svg").count() == 1
    secret = page.inner_text("#otpauth-secret").strip()
    assert secret in page.inner_text("#otpauth-uri")
    b.shot("enrolment")
    totp = pyotp.TOTP(secret)
    page.fill("#f-code", totp.now())
    page.click("main form button[type=submit]")
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(set(codes)) == 10
    b.shot("recovery-codes")
    page.click("#logout")
    page.wait_for_url("**/login?notice=signed_out")

    page.fill("#f-customer_number", customer.number)
    page.fill("#f-password", customer.password)
    page.click("main form button[type=submit]")
    assert page.locator("#second-factor-form").count() == 1
    b.shot("second-step")
    page.fill("#f-code", "000000" if totp.at(time.time() + 30) != "000000" else "111111")
    page.click("#second-factor-form button[type=submit]")
    assert "The data you entered are not correct." in page.inner_text("#form-error")
    page.fill("#f-code", totp.at(time.time() + 30))  # the next step: the enrolment used this one
    page.click("#second-factor-form button[type=submit]")
    page.wait_for_url("**/customer")
    assert page.locator("#customer-number").inner_text() == customer.number

    page.click("#logout")
    page.wait_for_url("**/login?notice=signed_out")
    page.fill("#f-customer_number", customer.number)
    page.fill("#f-password", customer.password)
    page.click("main form button[type=submit]")
    page.click("#use-recovery-code summary")
    page.fill("#f-recovery_code", codes[0])
    page.click("#second-factor-form button[type=submit]")
    page.wait_for_url("**/customer")
    assert page.locator("#customer-number").inner_text() == customer.number
