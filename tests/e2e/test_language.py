"""The customer's language through the real gateway and services: a preference set with PATCH
/api/v1/customer is what the mails and PDFs are written in (cc_common.i18n.customer_language),
and package splitting on the web page is the API's use case (gateway_app/use_cases.py): the new
package gets a terminable contract, and nothing is split while a merge has frozen the number."""

from __future__ import annotations

import re
import time
import uuid

import requests

from tests.e2e.conftest import SHARED_SUITE_ENV
from tests.e2e.test_merges import pair, start
from tests.support.pdf import pdf_text

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HANG_AT = "merge:before:move_packages"  # after the freeze: the numbers stay frozen


def error_of(reply):
    return reply.json()["error"]


def unique_domain() -> str:
    return f"lang-{uuid.uuid4().hex[:10]}.example"


def web_session(suite, customer) -> requests.Session:
    """A browser-like session signed in on the login page (cookies and CSRF field)."""
    browser = requests.Session()
    page = browser.get(suite.url("/login"), timeout=30)
    reply = browser.post(
        suite.url("/login"),
        data={
            "csrf_token": CSRF.search(page.text).group(1),
            "customer_number": customer.number,
            "password": customer.password,
        },
        allow_redirects=False,
        timeout=30,
    )
    assert reply.status_code == 302 and reply.headers["Location"] == "/customer", reply.text[:500]
    return browser


def split_on_the_page(suite, browser, package_id: str, domain: str) -> requests.Response:
    page = browser.get(suite.url("/customer/split"), timeout=30)
    assert page.status_code == 200
    return browser.post(
        suite.url("/customer/split"),
        data={
            "csrf_token": CSRF.search(page.text).group(1),
            "package_id": package_id,
            "domain": domain,
            "target_package_id": "",
            "product": "hosting-basic",
        },
        allow_redirects=False,
        timeout=30,
    )


def test_a_german_customer_who_prefers_english_gets_the_reset_mail_and_the_invoice_in_english(suite):
    customer = suite.create_customer("de")
    token = suite.login_customer(customer.number, customer.password)
    assert suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["language"] == "de"
    german_invoice = suite.create_invoice(customer.number, amount="119.00")
    german = pdf_text(
        suite.api("GET", f"/api/v1/invoices/{german_invoice}/pdf", token=token, expect=200).content
    )
    assert "Rechnungsdatum" in german and "Invoice date" not in german

    changed = suite.api("PATCH", "/api/v1/customer", token=token, json={"language": "en"}, expect=200).json()
    assert (changed["language"], changed["market"]) == ("en", "de")
    assert suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["language"] == "en"

    suite.api("POST", "/api/v1/auth/password-reset", json={"customer_number": customer.number}, expect=202)
    mail = suite.mails.wait_for(customer.fields["email"])[-1]
    assert mail.subject == "Set your customer password"
    invoice = suite.create_invoice(customer.number, amount="119.00")
    english = pdf_text(suite.api("GET", f"/api/v1/invoices/{invoice}/pdf", token=token, expect=200).content)
    assert "Invoice date" in english and "Rechnungsdatum" not in english
    assert "€119.00" in english  # amounts as English writes them


def test_a_language_other_than_en_de_nl_is_refused_with_its_field_and_nothing_changes(suite):
    customer = suite.create_customer("nl")
    token = suite.login_customer(customer.number, customer.password)
    for wrong in ("fr", "EN", "", 1):
        refused = suite.api("PATCH", "/api/v1/customer", token=token, json={"language": wrong}, expect=422)
        assert (error_of(refused)["code"], error_of(refused)["field"]) == ("invalid_input", "language")
    assert suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["language"] == "nl"


def test_a_null_language_gives_up_the_preference_and_the_markets_language_counts_again(suite):
    customer = suite.create_customer("nl")
    token = suite.login_customer(customer.number, customer.password)
    chosen = suite.api("PATCH", "/api/v1/customer", token=token, json={"language": "en"}, expect=200)
    assert chosen.json()["language"] == "en"
    dropped = suite.api("PATCH", "/api/v1/customer", token=token, json={"language": None}, expect=200)
    assert dropped.json()["language"] == "nl"
    assert suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["language"] == "nl"


def test_a_domain_split_off_on_the_page_becomes_a_package_with_a_contract_that_can_be_terminated(suite):
    customer = suite.create_customer("de")
    domains = [unique_domain(), unique_domain()]
    package_id = suite.create_package(customer.number, product="hosting-plus", domains=domains)
    browser = web_session(suite, customer)

    reply = split_on_the_page(suite, browser, package_id, domains[1])
    assert reply.status_code == 302 and "notice=split" in reply.headers["Location"], reply.text[:2000]

    token = suite.login_customer(customer.number, customer.password)
    packages = suite.api("GET", "/api/v1/packages", token=token, expect=200).json()["packages"]
    new = next(p for p in packages if p["id"] != package_id)
    assert new["domains"] == [domains[1]] and new["product"] == "hosting-basic"
    contracts = suite.api("GET", "/api/v1/contracts", token=token, expect=200).json()["contracts"]
    assert new["id"] in [c["package_id"] for c in contracts]
    suite.api("POST", "/api/v1/terminations", token=token, json={"package_id": new["id"]}, expect=201)


def test_nothing_is_split_on_the_page_or_by_the_api_while_a_merge_has_frozen_the_number(suite_factory):
    suite = suite_factory(env={**SHARED_SUITE_ENV, "MERGE_REVIEW": "auto", "FAULT_INJECT": f"hang:{HANG_AT}"})
    target, source, _ = pair(suite, "de", packages=1, invoices=0)
    domains = [unique_domain(), unique_domain()]
    package_id = suite.create_package(target.number, domains=domains)
    browser = web_session(suite, target)
    token = suite.login_customer(target.number, target.password)
    merge = start(suite, token, source).json()
    if any(row["result"] == "differs" for row in merge["comparison"]):
        suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)
    deadline = time.monotonic() + 30
    while f"fault point {HANG_AT} reached" not in suite.log("merge"):
        assert time.monotonic() < deadline, "the merge never reached its hang point"
        time.sleep(0.1)

    refused = split_on_the_page(suite, browser, package_id, domains[1])
    assert refused.status_code == 422
    assert 'id="form-error"' in refused.text
    api = suite.api(
        "POST", f"/api/v1/packages/{package_id}/split", token=token, json={"domain": domains[1]}, expect=409
    )
    assert error_of(api)["code"] == "customer_not_active"
    package = suite.api("GET", f"/api/v1/packages/{package_id}", token=token, expect=200).json()
    assert package["domains"] == domains
