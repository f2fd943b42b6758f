"""The web pages (HTML) with Flask's test client and fake backends: session cookie, CSRF,
field errors that keep what was typed, languages, and a backend that is down."""

from __future__ import annotations

import re
import time

import jwt
import pytest
from cc_common.errors import InvalidInput, TooManyAttempts, Unauthenticated
from customercenter.v2 import common_pb2, contract_pb2, identity_pb2, merge_pb2, package_pb2

CUSTOMER = contract_pb2.Customer(
    customer_number="1001",
    market=common_pb2.MARKET_DE,
    first_name="Erika",
    last_name="Mustermann",
    street="Hauptstraße 5",
    zip="10115",
    city="Berlin",
    country="DE",
    phone="+49 30 1234567",
    email="erika@example.com",
)
PACKAGES = package_pb2.ListPackagesResponse(
    packages=[
        package_pb2.Package(
            id="pkg_1",
            customer_number="1001",
            product="hosting-basic",
            product_name="Hosting Basic",
            domains=["erika.example"],
            status=package_pb2.PACKAGE_STATUS_ACTIVE,
            max_domains=1,
        )
    ]
)
MERGE = merge_pb2.Merge(
    id="m_1",
    target_customer_number="1001",
    source_customer_number="2002",
    status=merge_pb2.MERGE_STATUS_NEEDS_LEGAL_PROOF,
    market=common_pb2.MARKET_DE,
    proof_method=merge_pb2.PROOF_METHOD_CUSTOMER_PASSWORD,
    comparison=[
        merge_pb2.ComparisonRow(
            field="first_name",
            target_value="Erika",
            source_value="Erika",
            result=merge_pb2.COMPARISON_RESULT_EQUAL,
        ),
        merge_pb2.ComparisonRow(
            field="last_name",
            target_value="Mustermann",
            source_value="Muster",
            result=merge_pb2.COMPARISON_RESULT_BLOCKING,
        ),
        merge_pb2.ComparisonRow(
            field="phone",
            target_value="+49301234567",
            source_value="",
            result=merge_pb2.COMPARISON_RESULT_DIFFERS,
        ),
    ],
)


def csrf_of(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the page has no CSRF field"
    return match.group(1)


def set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


@pytest.fixture
def customer_client(gateway_client, gateway_tokens, gateway_backends):
    """A browser with a customer session of 1001 and a CSRF cookie."""
    gateway_client.set_cookie("cc_session", gateway_tokens.customer("1001"))
    gateway_backends.contract.on("GetCustomer", CUSTOMER)
    gateway_backends.package.on("ListPackages", PACKAGES)
    return gateway_client


def form_token(client, path: str) -> str:
    return csrf_of(client.get(path))


# --- session and CSRF ------------------------------------------------------------------------


def test_the_login_page_sets_an_httponly_csrf_cookie_and_its_form_carries_a_token(gateway_client):
    response = gateway_client.get("/login")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    cookie = set_cookies(response)["cc_csrf"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert csrf_of(response)


def test_a_customer_login_puts_the_token_in_an_httponly_samesite_cookie(gateway_client, gateway_backends):
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:1001"))
    gateway_backends.contract.on("GetCustomer", CUSTOMER)
    token = form_token(gateway_client, "/login")
    response = gateway_client.post(
        "/login", data={"csrf_token": token, "customer_number": "1001", "password": "secret-pw"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/customer"
    cookie = set_cookies(response)["cc_session"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_a_customer_login_remembers_the_customers_language_for_the_pages(gateway_client, gateway_backends):
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:1001"))
    preferring_dutch = contract_pb2.Customer()
    preferring_dutch.CopyFrom(CUSTOMER)
    preferring_dutch.language = preferring_dutch.language_preference = "nl"
    gateway_backends.contract.on("GetCustomer", preferring_dutch)
    token = form_token(gateway_client, "/login")
    gateway_client.post(
        "/login", data={"csrf_token": token, "customer_number": "1001", "password": "secret-pw"}
    )
    home = gateway_client.get("/customer", headers={"Accept-Language": "de"})
    assert '<html lang="nl">' in home.get_data(as_text=True)


def test_a_language_the_visitor_chose_wins_over_the_customers_language(gateway_client, gateway_backends):
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:1001"))
    preferring_dutch = contract_pb2.Customer()
    preferring_dutch.CopyFrom(CUSTOMER)
    preferring_dutch.language = preferring_dutch.language_preference = "nl"
    gateway_backends.contract.on("GetCustomer", preferring_dutch)
    gateway_client.get("/login?lang=de")
    token = form_token(gateway_client, "/login")
    gateway_client.post(
        "/login", data={"csrf_token": token, "customer_number": "1001", "password": "secret-pw"}
    )
    assert '<html lang="de">' in gateway_client.get("/customer").get_data(as_text=True)


def test_without_a_language_of_its_own_the_pages_keep_the_browsers_language_after_login(
    gateway_client, gateway_backends
):
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:1001"))
    gateway_backends.contract.on("GetCustomer", CUSTOMER)  # language "" (by market)
    token = form_token(gateway_client, "/login")
    response = gateway_client.post(
        "/login", data={"csrf_token": token, "customer_number": "1001", "password": "secret-pw"}
    )
    assert "cc_pref_lang" not in set_cookies(response)
    home = gateway_client.get("/customer", headers={"Accept-Language": "nl"})
    assert '<html lang="nl">' in home.get_data(as_text=True)


def test_the_session_cookie_is_secure_when_the_request_came_over_https(gateway_client, gateway_backends):
    gateway_backends.identity.on("StaffLogin", identity_pb2.LoginResult(subject="staff:anna"))
    token = csrf_of(gateway_client.get("/staff/login", base_url="https://localhost"))
    response = gateway_client.post(
        "/staff/login",
        data={"csrf_token": token, "username": "anna", "password": "pw"},
        base_url="https://localhost",
    )
    assert "Secure" in set_cookies(response)["cc_session"]


def test_a_post_without_a_csrf_token_is_refused_with_a_400_page(gateway_client, gateway_backends):
    gateway_client.get("/login")  # the CSRF cookie is there, the field is not
    response = gateway_client.post("/login", data={"customer_number": "1001", "password": "pw"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "could not be accepted" in response.get_data(as_text=True)
    assert gateway_backends.identity.calls == []


def test_a_csrf_token_that_does_not_belong_to_the_browser_cookie_is_refused(gateway_client, gateway_app):
    token = form_token(gateway_client, "/login")
    other = gateway_app.test_client()
    other.get("/login")  # another browser, with its own CSRF cookie
    response = other.post("/login", data={"csrf_token": token, "customer_number": "1", "password": "pw"})
    assert response.status_code == 400


def test_a_logged_in_form_without_csrf_is_refused_and_changes_nothing(customer_client, gateway_backends):
    response = customer_client.post("/customer/data", data={"email": "new@example.com"})
    assert response.status_code == 400
    assert "UpdateCustomer" not in gateway_backends.contract.methods_called()


def test_a_page_of_the_customer_area_without_a_session_goes_to_the_login(gateway_client):
    response = gateway_client.get("/customer/invoices")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_revoked_session_goes_to_the_login_and_its_cookie_is_dropped(
    gateway_client, gateway_revocation, gateway_tokens
):
    token = gateway_tokens.customer("1001")
    gateway_client.set_cookie("cc_session", token)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    gateway_revocation.apply(sequence=2, snapshot=False, denied=[(jti, int(time.time()) + 3600)])
    response = gateway_client.get("/customer")
    assert response.status_code == 302
    assert "notice=session_expired" in response.headers["Location"]
    assert "cc_session=;" in set_cookies(response)["cc_session"]


def test_a_package_login_sees_no_contract_pages(gateway_client, gateway_tokens):
    gateway_client.set_cookie("cc_session", gateway_tokens.package("pkg_1"))
    response = gateway_client.get("/customer/invoices")
    assert response.status_code == 403
    assert "may not open this page" in response.get_data(as_text=True)


def test_a_package_login_opening_another_package_gets_not_found(
    gateway_client, gateway_tokens, gateway_backends
):
    gateway_client.set_cookie("cc_session", gateway_tokens.package("pkg_1"))
    response = gateway_client.get("/packages/pkg_2")
    assert response.status_code == 404
    assert gateway_backends.package.calls == []


def test_logout_revokes_the_token_at_identity_and_drops_the_cookie(customer_client, gateway_backends):
    gateway_backends.identity.on("RevokeOwnToken", identity_pb2.RevocationResult(sequence=2))
    token = form_token(customer_client, "/customer")
    response = customer_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert gateway_backends.identity.methods_called() == ["RevokeOwnToken"]
    assert gateway_backends.identity.calls[0].token  # the session's own token is revoked
    assert "cc_session=;" in set_cookies(response)["cc_session"]


# --- field errors keep what was typed ------------------------------------------------------------


def test_a_customer_number_with_letters_is_shown_next_to_the_field_with_the_typed_value(gateway_client):
    token = form_token(gateway_client, "/login")
    response = gateway_client.post(
        "/login", data={"csrf_token": token, "customer_number": "12ab", "password": "pw"}
    )
    html = response.get_data(as_text=True)
    assert 'id="e-customer_number"' in html
    assert "A customer number consists of digits only." in html
    assert 'value="12ab"' in html


def test_wrong_credentials_show_one_message_keep_the_number_and_never_echo_the_password(
    gateway_client, gateway_backends
):
    gateway_backends.identity.on("CustomerLogin", Unauthenticated("no", code="invalid_credentials"))
    token = form_token(gateway_client, "/login")
    response = gateway_client.post(
        "/login", data={"csrf_token": token, "customer_number": "1001", "password": "typed-secret"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "The data you entered are not correct." in html
    assert 'value="1001"' in html
    assert "typed-secret" not in html


def test_too_many_attempts_says_how_long_to_wait(gateway_client, gateway_backends):
    gateway_backends.identity.on("CustomerLogin", TooManyAttempts("locked", retry_after=42))
    token = form_token(gateway_client, "/login")
    response = gateway_client.post(
        "/login", data={"csrf_token": token, "customer_number": "1", "password": "x"}
    )
    assert "wait 42 seconds" in response.get_data(as_text=True)


def test_a_field_the_service_refuses_is_shown_next_to_it_with_everything_typed_kept(
    customer_client, gateway_backends
):
    gateway_backends.contract.on("UpdateCustomer", InvalidInput("bad e-mail", field="email"))
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:10000001"))
    token = form_token(customer_client, "/customer/data")
    response = customer_client.post(
        "/customer/data",
        data={
            "csrf_token": token,
            "street": "Neue Straße 7",
            "zip": "10117",
            "city": "Berlin",
            "country": "DE",
            "phone": "",
            "mobile": "",
            "fax": "",
            "email": "not-an-address",
            "current_password": "demo-password",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-email"' in html and "Please enter a valid e-mail address." in html
    assert 'value="not-an-address"' in html and 'value="Neue Straße 7"' in html


def test_changed_contact_fields_only_are_sent_and_the_page_says_saved(customer_client, gateway_backends):
    gateway_backends.contract.on("UpdateCustomer", CUSTOMER)
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:10000001"))
    token = form_token(customer_client, "/customer/data")
    fields = {
        name: getattr(CUSTOMER, name)
        for name in ("street", "zip", "city", "country", "phone", "mobile", "fax")
    }
    response = customer_client.post(
        "/customer/data",
        data={"csrf_token": token, **fields, "email": "new@example.com", "current_password": "demo-password"},
    )
    assert response.status_code == 302 and "notice=saved" in response.headers["Location"]
    sent = gateway_backends.contract.calls[-1].request
    assert sent.HasField("email") and sent.email == "new@example.com"
    assert not sent.HasField("street") and not sent.HasField("last_name")


def test_the_customer_data_page_offers_each_language_in_its_own_words_and_saves_a_new_one(
    customer_client, gateway_backends
):
    html = customer_client.get("/customer/data").get_data(as_text=True)
    assert all(f'<option value="{code}"' in html for code in ("en", "de", "nl"))
    assert ">English<" in html and ">Deutsch<" in html and ">Nederlands<" in html
    gateway_backends.contract.on("UpdateCustomer", CUSTOMER)
    token = form_token(customer_client, "/customer/data")
    fields = {
        name: getattr(CUSTOMER, name)
        for name in ("street", "zip", "city", "country", "phone", "mobile", "fax")
    }
    response = customer_client.post(
        "/customer/data", data={"csrf_token": token, **fields, "email": CUSTOMER.email, "language": "nl"}
    )
    assert response.status_code == 302 and "notice=saved" in response.headers["Location"]
    sent = gateway_backends.contract.calls[-1].request
    assert sent.HasField("language") and sent.language == "nl" and not sent.HasField("street")
    assert "cc_pref_lang=nl" in set_cookies(response)["cc_pref_lang"]
    page = customer_client.get("/customer", headers={"Accept-Language": "de"})
    assert '<html lang="nl">' in page.get_data(as_text=True)


def test_a_language_the_customer_data_page_does_not_offer_is_refused_on_its_field(
    customer_client, gateway_backends
):
    token = form_token(customer_client, "/customer/data")
    fields = {
        name: getattr(CUSTOMER, name)
        for name in ("street", "zip", "city", "country", "phone", "mobile", "fax")
    }
    response = customer_client.post(
        "/customer/data", data={"csrf_token": token, **fields, "email": CUSTOMER.email, "language": "fr"}
    )
    assert response.status_code == 422 and 'id="e-language"' in response.get_data(as_text=True)
    assert all(call.method != "UpdateCustomer" for call in gateway_backends.contract.calls)


def test_signing_out_drops_the_customers_language_with_the_session(customer_client, gateway_backends):
    gateway_backends.identity.on("RevokeOwnToken", identity_pb2.RevocationResult(sequence=2))
    customer_client.set_cookie("cc_pref_lang", "nl")
    token = form_token(customer_client, "/customer")
    response = customer_client.post("/logout", data={"csrf_token": token})
    dropped = set_cookies(response)["cc_pref_lang"]
    assert "Max-Age=0" in dropped or "expires=Thu, 01 Jan 1970" in dropped


def test_the_customer_data_page_explains_that_name_and_company_need_the_written_form(customer_client):
    html = customer_client.get("/customer/data").get_data(as_text=True)
    assert 'id="written-form-hint"' in html
    assert 'name="last_name"' not in html and 'name="company"' not in html
    assert "/customer/forms/contract_transfer.pdf" in html


# --- languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("de-DE,de;q=0.9", "Kunden-Login"), ("nl-NL,nl;q=0.8", "Klantenlogin"), ("fr-FR", "Customer login")],
)
def test_the_language_follows_accept_language(gateway_client, accept, expected):
    response = gateway_client.get("/login", headers={"Accept-Language": accept})
    assert f"<h1>{expected}</h1>" in response.get_data(as_text=True)


def test_a_lang_link_switches_the_language_and_a_cookie_keeps_it(gateway_client):
    response = gateway_client.get("/login?lang=nl", headers={"Accept-Language": "de"})
    assert '<html lang="nl">' in response.get_data(as_text=True)
    assert "cc_lang=nl" in set_cookies(response)["cc_lang"]
    later = gateway_client.get("/login", headers={"Accept-Language": "de"})
    assert "Wachtwoord vergeten?" in later.get_data(as_text=True)


def test_every_page_offers_the_three_languages(customer_client):
    html = customer_client.get("/customer").get_data(as_text=True)
    for code in ("en", "de", "nl"):
        assert f'href="/customer?lang={code}"' in html


def test_an_unknown_lang_is_ignored(gateway_client):
    response = gateway_client.get("/login?lang=xx")
    assert '<html lang="en">' in response.get_data(as_text=True)
    assert "cc_lang" not in set_cookies(response)


def test_the_merge_wizard_uses_the_wording_of_the_german_seed(customer_client, gateway_backends):
    gateway_backends.merge.on(
        "GetMerge", merge_pb2.Merge(**{**_merge_fields(), "status": merge_pb2.MERGE_STATUS_READY})
    )
    html = customer_client.get("/customer/merge/m_1?lang=de").get_data(as_text=True)
    assert "Daten übernehmen" in html
    assert "Kundennummern zusammenfassen" in html


def _merge_fields():
    return {
        "id": "m_1",
        "target_customer_number": "1001",
        "source_customer_number": "2002",
        "market": common_pb2.MARKET_DE,
        "proof_method": merge_pb2.PROOF_METHOD_CUSTOMER_PASSWORD,
        "comparison": [
            merge_pb2.ComparisonRow(
                field="phone", target_value="1", source_value="2", result=merge_pb2.COMPARISON_RESULT_DIFFERS
            )
        ],
    }


# --- the merge comparison ------------------------------------------------------------------------


def test_the_comparison_highlights_differing_rows_and_marks_blocking_rows_with_the_form(
    customer_client, gateway_backends
):
    gateway_backends.merge.on("GetMerge", MERGE)
    html = customer_client.get("/customer/merge/m_1").get_data(as_text=True)
    assert '<tr class="blocking" data-field="last_name">' in html
    assert '<tr class="differs" data-field="phone">' in html
    assert '<tr class="equal" data-field="first_name">' in html
    assert "differs: legal proof needed" in html
    assert "/customer/forms/contract_transfer.pdf" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'id="submit"' not in html  # nothing can be sent before the signed form is uploaded


def test_starting_a_merge_with_a_domain_sends_the_normalised_domain(customer_client, gateway_backends):
    gateway_backends.merge.on("ListMerges", merge_pb2.ListMergesResponse())
    gateway_backends.merge.on("StartMerge", MERGE)
    token = form_token(customer_client, "/customer/merge")
    response = customer_client.post(
        "/customer/merge",
        data={
            "csrf_token": token,
            "source_customer_number": "2002",
            "proof": "domain",
            "domain": "Erika-Alt.Example",
            "domain_password": "pkg-secret",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/customer/merge/m_1"
    sent = gateway_backends.merge.calls[-1].request
    assert (sent.domain, sent.domain_password, sent.source_password) == (
        "erika-alt.example",
        "pkg-secret",
        "",
    )


def test_a_merge_with_bad_proof_keeps_the_number_and_says_so(customer_client, gateway_backends):
    gateway_backends.merge.on("ListMerges", merge_pb2.ListMergesResponse())
    gateway_backends.merge.on("StartMerge", Unauthenticated("no", code="invalid_credentials"))
    token = form_token(customer_client, "/customer/merge")
    response = customer_client.post(
        "/customer/merge",
        data={
            "csrf_token": token,
            "source_customer_number": "2002",
            "proof": "password",
            "source_password": "x",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The data you entered are not correct." in html and 'value="2002"' in html


# --- a backend that is down ----------------------------------------------------------------------


def test_a_service_that_is_down_shows_a_notice_page_not_a_crash(customer_client, gateway_backends):
    gateway_backends.contract.down = True
    response = customer_client.get("/customer/invoices")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert 'id="unavailable"' in response.get_data(as_text=True)


def test_the_overview_still_shows_when_only_the_packages_are_down(customer_client, gateway_backends):
    gateway_backends.package.down = True
    response = customer_client.get("/customer")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="packages-unavailable"' in html and "1001" in html


def test_a_login_while_identity_is_down_keeps_the_number_and_shows_a_notice(gateway_client, gateway_backends):
    token = form_token(gateway_client, "/login")
    gateway_backends.identity.down = True
    response = gateway_client.post(
        "/login", data={"csrf_token": token, "customer_number": "1001", "password": "pw"}
    )
    html = response.get_data(as_text=True)
    assert "not available at the moment" in html and 'value="1001"' in html


# --- where the pages live ------------------------------------------------------------------------


def test_no_page_lives_under_api(gateway_app):
    web_rules = [rule.rule for rule in gateway_app.url_map.iter_rules() if rule.endpoint.startswith("web.")]
    assert "/login" in web_rules and "/staff/merges" in web_rules
    assert not [rule for rule in web_rules if rule.startswith("/api/")]


def test_the_stylesheet_is_served_from_the_blueprint(gateway_client):
    response = gateway_client.get("/static/style.css")
    assert response.status_code == 200 and response.mimetype == "text/css"


def test_pages_forbid_framing_scripts_and_referrers_and_personal_pages_are_not_cached(customer_client):
    response = customer_client.get("/customer")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_merge_window_changes_no_data_of_a_merge_that_is_no_longer_open(
    customer_client, gateway_backends
):
    gateway_backends.merge.on(
        "GetMerge", merge_pb2.Merge(**{**_merge_fields(), "status": merge_pb2.MERGE_STATUS_SUBMITTED})
    )
    token = form_token(customer_client, "/customer")
    fields = {name: getattr(CUSTOMER, name) for name in ("zip", "city", "country", "phone", "mobile", "fax")}
    response = customer_client.post(
        "/customer/merge/m_1/data",
        data={"csrf_token": token, **fields, "street": "Neue Straße 1", "email": CUSTOMER.email},
    )
    assert response.status_code == 422 and 'id="data-error"' in response.get_data(as_text=True)
    assert all(call.method != "UpdateCustomer" for call in gateway_backends.contract.calls)
    assert "RefreshComparison" not in gateway_backends.merge.methods_called()


def test_the_merge_window_sends_the_change_to_contract_service_and_then_compares_again(
    customer_client, gateway_backends
):
    gateway_backends.merge.on(
        "GetMerge", merge_pb2.Merge(**{**_merge_fields(), "status": merge_pb2.MERGE_STATUS_READY})
    )
    gateway_backends.merge.on("RefreshComparison", merge_pb2.RefreshComparisonResponse(merge=MERGE))
    gateway_backends.contract.on("UpdateCustomer", CUSTOMER)
    token = form_token(customer_client, "/customer")
    fields = {name: getattr(CUSTOMER, name) for name in ("zip", "city", "country", "phone", "mobile", "fax")}
    response = customer_client.post(
        "/customer/merge/m_1/data",
        data={"csrf_token": token, **fields, "street": "Neue Straße 1", "email": CUSTOMER.email},
    )
    assert response.status_code == 302 and "notice=data_corrected" in response.headers["Location"]
    sent = next(call.request for call in gateway_backends.contract.calls if call.method == "UpdateCustomer")
    assert sent.street == "Neue Straße 1" and not sent.HasField("email")
    assert gateway_backends.merge.methods_called()[-1] == "RefreshComparison"
