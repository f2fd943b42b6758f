"""Every password change revokes inside identity-service, end to end through the gateway and
the five real processes: the web page's package password form (CSRF token and session
cookie, as a browser sends them) ends the other package-login sessions, web and API, while
the browser that set it stays signed in; the API path does the same, and so does the
customer's own password change on its page."""

from __future__ import annotations

import re
import uuid

import requests

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def unique_domain() -> str:
    return f"revoke-{uuid.uuid4().hex[:10]}.example"


class Browser:
    """A requests session that keeps cookies and sends each form with its page's CSRF token."""

    def __init__(self, suite) -> None:
        self.suite = suite
        self.http = requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.suite.url(path), allow_redirects=False, timeout=30)

    def submit(self, page: str, action: str, fields: dict[str, str]) -> requests.Response:
        form = self.get(page)
        assert form.status_code == 200, form.text[:500]
        token = CSRF_FIELD.search(form.text)
        assert token, "the page has no CSRF field"
        return self.http.post(
            self.suite.url(action),
            data={"csrf_token": token.group(1), **fields},
            allow_redirects=False,
            timeout=30,
        )

    def package_login(self, domain: str, password: str) -> None:
        reply = self.submit("/package-login", "/package-login", {"domain": domain, "password": password})
        assert reply.status_code == 302, reply.text[:500]
        assert self.http.cookies.get("cc_session")


def package_with_password(suite, password: str) -> tuple[str, str]:
    customer = suite.create_customer()
    domain = unique_domain()
    return suite.create_package(customer.number, domains=[domain], package_password=password), domain


def signed_out(reply: requests.Response) -> bool:
    return reply.status_code == 302 and "notice=session_expired" in reply.headers.get("Location", "")


def test_the_web_pages_package_password_change_ends_the_other_package_login_sessions(suite):
    package_id, domain = package_with_password(suite, "Old-package-pw-1")
    agency = Browser(suite)  # had the old password: the web session and an API token
    agency.package_login(domain, "Old-package-pw-1")
    agency_token = suite.login_package(domain, "Old-package-pw-1")
    owner = Browser(suite)
    owner.package_login(domain, "Old-package-pw-1")
    assert agency.get(f"/packages/{package_id}").status_code == 200

    changed = owner.submit(
        f"/packages/{package_id}",
        f"/packages/{package_id}/password",
        {"new_password": "New-package-pw-2", "confirm_password": "New-package-pw-2"},
    )

    assert changed.status_code == 302 and "package_password_set" in changed.headers["Location"]
    assert signed_out(agency.get(f"/packages/{package_id}"))
    suite.api("GET", f"/api/v1/packages/{package_id}", token=agency_token, expect=401)
    assert owner.get(f"/packages/{package_id}").status_code == 200  # the browser that set it stays in
    suite.api(
        "POST",
        "/api/v1/auth/package-login",
        json={"domain": domain, "password": "Old-package-pw-1"},
        expect=401,
    )
    suite.login_package(domain, "New-package-pw-2")


def test_the_customers_web_page_change_of_a_package_password_ends_every_package_login_session(suite):
    customer = suite.create_customer()
    domain = unique_domain()
    package_id = suite.create_package(customer.number, domains=[domain], package_password="Old-package-pw-1")
    agency = Browser(suite)
    agency.package_login(domain, "Old-package-pw-1")
    holder = Browser(suite)
    signed_in = holder.submit(
        "/login", "/login", {"customer_number": customer.number, "password": customer.password}
    )
    assert signed_in.status_code == 302

    changed = holder.submit(
        f"/packages/{package_id}",
        f"/packages/{package_id}/password",
        {"new_password": "New-package-pw-2", "confirm_password": "New-package-pw-2"},
    )

    assert changed.status_code == 302
    assert signed_out(agency.get(f"/packages/{package_id}"))
    assert holder.get(f"/packages/{package_id}").status_code == 200


def test_the_api_package_password_change_still_ends_the_other_sessions_and_keeps_its_own(suite):
    package_id, domain = package_with_password(suite, "Old-package-pw-1")
    own = suite.login_package(domain, "Old-package-pw-1")
    other = suite.login_package(domain, "Old-package-pw-1")

    suite.api(
        "PUT",
        f"/api/v1/packages/{package_id}/password",
        token=own,
        json={"new_password": "New-package-pw-2"},
        expect=204,
    )

    assert suite.api("GET", f"/api/v1/packages/{package_id}", token=other, expect=401).json()["error"][
        "code"
    ] == ("unauthenticated")
    suite.api("GET", f"/api/v1/packages/{package_id}", token=own, expect=200)


def test_the_web_pages_customer_password_change_ends_the_other_sessions_and_keeps_the_browser(suite):
    customer = suite.create_customer()
    elsewhere = suite.login_customer(customer.number, customer.password)
    browser = Browser(suite)
    signed_in = browser.submit(
        "/login", "/login", {"customer_number": customer.number, "password": customer.password}
    )
    assert signed_in.status_code == 302

    changed = browser.submit(
        "/customer/password",
        "/customer/password",
        {
            "current_password": customer.password,
            "new_password": "Web-new-pass-1",
            "confirm_password": "Web-new-pass-1",
        },
    )

    assert changed.status_code == 302 and "password_changed" in changed.headers["Location"]
    suite.api("GET", "/api/v1/customer", token=elsewhere, expect=401)
    assert browser.get("/customer/password").status_code == 200
    suite.login_customer(customer.number, "Web-new-pass-1")
