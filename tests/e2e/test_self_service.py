"""Customer self-service end to end (docs/architecture.md), through the gateway and the real services:
master data, payment data, invoices, forms, terminations, package passwords, product changes,
package splitting, customer password change and reset."""

from __future__ import annotations

import email
import email.policy
import re
import uuid

import jwt
import pytest

RESET_LINK = re.compile(r"/password-reset\?token=([A-Za-z0-9_-]+)")


def unique_domain() -> str:
    return f"self-{uuid.uuid4().hex[:10]}.example"


def customer_with_token(suite, market="de"):
    customer = suite.create_customer(market)
    return customer, suite.login_customer(customer.number, customer.password)


def error_of(reply):
    return reply.json()["error"]


def mail_body(mail) -> str:
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain", "html")) if message.is_multipart() else message
    return part.get_content()


# --- master data and payment ----------------------------------------------------------------


def test_a_customer_changes_address_and_contact_data_and_every_package_sees_the_one_record(suite):
    customer, token = customer_with_token(suite)
    domain = unique_domain()
    package_id = suite.create_package(customer.number, domains=[domain], package_password="Pkg-pass-123")
    suite.create_package(customer.number)
    changes = {
        "street": "Friedrichstraße 43",
        "zip": "10969",
        "city": "Berlin",
        "phone": "+49 30 7654321",
        "email": f"new-{uuid.uuid4().hex[:8]}@example.com",
    }
    reply = suite.api(
        "PATCH",
        "/api/v1/customer",
        token=token,
        json={**changes, "current_password": customer.password},
        expect=200,
    ).json()
    for name, value in changes.items():
        if name != "phone":
            assert reply[name] == value
    assert reply["phone"]
    assert reply["first_name"] == customer.fields["first_name"]
    again = suite.api("GET", "/api/v1/customer", token=token, expect=200).json()
    assert again == reply
    # One record per customer number: both packages belong to it, none has its own address.
    packages = suite.api("GET", "/api/v1/packages", token=token, expect=200).json()["packages"]
    assert {p["customer_number"] for p in packages} == {customer.number} and len(packages) == 2
    package_token = suite.login_package(domain, "Pkg-pass-123")
    own = suite.api("GET", f"/api/v1/packages/{package_id}", token=package_token, expect=200).json()
    assert own["id"] == package_id and "customer_number" not in own  # a package login never sees it


def test_a_change_of_name_needs_the_written_form_and_saves_nothing(suite):
    customer, token = customer_with_token(suite)
    for body in (
        {"last_name": "Musterfrau"},
        {"company": "ACME GmbH", "city": "Hamburg"},
        {"first_name": "X"},
    ):
        reply = suite.api("PATCH", "/api/v1/customer", token=token, json=body, expect=409)
        assert error_of(reply)["code"] == "written_form_required"
    record = suite.api("GET", "/api/v1/customer", token=token, expect=200).json()
    assert record["city"] == customer.fields["city"]
    assert record["last_name"] == customer.fields["last_name"]


def test_invalid_master_data_answers_422_with_the_field(suite):
    customer, token = customer_with_token(suite)
    reply = suite.api("PATCH", "/api/v1/customer", token=token, json={"zip": "#1"}, expect=422)
    assert error_of(reply)["field"] == "zip"
    body = {"country": "NL", "zip": "10115"}
    reply = suite.api("PATCH", "/api/v1/customer", token=token, json=body, expect=422)
    assert error_of(reply)["field"] == "zip"
    body = {"email": "not-an-address", "current_password": customer.password}
    reply = suite.api("PATCH", "/api/v1/customer", token=token, json=body, expect=422)
    assert error_of(reply)["field"] == "email"
    suite.api("PATCH", "/api/v1/customer", token=token, json={}, expect=422)


def test_a_postcode_that_does_not_fit_the_stored_country_answers_409_and_saves_nothing(suite):
    customer, token = customer_with_token(suite)  # a German address
    for body in ({"zip": "ABC"}, {"zip": "1012 AB", "city": "Amsterdam"}, {"country": "NL"}):
        reply = suite.api("PATCH", "/api/v1/customer", token=token, json=body, expect=409)
        assert (error_of(reply)["code"], error_of(reply)["field"]) == ("postcode_not_in_country", "zip")
    record = suite.api("GET", "/api/v1/customer", token=token, expect=200).json()
    assert (record["zip"], record["city"], record["country"]) == (
        customer.fields["zip"],
        customer.fields["city"],
        "DE",
    )
    body = {"country": "NL", "zip": "1012 ab"}
    record = suite.api("PATCH", "/api/v1/customer", token=token, json=body, expect=200).json()
    assert (record["zip"], record["country"]) == ("1012 AB", "NL")


def test_a_valid_iban_is_stored_and_shown_masked_and_a_card_number_is_refused(suite):
    _customer, token = customer_with_token(suite, market="uk")
    reply = suite.api(
        "PUT",
        "/api/v1/customer/payment",
        token=token,
        json={"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
        expect=200,
    ).json()
    payment = reply["payment"]
    assert payment["method"] == "sepa"
    assert payment["iban_masked"] and "0532013000" not in payment["iban_masked"].replace(" ", "")
    assert payment["iban_masked"].replace(" ", "").startswith("DE89")
    shown = suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["payment"]
    assert shown == payment
    refused = suite.api(
        "PUT",
        "/api/v1/customer/payment",
        token=token,
        json={"card_token": "4111 1111 1111 1111", "card_last4": "1111", "card_expiry": "12/30"},
        expect=422,
    )
    assert error_of(refused)["code"] == "card_number_refused"
    assert error_of(refused)["field"] == "card_token"
    assert "4111" not in refused.text
    bad = suite.api(
        "PUT",
        "/api/v1/customer/payment",
        token=token,
        json={"iban": "DE00370400440532013000", "bic": "COBADEFFXXX"},
        expect=422,
    )
    assert error_of(bad)["field"] == "iban"
    assert suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["payment"] == payment


# --- invoices and forms ---------------------------------------------------------------------


def test_invoices_are_listed_downloaded_as_pdf_and_an_open_one_debited_again(suite):
    customer, token = customer_with_token(suite)
    open_number = suite.create_invoice(customer.number, amount="29.90", status="open")
    paid_number = suite.create_invoice(customer.number, amount="9.90", status="paid")
    invoices = {
        i["number"]: i
        for i in suite.api("GET", "/api/v1/invoices", token=token, expect=200).json()["invoices"]
    }
    assert set(invoices) == {open_number, paid_number}
    assert (
        invoices[open_number]["amount"] == 29.9 and invoices[open_number]["repeat_debit_requested"] is False
    )

    pdf = suite.api("GET", f"/api/v1/invoices/{open_number}/pdf", token=token, expect=200)
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"] == f"attachment; filename={open_number}.pdf"

    debit = suite.api("POST", f"/api/v1/invoices/{open_number}/repeat-debit", token=token, expect=202).json()
    assert debit["invoice_number"] == open_number and debit["status"] == "requested"
    listed = {
        i["number"]: i
        for i in suite.api("GET", "/api/v1/invoices", token=token, expect=200).json()["invoices"]
    }
    assert listed[open_number]["repeat_debit_requested"] is True
    assert listed[open_number]["repeat_debit_requested_at"]
    assert listed[paid_number]["repeat_debit_requested"] is False

    refused = suite.api("POST", f"/api/v1/invoices/{paid_number}/repeat-debit", token=token, expect=409)
    assert error_of(refused)["code"] == "invoice_not_open"


def test_another_customers_invoice_pdf_and_package_answer_404(suite):
    owner = suite.create_customer()
    invoice = suite.create_invoice(owner.number)
    package_id = suite.create_package(owner.number)
    _other, token = customer_with_token(suite)
    assert (
        error_of(suite.api("GET", f"/api/v1/invoices/{invoice}/pdf", token=token, expect=404))["code"]
        == "not_found"
    )
    suite.api("POST", f"/api/v1/invoices/{invoice}/repeat-debit", token=token, expect=404)
    suite.api("GET", f"/api/v1/packages/{package_id}", token=token, expect=404)
    suite.api(
        "PUT",
        f"/api/v1/packages/{package_id}/password",
        token=token,
        json={"new_password": "Stolen-pass-1"},
        expect=404,
    )
    suite.api(
        "POST",
        f"/api/v1/packages/{package_id}/downgrade",
        token=token,
        json={"product": "hosting-basic"},
        expect=404,
    )
    suite.api("POST", "/api/v1/terminations", token=token, json={"package_id": package_id}, expect=404)


def test_written_only_forms_come_with_a_pdf_and_online_ones_with_their_endpoint(suite):
    _customer, token = customer_with_token(suite)
    forms = suite.api("GET", "/api/v1/forms", token=token, expect=200).json()["forms"]
    written = [f for f in forms if f["mode"] == "written"]
    online = [f for f in forms if f["mode"] == "online"]
    assert {"contract_transfer", "domain_holder_change"} <= {f["id"] for f in written}
    assert all(f["endpoint"] for f in online) and all(f["pdf_url"] is None for f in online)
    for form in written:
        assert form["pdf_url"] == f"/api/v1/forms/{form['id']}/pdf"
        pdf = suite.api("GET", form["pdf_url"], token=token, expect=200)
        assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


# --- terminations ---------------------------------------------------------------------------


def test_a_termination_is_created_listed_and_retracted(suite):
    customer, token = customer_with_token(suite)
    domains = [unique_domain(), unique_domain()]
    package_id = suite.create_package(customer.number, product="hosting-plus", domains=domains)
    created = suite.api(
        "POST", "/api/v1/terminations", token=token, json={"package_id": package_id}, expect=201
    )
    body = created.json()
    assert body["package_id"] == package_id and body["domain"] is None and body["status"] == "open"
    assert body["effective_date"]
    assert created.headers["Location"].endswith(f"/api/v1/terminations/{body['id']}")
    again = suite.api(
        "POST", "/api/v1/terminations", token=token, json={"package_id": package_id}, expect=409
    )
    assert error_of(again)["code"] == "already_terminated"
    listed = suite.api("GET", "/api/v1/terminations", token=token, expect=200).json()["terminations"]
    assert [t["id"] for t in listed] == [body["id"]]
    suite.api("DELETE", f"/api/v1/terminations/{body['id']}", token=token, expect=204)
    shown = suite.api("GET", f"/api/v1/terminations/{body['id']}", token=token, expect=200).json()
    assert shown["status"] == "retracted"

    one_domain = suite.api(
        "POST",
        "/api/v1/terminations",
        token=token,
        json={"package_id": package_id, "domain": domains[1]},
        expect=201,
    ).json()
    assert one_domain["domain"] == domains[1]
    foreign = suite.api(
        "POST",
        "/api/v1/terminations",
        token=token,
        json={"package_id": package_id, "domain": unique_domain()},
        expect=422,
    )
    assert error_of(foreign)["field"] == "domain"


# --- packages -------------------------------------------------------------------------------


def test_the_customer_sets_a_package_password_and_the_package_login_works_with_it(suite):
    customer, token = customer_with_token(suite)
    domain = unique_domain()
    package_id = suite.create_package(customer.number, domains=[domain])
    suite.api(
        "PUT",
        f"/api/v1/packages/{package_id}/password",
        token=token,
        json={"new_password": "Fresh-package-pw-1"},
        expect=204,
    )
    package_token = suite.login_package(domain, "Fresh-package-pw-1")
    own = suite.api("GET", f"/api/v1/packages/{package_id}", token=package_token, expect=200).json()
    assert own["domains"] == [domain] and own["product_name"] == "Hosting Basic" and own["max_domains"] == 1
    # The package login may set its own password too; the old one no longer works.
    suite.api(
        "PUT",
        f"/api/v1/packages/{package_id}/password",
        token=package_token,
        json={"new_password": "Second-package-pw-2"},
        expect=204,
    )
    suite.api(
        "POST",
        "/api/v1/auth/package-login",
        json={"domain": domain, "password": "Fresh-package-pw-1"},
        expect=401,
    )
    suite.login_package(domain, "Second-package-pw-2")


def test_a_downgrade_that_does_not_fit_is_refused_with_the_reason_and_one_that_fits_works(suite):
    customer, token = customer_with_token(suite)
    domains = [unique_domain() for _ in range(3)]
    package_id = suite.create_package(customer.number, product="hosting-plus", domains=domains)
    refused = suite.api(
        "POST",
        f"/api/v1/packages/{package_id}/downgrade",
        token=token,
        json={"product": "hosting-basic"},
        expect=409,
    )
    assert error_of(refused)["code"] == "package_does_not_fit"
    assert "3 domains" in error_of(refused)["message"]
    bigger = suite.api(
        "POST",
        f"/api/v1/packages/{package_id}/downgrade",
        token=token,
        json={"product": "hosting-pro"},
        expect=409,
    )
    assert error_of(bigger)["code"] == "not_a_downgrade"
    assert (
        suite.api("GET", f"/api/v1/packages/{package_id}", token=token, expect=200).json()["product"]
        == "hosting-plus"
    )

    small = suite.create_package(customer.number, product="hosting-plus")
    changed = suite.api(
        "POST",
        f"/api/v1/packages/{small}/downgrade",
        token=token,
        json={"product": "hosting-basic"},
        expect=200,
    ).json()
    assert changed["product"] == "hosting-basic" and changed["direction"] == "downgrade"
    assert changed["from_product"] == "hosting-plus"
    # The contract follows the package's new product; the refused one keeps its product.
    contracts = suite.api("GET", "/api/v1/contracts", token=token, expect=200).json()["contracts"]
    products = {c["package_id"]: c["product"] for c in contracts}
    assert products == {package_id: "hosting-plus", small: "hosting-basic"}
    terminated = suite.api(
        "POST", "/api/v1/terminations", token=token, json={"package_id": small}, expect=201
    ).json()
    assert terminated["product"] == "hosting-basic"


def test_usage_above_the_smaller_products_limit_blocks_a_downgrade(suite):
    customer, token = customer_with_token(suite)
    package_id = suite.create_package(customer.number, product="hosting-plus")
    usage = suite.api(
        "POST",
        f"/api/v1/admin/packages/{package_id}/usage",
        token=suite.staff_token(),
        json={"storage_used_gb": 20, "mailboxes_used": 2},
        expect=200,
    ).json()["usage"]
    assert usage == {"storage_used_gb": 20, "mailboxes_used": 2, "databases_used": 0}
    refused = suite.api(
        "POST",
        f"/api/v1/packages/{package_id}/downgrade",
        token=token,
        json={"product": "hosting-basic"},
        expect=409,
    )
    assert error_of(refused)["code"] == "package_does_not_fit" and "GB" in error_of(refused)["message"]


def test_the_package_login_cannot_change_the_contract_and_never_sees_the_owners_number(suite):
    customer, token = customer_with_token(suite)
    domain = unique_domain()
    package_id = suite.create_package(
        customer.number, product="hosting-plus", domains=[domain], package_password="Pkg-pass-123"
    )
    login = suite.api(
        "POST", "/api/v1/auth/package-login", json={"domain": domain, "password": "Pkg-pass-123"}, expect=200
    )
    package_token = login.json()["access_token"]
    claims = jwt.decode(package_token, options={"verify_signature": False})
    assert "cn" not in claims and customer.number not in login.text
    for path in ("/api/v1/packages", f"/api/v1/packages/{package_id}"):
        answer = suite.api("GET", path, token=package_token, expect=200)
        assert customer.number not in answer.text and "customer_number" not in answer.text
    for change in ("upgrade", "downgrade"):
        refused = suite.api(
            "POST",
            f"/api/v1/packages/{package_id}/{change}",
            token=package_token,
            json={"product": "hosting-pro" if change == "upgrade" else "hosting-basic"},
            expect=403,
        )
        assert error_of(refused)["code"] == "forbidden"
    unchanged = suite.api("GET", f"/api/v1/packages/{package_id}", token=token, expect=200).json()
    assert unchanged["customer_number"] == customer.number and unchanged["product"] == "hosting-plus"
    down = suite.api(
        "POST",
        f"/api/v1/packages/{package_id}/upgrade",
        token=token,
        json={"product": "hosting-basic"},
        expect=409,
    )
    assert error_of(down)["code"] == "not_an_upgrade"


def test_settings_are_read_and_changed_by_the_owner_and_the_package_login(suite):
    customer, token = customer_with_token(suite)
    domain = unique_domain()
    package_id = suite.create_package(customer.number, domains=[domain], package_password="Pkg-pass-123")
    settings = suite.api("GET", f"/api/v1/packages/{package_id}/settings", token=token, expect=200).json()
    assert settings["settings"]["php_version"]
    package_token = suite.login_package(domain, "Pkg-pass-123")
    changed = suite.api(
        "PATCH",
        f"/api/v1/packages/{package_id}/settings",
        token=package_token,
        json={"settings": {"php_version": "8.2", "php_memory_limit_mb": 512}},
        expect=200,
    ).json()["settings"]
    assert changed["php_version"] == "8.2" and changed["php_memory_limit_mb"] == "512"
    bad = suite.api(
        "PATCH",
        f"/api/v1/packages/{package_id}/settings",
        token=token,
        json={"settings": {"php_version": "5.6"}},
        expect=422,
    )
    assert error_of(bad)["field"] == "settings.php_version"


def test_a_domain_is_split_off_into_a_new_package_with_its_own_contract(suite):
    customer, token = customer_with_token(suite)
    domains = [unique_domain(), unique_domain()]
    package_id = suite.create_package(customer.number, product="hosting-plus", domains=domains)
    moved = suite.api(
        "POST", f"/api/v1/packages/{package_id}/split", token=token, json={"domain": domains[1]}, expect=200
    ).json()
    assert moved["created"] is True
    assert moved["source"]["domains"] == [domains[0]]
    assert moved["target"]["domains"] == [domains[1]] and moved["target"]["id"] != package_id
    assert moved["target"]["customer_number"] == customer.number
    packages = {
        p["id"] for p in suite.api("GET", "/api/v1/packages", token=token, expect=200).json()["packages"]
    }
    assert packages == {package_id, moved["target"]["id"]}
    # The new package has a contract, so it can be terminated online.
    suite.api(
        "POST", "/api/v1/terminations", token=token, json={"package_id": moved["target"]["id"]}, expect=201
    )
    last = suite.api(
        "POST", f"/api/v1/packages/{package_id}/split", token=token, json={"domain": domains[0]}, expect=409
    )
    assert error_of(last)["code"] == "last_domain"


def test_a_package_token_gets_403_on_every_contract_endpoint_and_on_downgrade_and_termination(suite):
    customer = suite.create_customer()
    domain = unique_domain()
    package_id = suite.create_package(customer.number, domains=[domain], package_password="Pkg-pass-123")
    invoice = suite.create_invoice(customer.number)
    package_token = suite.login_package(domain, "Pkg-pass-123")
    calls = [
        ("GET", "/api/v1/customer", None),
        ("PATCH", "/api/v1/customer", {"city": "Bonn"}),
        ("PUT", "/api/v1/customer/payment", {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}),
        ("PUT", "/api/v1/customer/password", {"current_password": "x", "new_password": "Another-pass-1"}),
        ("GET", "/api/v1/invoices", None),
        ("GET", f"/api/v1/invoices/{invoice}/pdf", None),
        ("POST", f"/api/v1/invoices/{invoice}/repeat-debit", None),
        ("GET", "/api/v1/contracts", None),
        ("GET", "/api/v1/forms", None),
        ("GET", "/api/v1/forms/contract_transfer/pdf", None),
        ("POST", f"/api/v1/packages/{package_id}/downgrade", {"product": "hosting-basic"}),
        ("POST", f"/api/v1/packages/{package_id}/split", {"domain": domain}),
        ("POST", "/api/v1/terminations", {"package_id": package_id}),
        ("GET", "/api/v1/terminations", None),
        ("DELETE", "/api/v1/terminations/trm_x", None),
    ]
    for method, path, body in calls:
        reply = suite.api(method, path, token=package_token, json=body)
        assert reply.status_code == 403, (method, path, reply.status_code)
        assert error_of(reply)["code"] == "forbidden"
    # What the package login may do: the catalogue and its own package.
    assert suite.api("GET", "/api/v1/products", token=package_token, expect=200).json()["products"]


def test_the_catalogue_lists_products_smallest_first(suite):
    _customer, token = customer_with_token(suite)
    products = suite.api("GET", "/api/v1/products", token=token, expect=200).json()["products"]
    assert [p["rank"] for p in products] == sorted(p["rank"] for p in products)
    assert products[0]["code"] == "hosting-basic"
    assert {price["market"] for price in products[0]["prices"]} == {"de", "nl", "uk"}


# --- customer password ----------------------------------------------------------------------


def test_a_password_change_kills_the_other_tokens_and_keeps_the_current_one(suite):
    customer, token = customer_with_token(suite)
    other = suite.login_customer(customer.number, customer.password)
    wrong = suite.api(
        "PUT",
        "/api/v1/customer/password",
        token=token,
        json={"current_password": "not-the-password", "new_password": "Brand-new-pass-1"},
        expect=401,
    )
    assert error_of(wrong)["code"] == "invalid_credentials"
    suite.api(
        "PUT",
        "/api/v1/customer/password",
        token=token,
        json={"current_password": customer.password, "new_password": "Brand-new-pass-1"},
        expect=204,
    )
    assert (
        error_of(suite.api("GET", "/api/v1/customer", token=other, expect=401))["code"] == "unauthenticated"
    )
    suite.api("GET", "/api/v1/customer", token=token, expect=200)
    suite.api(
        "POST",
        "/api/v1/auth/customer-login",
        json={"customer_number": customer.number, "password": customer.password},
        expect=401,
    )
    suite.login_customer(customer.number, "Brand-new-pass-1")


def test_a_password_reset_mails_one_link_that_works_once(suite):
    customer = suite.create_customer()
    address = customer.fields["email"]
    suite.api("POST", "/api/v1/auth/password-reset", json={"customer_number": customer.number}, expect=202)
    unknown = "9" + uuid.uuid4().int.__str__()[:15]
    suite.api("POST", "/api/v1/auth/password-reset", json={"customer_number": unknown}, expect=202)
    suite.api("POST", "/api/v1/auth/password-reset", json={"customer_number": "12ab"}, expect=422)

    mails = suite.mails.wait_for(address)
    assert len(mails) == 1
    match = RESET_LINK.search(mail_body(mails[0]))
    assert match, mail_body(mails[0])
    reset_token = match.group(1)
    weak = suite.api(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": reset_token, "new_password": "short"},
        expect=422,
    )
    assert error_of(weak)["field"] == "new_password"
    suite.api(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": reset_token, "new_password": "Reset-new-pass-1"},
        expect=204,
    )
    used = suite.api(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": reset_token, "new_password": "Reset-other-pass-2"},
        expect=400,
    )
    assert error_of(used)["code"] == "invalid_token"
    suite.login_customer(customer.number, "Reset-new-pass-1")
    # The link went out once; the second mail is the notice that a new password was set.
    mails = suite.mails.wait_for(address, count=2)
    assert len(mails) == 2 and [bool(RESET_LINK.search(mail_body(m))) for m in mails] == [True, False]
    notice = email.message_from_bytes(mails[1].data, policy=email.policy.default)
    assert notice["Subject"] == "Ein neues Kundenpasswort wurde vergeben"  # a de customer: German


@pytest.mark.parametrize("body", [{}, {"customer_number": 123}, {"customer_number": ""}, {"number": "1"}])
def test_a_malformed_reset_request_answers_422(suite, body):
    reply = suite.api("POST", "/api/v1/auth/password-reset", json=body, expect=422)
    assert error_of(reply)["code"] == "invalid_input"
