"""Throttling without gaps, end to end through the gateway and the real services: guesses at
a package login count per package whichever of its domains is typed; reset requests are
limited per client address (the gateway passes the address it saw, from the API and the web
page) and a new request never voids a link already mailed; a rotated STAFF_PASSWORD revokes
the staff tokens issued before identity's restart."""

from __future__ import annotations

import email
import email.policy
import http.client
import json
import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

RESET_LINK = re.compile(r"/password-reset\?token=([A-Za-z0-9_-]+)")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def unique_domain() -> str:
    return f"guess-{uuid.uuid4().hex[:10]}.example"


def link_in(mail) -> str:
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain", "html")) if message.is_multipart() else message
    match = RESET_LINK.search(part.get_content())
    assert match
    return match.group(1)


def test_guesses_spread_over_the_domains_of_one_package_lock_that_package(suite):
    customer = suite.create_customer()
    domains = [unique_domain() for _ in range(5)]
    suite.create_package(
        customer.number, product="hosting-plus", domains=domains, package_password="Right-pkg-pw-1"
    )
    neighbour = unique_domain()
    suite.create_package(customer.number, domains=[neighbour], package_password="Right-pkg-pw-1")

    for domain in domains:  # one guess per domain: five guesses at one package
        reply = suite.api(
            "POST", "/api/v1/auth/package-login", json={"domain": domain, "password": "guess"}, expect=401
        )
        assert reply.json()["error"]["code"] == "invalid_credentials"

    locked = suite.api(
        "POST",
        "/api/v1/auth/package-login",
        json={"domain": domains[0], "password": "Right-pkg-pw-1"},
        expect=429,
    )
    assert locked.json()["error"]["code"] == "too_many_attempts"
    suite.login_package(neighbour, "Right-pkg-pw-1")  # another package of the same customer is not locked


def test_asking_again_leaves_the_first_reset_link_usable(suite):
    customer = suite.create_customer()
    address = customer.fields["email"]
    suite.api("POST", "/api/v1/auth/password-reset", json={"customer_number": customer.number}, expect=202)
    suite.api("POST", "/api/v1/auth/password-reset", json={"customer_number": customer.number}, expect=202)
    first, second = (link_in(mail) for mail in suite.mails.wait_for(address, count=2))

    suite.api(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": first, "new_password": "Reset-first-1"},
        expect=204,
    )
    suite.login_customer(customer.number, "Reset-first-1")
    spent = suite.api(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": second, "new_password": "Reset-second-2"},
    )
    assert spent.status_code == 400 and spent.json()["error"]["code"] == "invalid_token"


# --- a suite of its own: a small per-address limit, a staff password that changes -----------------


@pytest.fixture(scope="module")
def strict_suite(suite_factory):
    return suite_factory(env={"PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS": "2"})


def reset_from(suite, source_ip: str, number: str) -> int:
    """POST /api/v1/auth/password-reset from another loopback address (127.0.0.2 reaches the
    gateway on 127.0.0.1 like a second client)."""
    parts = urlsplit(suite.base_url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=30, source_address=(source_ip, 0)
    )
    try:
        body = json.dumps({"customer_number": number})
        connection.request("POST", "/api/v1/auth/password-reset", body, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


def test_reset_requests_over_the_limit_of_an_address_answer_202_and_send_nothing(strict_suite):
    suite = strict_suite
    first, second, third, other = (suite.create_customer() for _ in range(4))
    suite.api("POST", "/api/v1/auth/password-reset", json={"customer_number": first.number}, expect=202)
    unknown = "9" + str(uuid.uuid4().int)[:15]
    suite.api(
        "POST", "/api/v1/auth/password-reset", json={"customer_number": unknown}, expect=202
    )  # counts too
    # Over the limit of 127.0.0.1: the same answer, on the API and on the web page.
    suite.api("POST", "/api/v1/auth/password-reset", json={"customer_number": second.number}, expect=202)
    browser = requests.Session()
    form = browser.get(suite.url("/password-forgot"), timeout=30)
    token = CSRF_FIELD.search(form.text).group(1)
    page = browser.post(
        suite.url("/password-forgot"),
        data={"csrf_token": token, "customer_number": third.number},
        allow_redirects=False,
        timeout=30,
    )
    assert page.status_code == 302 and "reset_sent" in page.headers["Location"]
    # Another client address is not affected.
    assert reset_from(suite, "127.0.0.2", other.number) == 202

    suite.mails.wait_for(other.fields["email"])  # queued after the dropped ones would have been
    assert len(suite.mails.to(first.fields["email"])) == 1
    assert suite.mails.to(second.fields["email"]) == [] and suite.mails.to(third.fields["email"]) == []


def test_a_rotated_staff_password_revokes_the_staff_tokens_issued_before(strict_suite):
    suite = strict_suite
    before = suite.staff_token(fresh=True)
    suite.api("GET", "/api/v1/admin/merges", token=before, expect=200)

    suite.stop("identity")
    suite.staff_password = "Rotated-Staff-Passw0rd!"  # what staff_token() logs in with
    suite.processes["identity"].env["STAFF_PASSWORD"] = suite.staff_password  # what identity starts with
    suite.start("identity")

    deadline = time.monotonic() + 15  # until the gateway's replica has the new snapshot
    reply = suite.api("GET", "/api/v1/admin/merges", token=before)
    while reply.status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.2)
        reply = suite.api("GET", "/api/v1/admin/merges", token=before)
    assert reply.status_code == 401
    suite.api("GET", "/api/v1/admin/merges", token=suite.staff_token(fresh=True), expect=200)
