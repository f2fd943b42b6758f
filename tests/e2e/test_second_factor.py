"""Two-factor logins through the real gateway and services: enrolment, a login with a TOTP
code or a recovery code, refusals, the challenge's single use and expiry, turning it off, the
notices, the staff factor from STAFF_TOTP_SECRET, and a merge proven with the password of a
number that has a second factor."""

from __future__ import annotations

import time

import pyotp
import pytest

STAFF_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol(suite, customer):
    """Turns the second factor on; returns (token, totp, recovery codes)."""
    token = suite.login_customer(customer.number, customer.password)
    started = suite.api("POST", "/api/v1/customer/second-factor", token=token, expect=201,
                        json={"current_password": customer.password}).json()  # fmt: skip
    totp = pyotp.TOTP(started["secret"])
    codes = suite.api("POST", "/api/v1/customer/second-factor/confirm", token=token, expect=200,
                      json={"code": totp.now()}).json()["recovery_codes"]  # fmt: skip
    return token, totp, codes


def next_code(totp):
    """The code of the next time step: accepted (one step of drift) and later than the step the
    enrolment used, so it is never refused as used."""
    return totp.at(time.time() + 30)


def challenge_of(suite, customer):
    answer = suite.api("POST", "/api/v1/auth/customer-login", expect=200,
                       json={"customer_number": customer.number, "password": customer.password}).json()  # fmt: skip
    assert answer["second_factor_required"] is True
    assert "access_token" not in answer
    return answer["challenge"]


def complete(suite, challenge, code, expect=200):
    return suite.api(
        "POST", "/api/v1/auth/second-factor", expect=expect, json={"challenge": challenge, "code": code}
    )


def test_an_enrolment_shows_the_secret_once_and_the_login_needs_a_code_from_then_on(suite):
    customer = suite.create_customer("de")
    token = suite.login_customer(customer.number, customer.password)
    started = suite.api("POST", "/api/v1/customer/second-factor", token=token, expect=201,
                        json={"current_password": customer.password}).json()  # fmt: skip
    assert started["otpauth_uri"].startswith("otpauth://totp/")
    assert started["secret"] in started["otpauth_uri"]
    # Not active before the confirmation: the password alone still signs in.
    assert suite.login_customer(customer.number, customer.password)
    totp = pyotp.TOTP(started["secret"])
    codes = suite.api("POST", "/api/v1/customer/second-factor/confirm", token=token, expect=200,
                      json={"code": totp.now()}).json()["recovery_codes"]  # fmt: skip
    assert len(set(codes)) == 10

    login = complete(suite, challenge_of(suite, customer), next_code(totp)).json()
    assert (login["kind"], login["token_type"]) == ("customer", "Bearer")
    me = suite.api("GET", "/api/v1/customer", token=login["access_token"], expect=200).json()
    assert me["customer_number"] == customer.number


def test_enrolment_refuses_a_wrong_password_a_wrong_code_a_missing_enrolment_and_a_second_one(suite):
    customer = suite.create_customer("de")
    token = suite.login_customer(customer.number, customer.password)
    wrong = suite.api("POST", "/api/v1/customer/second-factor", token=token, expect=401,
                      json={"current_password": "not the password"}).json()  # fmt: skip
    assert wrong["error"]["code"] == "invalid_credentials"
    none = suite.api("POST", "/api/v1/customer/second-factor/confirm", token=token, expect=409,
                     json={"code": "123456"}).json()  # fmt: skip
    assert none["error"]["code"] == "no_second_factor_enrolment"
    started = suite.api("POST", "/api/v1/customer/second-factor", token=token, expect=201,
                        json={"current_password": customer.password}).json()  # fmt: skip
    totp = pyotp.TOTP(started["secret"])
    bad = str((int(totp.now()) + 1) % 1_000_000).zfill(6)
    refused = suite.api("POST", "/api/v1/customer/second-factor/confirm", token=token, expect=401,
                        json={"code": bad}).json()  # fmt: skip
    assert refused["error"]["code"] == "invalid_credentials"
    suite.api(
        "POST", "/api/v1/customer/second-factor/confirm", token=token, expect=200, json={"code": totp.now()}
    )
    again = suite.api("POST", "/api/v1/customer/second-factor", token=token, expect=409,
                      json={"current_password": customer.password}).json()  # fmt: skip
    assert again["error"]["code"] == "second_factor_active"


def test_a_recovery_code_signs_in_once_and_its_second_use_is_refused(suite):
    customer = suite.create_customer("nl")
    _, _, codes = enrol(suite, customer)
    login = complete(suite, challenge_of(suite, customer), codes[0]).json()
    assert login["kind"] == "customer"
    refused = complete(suite, challenge_of(suite, customer), codes[0], expect=401).json()
    assert refused["error"]["code"] == "invalid_credentials"
    assert complete(suite, challenge_of(suite, customer), codes[1].upper()).json()["access_token"]


def test_a_login_without_a_code_or_with_a_wrong_one_gives_no_token(suite):
    customer = suite.create_customer("de")
    _, totp, _ = enrol(suite, customer)
    challenge = challenge_of(suite, customer)
    missing = complete(suite, challenge, "", expect=422).json()
    assert missing["error"]["field"] == "code"
    wrong = complete(
        suite, challenge, "000000" if next_code(totp) != "000000" else "111111", expect=401
    ).json()
    assert wrong["error"]["code"] == "invalid_credentials"
    unknown = complete(suite, "no-such-challenge", next_code(totp), expect=401).json()
    assert unknown["error"]["code"] == "invalid_credentials"
    # The challenge survives a mistyped code: the right one still completes it.
    assert complete(suite, challenge, next_code(totp)).json()["kind"] == "customer"


def test_a_challenge_is_single_use(suite):
    customer = suite.create_customer("de")
    _, _, codes = enrol(suite, customer)
    challenge = challenge_of(suite, customer)
    complete(suite, challenge, codes[0])
    refused = complete(suite, challenge, codes[1], expect=401).json()
    assert refused["error"]["code"] == "invalid_credentials"


def test_wrong_codes_are_throttled_like_failed_logins(suite):
    customer = suite.create_customer("de")
    _, totp, _ = enrol(suite, customer)
    challenge = challenge_of(suite, customer)
    wrong = "000000" if next_code(totp) != "000000" else "111111"
    for _ in range(5):  # LOGIN_MAX_FAILURES_PER_ACCOUNT of the shared suite
        complete(suite, challenge, wrong, expect=401)
    locked = complete(suite, challenge, next_code(totp), expect=429)
    assert int(locked.headers["Retry-After"]) > 0
    assert locked.json()["error"]["code"] == "too_many_attempts"


def test_a_wrong_password_answers_the_same_whether_a_second_factor_exists_or_not(suite):
    plain = suite.create_customer("de")
    guarded = suite.create_customer("de")
    enrol(suite, guarded)
    answers = [
        suite.api(
            "POST",
            "/api/v1/auth/customer-login",
            expect=401,
            json={"customer_number": c.number, "password": "not the password"},
        ).json()  # fmt: skip
        for c in (plain, guarded)
    ]
    assert answers[0] == answers[1]


def test_turning_it_off_needs_the_password_and_a_code_and_both_changes_are_mailed(suite):
    customer = suite.create_customer("de")
    token, totp, codes = enrol(suite, customer)
    (on,) = suite.mails.wait_for(customer.fields["email"])
    assert on.subject == "Die Zwei-Faktor-Authentifizierung wurde eingeschaltet"
    assert totp.secret not in on.text
    wrong = suite.api("DELETE", "/api/v1/customer/second-factor", token=token, expect=401,
                      json={"current_password": customer.password, "code": "aaaaa-bbbbb"}).json()  # fmt: skip
    assert wrong["error"]["code"] == "invalid_credentials"
    suite.api("DELETE", "/api/v1/customer/second-factor", token=token, expect=204,
              json={"current_password": customer.password, "code": codes[5]})  # fmt: skip
    assert suite.login_customer(customer.number, customer.password)
    mails = suite.mails.wait_for(customer.fields["email"], count=2)
    assert mails[1].subject == "Die Zwei-Faktor-Authentifizierung wurde ausgeschaltet"
    gone = suite.api("DELETE", "/api/v1/customer/second-factor", token=token, expect=409,
                     json={"current_password": customer.password, "code": codes[6]}).json()  # fmt: skip
    assert gone["error"]["code"] == "no_second_factor"


def test_a_merge_proven_with_the_absorbed_numbers_password_needs_its_code(suite):
    kept = suite.create_customer("de")
    absorbed = suite.create_customer("de")
    _, totp, _ = enrol(suite, absorbed)
    token = suite.login_customer(kept.number, kept.password)
    body = {"source_customer_number": absorbed.number, "source_password": absorbed.password}
    missing = suite.api("POST", "/api/v1/merges", token=token, expect=401, json=body).json()
    assert (missing["error"]["code"], missing["error"]["field"]) == (
        "second_factor_required",
        "second_factor_code",
    )
    wrong = "000000" if next_code(totp) != "000000" else "111111"
    refused = suite.api("POST", "/api/v1/merges", token=token, expect=401,
                        json={**body, "second_factor_code": wrong}).json()  # fmt: skip
    assert refused["error"]["code"] == "invalid_credentials"
    merge = suite.api("POST", "/api/v1/merges", token=token, expect=201,
                      json={**body, "second_factor_code": next_code(totp)}).json()  # fmt: skip
    assert merge["source_customer_number"] == absorbed.number
    suite.api("DELETE", f"/api/v1/merges/{merge['id']}", token=token, expect=204)


@pytest.fixture(scope="module")
def short_suite(suite_factory):
    """Challenges of two seconds, and the staff second factor from STAFF_TOTP_SECRET."""
    return suite_factory(
        env={
            "SECOND_FACTOR_CHALLENGE_TTL_SECONDS": "2",
            "STAFF_TOTP_SECRET": STAFF_SECRET,
            "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
        }
    )


def test_a_challenge_expires(short_suite):
    customer = short_suite.create_customer("de")
    _, _, codes = enrol(short_suite, customer)
    challenge = challenge_of(short_suite, customer)
    time.sleep(2.5)
    expired = complete(short_suite, challenge, codes[0], expect=401).json()
    assert expired["error"]["code"] == "invalid_credentials"
    assert complete(short_suite, challenge_of(short_suite, customer), codes[0]).json()["kind"] == "customer"


def test_staff_with_a_configured_secret_sign_in_with_a_code_and_cannot_turn_it_off(short_suite):
    answer = short_suite.api("POST", "/api/v1/auth/staff-login", expect=200, json={
        "username": short_suite.staff_username, "password": short_suite.staff_password,
    }).json()  # fmt: skip
    assert answer["second_factor_required"] is True
    # The next step's code: the harness may have used this step's code for its own staff token.
    login = complete(short_suite, answer["challenge"], next_code(pyotp.TOTP(STAFF_SECRET))).json()
    assert login["kind"] == "staff"
    refused = short_suite.api("DELETE", "/api/v1/customer/second-factor", token=login["access_token"], expect=403,
                              json={"current_password": short_suite.staff_password, "code": "123456"}).json()  # fmt: skip
    assert refused["error"]["code"] == "forbidden"
