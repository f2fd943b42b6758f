"""The package menu of the customer area through the real gateway and services: "Start" is a
single sign-on link into the package administration (gateway/gateway_app/sign_on.py) that
works once, within 60 seconds, for the package's owner or the package itself; and the
service team answers a contact request by mail, in the customer's language."""

from __future__ import annotations

import email
import email.policy
import threading
import uuid
from urllib.parse import parse_qs, urlsplit

import requests
from cc_common.tokens import TokenSigner, ensure_keypair, load_private_key
from gateway_app import sign_on

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def start(suite, package_id: str, token: str, expect: int = 200) -> requests.Response:
    return suite.api("POST", f"/api/v1/packages/{package_id}/start", token=token, expect=expect)


def link_of(suite, package_id: str, token: str) -> str:
    return start(suite, package_id, token).json()["url"]


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def open_link(url: str) -> requests.Response:
    """Opens the link in a browser of its own (no cookies), without following the redirect."""
    return requests.Session().get(url, allow_redirects=False, timeout=30)


def signer_for_links(suite, *, private_key_file=None) -> TokenSigner:
    """A signer of link tokens with the suite's gateway key (or another key, to forge one)."""
    settings = suite.token_settings
    key = (
        load_private_key(private_key_file)
        if private_key_file
        else ensure_keypair(settings.signing_key_file, settings.public_key_file)
    )
    return TokenSigner(
        key,
        issuer=settings.issuer,
        audience=sign_on.audience_of(settings.audience),
        ttl=sign_on.LINK_TTL_SECONDS,
    )


def customer_with_package(suite, **package):
    customer = suite.create_customer("de")
    package_id = suite.create_package(customer.number, **package)
    return customer, package_id, suite.login_customer(customer.number, customer.password)


def test_a_start_link_signs_the_browser_in_as_the_package_once_and_a_second_use_is_refused(any_suite):
    suite = any_suite
    _customer, package_id, token = customer_with_package(suite)
    url = link_of(suite, package_id, token)
    assert url.startswith(f"{suite.base_url}{sign_on.LINK_PATH}?token=")

    browser = requests.Session()
    opened = browser.get(url, allow_redirects=False, timeout=30)
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/packages/{package_id}")
    session_token = browser.cookies.get("cc_session")
    assert session_token
    seen = suite.api("GET", "/api/v1/packages", token=session_token, expect=200).json()["packages"]
    assert [p["id"] for p in seen] == [package_id] and "customer_number" not in seen[0]  # a package login
    administration = browser.get(suite.url(f"/packages/{package_id}"), timeout=30)
    assert administration.status_code == 200 and 'id="package-facts"' in administration.text

    again = open_link(url)
    assert again.status_code == 401 and "cc_session" not in again.cookies
    assert "already been used" in again.text
    assert token_of(url) not in suite.log("gateway")  # the access log writes paths only


def test_two_browsers_opening_one_link_at_the_same_moment_get_one_session(any_suite):
    suite = any_suite
    _customer, package_id, token = customer_with_package(suite)
    url = link_of(suite, package_id, token)
    statuses: list[int] = []
    gate = threading.Barrier(4)

    def opener() -> None:
        gate.wait()
        statuses.append(open_link(url).status_code)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [302, 401, 401, 401]


def test_an_expired_or_forged_link_is_refused_with_a_page(suite):
    _customer, package_id, _token = customer_with_package(suite)
    subject = f"package:{package_id}"
    expired, _ = signer_for_links(suite).issue(
        kind=sign_on.KIND, subject=subject, package_id=package_id, ttl=-5
    )
    forged, _ = signer_for_links(
        suite, private_key_file=suite.token_settings.service_key("merge").private
    ).issue(kind=sign_on.KIND, subject=subject, package_id=package_id)
    user_token = suite.login_customer(_customer.number, _customer.password)  # a bearer token is no link
    for bad in (expired, forged, user_token, "not-a-token"):
        refused = open_link(suite.url(f"{sign_on.LINK_PATH}?token={bad}"))
        assert refused.status_code == 401 and "cc_session" not in refused.cookies
        assert "text/html" in refused.headers["Content-Type"]
    missing = open_link(suite.url(sign_on.LINK_PATH))
    assert missing.status_code == 401


def test_a_link_token_is_no_bearer_token_on_the_api(suite):
    _customer, package_id, token = customer_with_package(suite)
    link_token = token_of(link_of(suite, package_id, token))
    for path in ("/api/v1/packages", f"/api/v1/packages/{package_id}"):
        refused = suite.api("GET", path, token=link_token, expect=401).json()
        assert refused["error"]["code"] == "unauthenticated"
    # Refusing it on the API did not use it up: the link itself still works.
    assert open_link(suite.url(f"{sign_on.LINK_PATH}?token={link_token}")).status_code == 302


def test_another_customers_package_answers_404_like_an_unknown_one(suite):
    _owner, package_id, _token = customer_with_package(suite)
    _other, _own_package, other_token = customer_with_package(suite)
    theirs = start(suite, package_id, other_token, expect=404).json()
    unknown = start(suite, f"pkg_{uuid.uuid4().hex[:12]}", other_token, expect=404).json()
    assert theirs == unknown and theirs["error"]["code"] == "not_found"


def test_a_package_login_may_start_its_own_package_and_no_other(suite):
    domain = f"start-{uuid.uuid4().hex[:10]}.example"
    customer, package_id, token = customer_with_package(
        suite, domains=[domain], package_password="Start-Passw0rd!"
    )
    other_package = suite.create_package(customer.number)
    package_token = suite.login_package(domain, "Start-Passw0rd!")
    url = link_of(suite, package_id, package_token)
    assert open_link(url).status_code == 302
    refused = start(suite, other_package, package_token, expect=404).json()
    assert refused["error"]["code"] == "not_found"
    suite.api("POST", f"/api/v1/packages/{package_id}/start", expect=401)
    suite.api("POST", f"/api/v1/packages/{package_id}/start", token=suite.staff_token(), expect=403)


# --- the answer to a contact request --------------------------------------------------------------


def body(mail) -> str:
    """The mail's text with its line breaks as written (SMTP sends CRLF)."""
    return (
        email.message_from_bytes(mail.data, policy=email.policy.default).get_content().replace("\r\n", "\n")
    )


def test_the_service_team_answers_a_contact_request_by_mail_in_the_customers_language(suite):
    customer = suite.create_customer("nl")
    token = suite.login_customer(customer.number, customer.password)
    written = suite.api("POST", "/api/v1/contact-requests", token=token, expect=201,
                        data={"subject": "Getekend formulier", "message": "Zie bijlage."},
                        files={"file": ("form.pdf", PDF, "application/pdf")}).json()  # fmt: skip
    staff = suite.staff_token()
    text = "Dank u, de overdracht is uitgevoerd.\nMet vriendelijke groet"
    answered = suite.api("POST", f"/api/v1/admin/contact-requests/{written['id']}/answer", token=staff,
                         expect=200, json={"message": text}).json()  # fmt: skip
    assert (answered["id"], answered["status"], answered["answer"]) == (written["id"], "answered", text)
    assert answered["answered_at"]
    (mail,) = suite.mails.wait_for(customer.fields["email"])
    assert mail.subject == "Ons antwoord op uw bericht: Getekend formulier"
    assert text in body(mail) and body(mail).startswith("Beste klant,")

    listed = suite.api("GET", "/api/v1/admin/contact-requests", token=staff, expect=200).json()["requests"]
    assert next(r for r in listed if r["id"] == written["id"])["status"] == "answered"
    again = suite.api("POST", f"/api/v1/admin/contact-requests/{written['id']}/answer", token=staff,
                      expect=409, json={"message": "Twice"}).json()  # fmt: skip
    assert again["error"]["code"] == "already_answered"
    assert len(suite.mails.to(customer.fields["email"])) == 1
    suite.api("POST", f"/api/v1/admin/contact-requests/{written['id']}/answer", token=token, expect=403,
              json={"message": "Not staff"})  # fmt: skip
    suite.api("POST", "/api/v1/admin/contact-requests/cr_unknown/answer", token=staff, expect=404,
              json={"message": "Nobody"})  # fmt: skip
    blank = suite.api("POST", f"/api/v1/admin/contact-requests/{written['id']}/answer", token=staff,
                      expect=422, json={"message": "   "}).json()  # fmt: skip
    assert blank["error"]["field"] == "message"


def test_the_answer_to_a_package_logins_request_goes_to_the_customer_holding_the_package(suite):
    customer = suite.create_customer("de")
    domain = f"answer-{uuid.uuid4().hex[:10]}.example"
    suite.create_package(customer.number, domains=[domain], package_password="Answer-Passw0rd!")
    package_token = suite.login_package(domain, "Answer-Passw0rd!")
    written = suite.api("POST", "/api/v1/contact-requests", token=package_token, expect=201,
                        data={"subject": "Postfächer", "message": "Wo finde ich sie?"}).json()  # fmt: skip
    suite.api("POST", f"/api/v1/admin/contact-requests/{written['id']}/answer", token=suite.staff_token(),
              expect=200, json={"message": "Unter Einstellungen."})  # fmt: skip
    (mail,) = suite.mails.wait_for(customer.fields["email"])
    assert mail.subject == "Unsere Antwort auf Ihre Nachricht: Postfächer"
    assert "Unter Einstellungen." in body(mail)
