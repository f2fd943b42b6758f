"""The pages of the package menu with Flask's test client and fake backends: "Start" and "More"
in the package list, "Administration / Set passwords", the contact form and the staff's
contact requests with their answer."""

from __future__ import annotations

import io

import pytest
from cc_common.errors import Conflict, InvalidInput
from customercenter.v2 import contract_pb2

from tests.unit.test_web_pages import CUSTOMER, PACKAGES, csrf_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OPEN = contract_pb2.ContactRequest(id="cr_1", customer_number="1001", subject="Signed form", message="Attached.",
                                   filename="form.pdf", status=contract_pb2.CONTACT_REQUEST_STATUS_OPEN)  # fmt: skip


@pytest.fixture
def customer_client(gateway_client, gateway_tokens, gateway_backends):
    gateway_client.set_cookie("cc_session", gateway_tokens.customer("1001"))
    gateway_backends.contract.on("GetCustomer", CUSTOMER)
    gateway_backends.package.on("ListPackages", PACKAGES)
    return gateway_client


@pytest.fixture
def staff_client(gateway_client, gateway_tokens, gateway_backends):
    gateway_client.set_cookie("cc_session", gateway_tokens.staff())
    gateway_backends.contract.on(
        "ListContactRequests", contract_pb2.ListContactRequestsResponse(requests=[OPEN])
    )
    return gateway_client


def test_each_package_has_start_as_a_form_and_more_as_a_link_and_the_menu_has_set_passwords(customer_client):
    html = customer_client.get("/customer", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert 'action="/packages/pkg_1/start"' in html and 'name="csrf_token"' in html
    assert 'id="more-pkg_1" href="/packages/pkg_1"' in html and ">Meer<" in html and ">Starten<" in html
    assert "Beheer / Wachtwoorden instellen" in html and 'href="/customer/contact"' in html


def test_start_redirects_to_a_link_of_the_same_function_as_the_api(customer_client, gateway_backends):
    gateway_backends.package.on("GetPackage", PACKAGES.packages[0])
    token = csrf_of(customer_client.get("/customer"))
    started = customer_client.post("/packages/pkg_1/start", data={"csrf_token": token})
    assert started.status_code == 302 and "/packages/sso?token=" in started.headers["Location"]
    refused = customer_client.post("/packages/pkg_1/start", data={})
    assert refused.status_code == 400  # no CSRF token


def test_set_passwords_sets_a_package_password_and_keeps_errors_next_to_that_packages_form(
    customer_client, gateway_backends
):
    gateway_backends.package.on("GetPackage", PACKAGES.packages[0])
    gateway_backends.identity.on("SetPackagePassword", lambda request, token: None)
    token = csrf_of(customer_client.get("/customer/package-passwords"))
    mismatch = customer_client.post("/customer/package-passwords/pkg_1", data={
        "csrf_token": token, "new_password": "Fresh-Pw-123", "confirm_password": "Other-Pw-123"})  # fmt: skip
    assert mismatch.status_code == 422 and 'id="e-confirm_password-pkg_1"' in mismatch.get_data(as_text=True)
    assert "Fresh-Pw-123" not in mismatch.get_data(as_text=True)
    done = customer_client.post("/customer/package-passwords/pkg_1", data={
        "csrf_token": token, "new_password": "Fresh-Pw-123", "confirm_password": "Fresh-Pw-123"})  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"].endswith("notice=package_password_set")
    (call,) = [c for c in gateway_backends.identity.calls if c.method == "SetPackagePassword"]
    assert (call.request.package_id, call.request.password) == ("pkg_1", "Fresh-Pw-123")


def test_the_contact_form_sends_subject_message_and_pdf_and_shows_a_refused_field_next_to_it(
    customer_client, gateway_backends
):
    sent = []
    gateway_backends.contract.on("CreateContactRequest", lambda request, token: sent.append(request) or OPEN)
    page = customer_client.get("/customer/contact?subject=Signed+form")
    assert 'value="Signed form"' in page.get_data(as_text=True)
    token = csrf_of(page)
    done = customer_client.post("/customer/contact", content_type="multipart/form-data", data={
        "csrf_token": token, "subject": "Signed form", "message": "Attached.",
        "file": (io.BytesIO(PDF), "form.pdf", "application/pdf")})  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"].endswith("notice=contact_sent")
    assert (sent[0].subject, sent[0].filename, sent[0].attachment) == ("Signed form", "form.pdf", PDF)
    gateway_backends.contract.on("CreateContactRequest", InvalidInput("bad", field="subject"))
    refused = customer_client.post("/customer/contact", content_type="multipart/form-data",
                                   data={"csrf_token": token, "subject": "x", "message": "y"})  # fmt: skip
    assert refused.status_code == 422 and 'id="e-subject"' in refused.get_data(as_text=True)
    empty = customer_client.post(
        "/customer/contact", data={"csrf_token": token, "subject": " ", "message": ""}
    )
    assert empty.status_code == 422 and 'id="e-message"' in empty.get_data(as_text=True)


def test_the_staff_page_lists_requests_and_answers_one_through_the_api_path(staff_client, gateway_backends):
    page = staff_client.get("/staff/contact-requests")
    html = page.get_data(as_text=True)
    assert (
        page.status_code == 200
        and "Signed form" in html
        and 'href="/staff/contact-requests/cr_1/attachment"' in html
    )
    answers = []
    gateway_backends.contract.on(
        "AnswerContactRequest", lambda request, token: answers.append(request) or OPEN
    )
    token = csrf_of(page)
    done = staff_client.post(
        "/staff/contact-requests/cr_1/answer", data={"csrf_token": token, "message": "Done."}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("notice=contact_answered")
    assert (answers[0].request_id, answers[0].message) == ("cr_1", "Done.")
    gateway_backends.contract.on("AnswerContactRequest", Conflict("twice", code="already_answered"))
    twice = staff_client.post(
        "/staff/contact-requests/cr_1/answer", data={"csrf_token": token, "message": "Again"}
    )
    assert twice.status_code == 409 and "already been answered" in twice.get_data(as_text=True)
    blank = staff_client.post(
        "/staff/contact-requests/cr_1/answer", data={"csrf_token": token, "message": " "}
    )
    assert blank.status_code == 422 and 'id="e-answer-cr_1"' in blank.get_data(as_text=True)


def test_a_customer_may_not_open_the_staff_queue(customer_client):
    assert customer_client.get("/staff/contact-requests").status_code == 403
