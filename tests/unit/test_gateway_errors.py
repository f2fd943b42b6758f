"""Error shapes, bad input, oversized bodies, backends that are down, and GET /healthz."""

from __future__ import annotations

import io
import logging

import pytest
from cc_common.errors import DomainError
from customercenter.v2 import package_pb2

# A customer as staff create it (POST /api/v1/admin/customers): every field it needs.
NEW_CUSTOMER = {
    "market": "de",
    "password": "long-enough",
    "last_name": "Muster",
    "street": "Hauptstraße 1",
    "zip": "10115",
    "city": "Berlin",
    "country": "DE",
    "email": "kunde@example.com",
}

LOGIN = "/api/v1/auth/customer-login"
PACKAGE_LOGIN = "/api/v1/auth/package-login"
STAFF_LOGIN = "/api/v1/auth/staff-login"


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert error.get("field") == field
    assert "Traceback" not in response.get_data(as_text=True)


BAD_JSON = [
    pytest.param(b"{", id="truncated"),
    pytest.param(b"", id="empty"),
    pytest.param(b"customer_number=1", id="form-encoded"),
    pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
    pytest.param(b'{"customer_number": NaN}', id="nan"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply-nested"),
]


@pytest.mark.parametrize("raw", BAD_JSON)
def test_unparsable_bodies_answer_400_invalid_json(raw, gateway_client, gateway_backends):
    response = gateway_client.post(LOGIN, data=raw, content_type="application/json")
    assert_error(response, 400, "invalid_json")
    assert gateway_backends.identity.calls == []


BAD_INPUT = [
    # (path, body, field)
    pytest.param(LOGIN, [], None, id="array-body"),
    pytest.param(LOGIN, "a string", None, id="string-body"),
    pytest.param(LOGIN, 42, None, id="number-body"),
    pytest.param(LOGIN, {"password": "x"}, "customer_number", id="missing-number"),
    pytest.param(LOGIN, {"customer_number": "1"}, "password", id="missing-password"),
    pytest.param(
        LOGIN, {"customer_number": "1", "password": "x", "admin": True}, "admin", id="unknown-field"
    ),
    pytest.param(LOGIN, {"customer_number": 100, "password": "x"}, "customer_number", id="number-not-string"),
    pytest.param(
        LOGIN, {"customer_number": "12a", "password": "x"}, "customer_number", id="number-not-digits"
    ),
    pytest.param(LOGIN, {"customer_number": "", "password": "x"}, "customer_number", id="number-empty"),
    pytest.param(
        LOGIN, {"customer_number": "1" * 21, "password": "x"}, "customer_number", id="number-too-long"
    ),
    pytest.param(
        LOGIN, {"customer_number": "١٢٣", "password": "x"}, "customer_number", id="number-arabic-digits"
    ),
    pytest.param(LOGIN, {"customer_number": "1", "password": "x" * 129}, "password", id="password-too-long"),
    pytest.param(LOGIN, {"customer_number": "1", "password": ""}, "password", id="password-empty"),
    pytest.param(LOGIN, {"customer_number": "1", "password": ["x"]}, "password", id="password-list"),
    pytest.param(LOGIN, {"customer_number": "1", "password": "a\x00b"}, "password", id="password-nul"),
    pytest.param(PACKAGE_LOGIN, {"domain": "no spaces.de", "password": "x"}, "domain", id="domain-space"),
    pytest.param(PACKAGE_LOGIN, {"domain": "a..de", "password": "x"}, "domain", id="domain-empty-label"),
    pytest.param(PACKAGE_LOGIN, {"domain": "localhost", "password": "x"}, "domain", id="domain-one-label"),
    pytest.param(PACKAGE_LOGIN, {"domain": "-bad.de", "password": "x"}, "domain", id="domain-leading-hyphen"),
    pytest.param(
        PACKAGE_LOGIN, {"domain": "a" * 64 + ".de", "password": "x"}, "domain", id="domain-long-label"
    ),
    pytest.param(
        PACKAGE_LOGIN,
        {"domain": ("a" * 60 + ".") * 5 + "de", "password": "x"},
        "domain",
        id="domain-too-long",
    ),
    pytest.param(PACKAGE_LOGIN, {"domain": "192.168.0.1", "password": "x"}, "domain", id="domain-digit-tld"),
    pytest.param(PACKAGE_LOGIN, {"domain": "a.de..", "password": "x"}, "domain", id="domain-two-dots"),
    pytest.param(PACKAGE_LOGIN, {"domain": "", "password": "x"}, "domain", id="domain-empty"),
    pytest.param(PACKAGE_LOGIN, {"domain": 5, "password": "x"}, "domain", id="domain-number"),
    pytest.param(
        PACKAGE_LOGIN, {"domain": "under_score.de", "password": "x"}, "domain", id="domain-underscore"
    ),
    pytest.param(STAFF_LOGIN, {"username": "u" * 201, "password": "x"}, "username", id="username-too-long"),
    pytest.param(STAFF_LOGIN, {"username": "", "password": "x"}, "username", id="username-empty"),
]


@pytest.mark.parametrize("path,body,field", BAD_INPUT)
def test_malformed_input_answers_422_invalid_input_naming_the_field(
    path, body, field, gateway_client, gateway_backends
):
    response = gateway_client.post(path, json=body)
    assert_error(response, 422, "invalid_input", field)
    assert gateway_backends.identity.calls == [] and gateway_backends.package.calls == []


ADMIN_BAD_INPUT = [
    pytest.param(
        "/api/v1/admin/customers", {"password": "long-enough"}, "market", id="customer-missing-market"
    ),
    pytest.param(
        "/api/v1/admin/customers",
        {"market": "fr", "password": "long-enough"},
        "market",
        id="customer-bad-market",
    ),
    pytest.param(
        "/api/v1/admin/customers",
        {**NEW_CUSTOMER, "city": "x" * 201},
        "city",
        id="customer-long-city",
    ),
    pytest.param(
        "/api/v1/admin/customers",
        {**NEW_CUSTOMER, "email": 5},
        "email",
        id="customer-email-number",
    ),
    pytest.param(
        "/api/v1/admin/customers",
        {**NEW_CUSTOMER, "customer_number": "x1"},
        "customer_number",
        id="customer-bad-number",
    ),
    pytest.param(
        "/api/v1/admin/customers",
        {"market": "de", "password": "long-enough", "card_number": "4111111111111111"},
        "card_number",
        id="customer-card-number",
    ),
    pytest.param(
        "/api/v1/admin/customers/12x/packages",
        {"product": "hosting-basic", "domains": ["a.de"]},
        "customer_number",
        id="package-path-number",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/packages",
        {"product": "hosting-basic", "domains": "a.de"},
        "domains",
        id="package-domains-string",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/packages",
        {"product": "hosting-basic", "domains": []},
        "domains",
        id="package-domains-empty",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/packages",
        {"product": "hosting-basic", "domains": [1]},
        "domains",
        id="package-domain-number",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/packages",
        {"product": "hosting-basic", "domains": ["a.de", "A.DE"]},
        "domains",
        id="package-domains-twice",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/packages",
        {"product": "", "domains": ["a.de"]},
        "product",
        id="package-empty-product",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/packages",
        {"product": "hosting-basic", "domains": ["a.de"], "package_password": "short"},
        "package_password",
        id="package-short-password",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/invoices",
        {"amount": "1.00", "currency": "EURO"},
        "currency",
        id="invoice-currency",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/invoices",
        {"amount": "1.00", "status": "void"},
        "status",
        id="invoice-status",
    ),
    pytest.param(
        "/api/v1/admin/customers/1/invoices", {"currency": "EUR"}, "amount", id="invoice-missing-amount"
    ),
]


@pytest.mark.parametrize("path,body,field", ADMIN_BAD_INPUT)
def test_malformed_admin_input_answers_422_naming_the_field(
    path, body, field, gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    response = gateway_client.post(path, json=body, headers=gateway_auth(gateway_tokens.staff()))
    assert_error(response, 422, "invalid_input", field)
    assert all(not service.calls for service in gateway_backends.by_name().values())


def test_a_body_over_one_megabyte_answers_413(gateway_client, gateway_backends):
    body = b'{"customer_number": "1", "password": "' + b"x" * (1024 * 1024) + b'"}'
    response = gateway_client.post(LOGIN, data=body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert gateway_backends.identity.calls == []


def test_a_chunked_body_over_one_megabyte_answers_413(gateway_client, gateway_backends):
    body = b'{"customer_number": "1", "password": "' + b"x" * (1024 * 1024) + b'"}'
    response = gateway_client.post(
        LOGIN,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "payload_too_large")
    assert gateway_backends.identity.calls == []


def test_an_unknown_path_answers_404_as_json(gateway_client):
    assert_error(gateway_client.get("/api/v1/nothing-here"), 404, "not_found")


def test_a_wrong_method_answers_405_with_allow(gateway_client):
    response = gateway_client.get(LOGIN)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_failure_answers_500_without_details(gateway_client, gateway_backends, caplog):
    gateway_backends.identity.on("CustomerLogin", lambda req, token: 1 / 0)
    with caplog.at_level(logging.ERROR):
        response = gateway_client.post(LOGIN, json={"customer_number": "1", "password": "x"})
    assert_error(response, 500, "internal_error")
    assert "ZeroDivision" not in response.get_data(as_text=True)
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)


def test_an_internal_backend_error_answers_500_without_its_details(gateway_client, gateway_backends):
    gateway_backends.identity.on("CustomerLogin", DomainError("db password is hunter2"))
    response = gateway_client.post(LOGIN, json={"customer_number": "1", "password": "x"})
    assert_error(response, 500, "internal_error")
    assert "hunter2" not in response.get_data(as_text=True)


def test_a_down_backend_answers_503_for_its_features_while_the_rest_keeps_working(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.down = True
    gateway_backends.package.on("ListPackages", package_pb2.ListPackagesResponse())
    headers = gateway_auth(gateway_tokens.customer("100"))
    response = gateway_client.get("/api/v1/customer", headers=headers)
    assert_error(response, 503, "service_unavailable")
    assert response.get_json()["error"]["service"] == "contract"
    assert "contract" in response.get_json()["error"]["message"]
    assert gateway_client.get("/api/v1/packages", headers=headers).status_code == 200


def test_logins_answer_503_while_identity_is_down(gateway_client, gateway_backends):
    gateway_backends.identity.down = True
    assert_error(
        gateway_client.post(LOGIN, json={"customer_number": "1", "password": "x"}), 503, "service_unavailable"
    )


# --- health -----------------------------------------------------------------------------------


def test_healthz_is_200_when_every_service_serves(gateway_client):
    response = gateway_client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "services": {"identity": "SERVING", "contract": "SERVING", "package": "SERVING", "merge": "SERVING"},
    }


def test_healthz_is_503_naming_the_services_that_do_not_serve(gateway_client, gateway_backends):
    gateway_backends.merge.healthy = False

    def broken(timeout=1.0):
        raise RuntimeError("no answer")

    gateway_backends.package.serving = broken
    response = gateway_client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["services"] == {
        "identity": "SERVING",
        "contract": "SERVING",
        "package": "NOT_SERVING",
        "merge": "NOT_SERVING",
    }
    assert body["error"] == {"code": "service_unavailable", "message": "Not serving: package, merge"}
