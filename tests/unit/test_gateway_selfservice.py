"""The customer self-service endpoints (docs/architecture.md) against fake backends: status codes and
shapes, which token kinds each admits, how backend errors map, and bad input."""

from __future__ import annotations

import logging

import jwt
import pytest
from cc_common.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
)
from cc_common.protoconv import enum_value, parse_timestamp
from customercenter.v2 import common_pb2, contract_pb2, identity_pb2, package_pb2

PACKAGE = package_pb2.Package(
    id="pkg_1",
    customer_number="100",
    product="hosting-plus",
    product_name="Hosting Plus",
    max_domains=5,
    domains=["a.de", "b.de"],
    status=package_pb2.PACKAGE_STATUS_ACTIVE,
    storage_used_gb=3,
    mailboxes_used=2,
    databases_used=1,
)
PRODUCTS = package_pb2.ListProductsResponse(
    products=[
        package_pb2.Product(
            code="hosting-basic",
            name="Hosting Basic",
            rank=1,
            max_domains=1,
            storage_gb=10,
            mailboxes=5,
            databases=1,
            prices=[
                package_pb2.ProductPrice(market=common_pb2.MARKET_DE, monthly_price_cents=499, currency="EUR")
            ],
        ),
        package_pb2.Product(code="hosting-plus", name="Hosting Plus", rank=2, max_domains=5),
        package_pb2.Product(code="hosting-pro", name="Hosting Pro", rank=3, max_domains=25),
    ]
)
CUSTOMER = contract_pb2.Customer(
    customer_number="100",
    market=common_pb2.MARKET_DE,
    status=common_pb2.CUSTOMER_STATUS_ACTIVE,
    last_name="Mustermann",
    street="Hauptstraße 5",
    zip="10115",
    city="Berlin",
    country="DE",
    email="erika@example.de",
    payment=contract_pb2.Payment(
        method=contract_pb2.PAYMENT_METHOD_SEPA, iban_masked="DE89 **** **** **** **30 00", bic="COBADEFFXXX"
    ),
)
TERMINATION = contract_pb2.Termination(
    id="trm_1",
    customer_number="100",
    package_id="pkg_1",
    contract_id="ctr_1",
    product="hosting-plus",
    effective_date="2027-01-31",
    status=contract_pb2.TERMINATION_STATUS_OPEN,
    created_at=parse_timestamp("2026-02-01T00:00:00+00:00"),
)
FORMS = contract_pb2.ListFormsResponse(
    forms=[
        contract_pb2.Form(
            id="contract_transfer",
            title="Contract handover",
            mode=contract_pb2.FORM_MODE_WRITTEN,
            has_pdf=True,
        ),
        contract_pb2.Form(
            id="downgrade",
            title="Package change",
            mode=contract_pb2.FORM_MODE_ONLINE,
            endpoint="POST /api/v1/packages/{id}/downgrade",
        ),
    ]
)
PDF = contract_pb2.Document(filename="RE1.pdf", content_type="application/pdf", content=b"%PDF-1.4 test")


@pytest.fixture
def tokens(gateway_tokens):
    return {
        "customer": gateway_tokens.customer("100"),
        "package": gateway_tokens.package("pkg_1"),
        "staff": gateway_tokens.staff(),
    }


@pytest.fixture
def backends(gateway_backends):
    """Every backend method the self-service endpoints call answers something plausible."""
    contract, package, identity = (
        gateway_backends.contract,
        gateway_backends.package,
        gateway_backends.identity,
    )
    contract.on("GetCustomer", CUSTOMER)
    contract.on("UpdateCustomer", CUSTOMER)
    contract.on("SetPayment", CUSTOMER)
    contract.on("ListInvoices", contract_pb2.ListInvoicesResponse())
    contract.on("GetInvoicePdf", PDF)
    contract.on(
        "RepeatDebit",
        contract_pb2.RepeatDebitResponse(
            invoice_number="RE1",
            requested_at=parse_timestamp("2026-02-01T00:00:00+00:00"),
            status=contract_pb2.DEBIT_REQUEST_STATUS_REQUESTED,
        ),
    )
    contract.on("ListContracts", contract_pb2.ListContractsResponse())
    contract.on("ListForms", FORMS)
    contract.on("GetFormPdf", PDF)
    contract.on("CreateTermination", TERMINATION)
    contract.on("ListTerminations", contract_pb2.ListTerminationsResponse(terminations=[TERMINATION]))
    contract.on("RetractTermination", TERMINATION)
    contract.on("CreateContract", contract_pb2.Contract(id="ctr_2"))
    contract.on(
        "ChangeContractProduct",
        lambda req, token: contract_pb2.ChangeContractProductResponse(
            contract=contract_pb2.Contract(
                id="ctr_1", package_id=req.package_id, customer_number="100", product=req.product
            ),
            from_product="hosting-plus",
            changed=True,
        ),
    )
    package.on("GetPackage", PACKAGE)
    package.on("ListProducts", PRODUCTS)
    package.on(
        "ChangeProduct",
        lambda req, token: package_pb2.ChangeProductResponse(
            package=package_pb2.Package(
                id=req.package_id, product=req.product, status=package_pb2.PACKAGE_STATUS_ACTIVE
            ),
            direction=(
                package_pb2.CHANGE_DIRECTION_DOWNGRADE
                if req.product == "hosting-basic"
                else package_pb2.CHANGE_DIRECTION_UPGRADE
            ),
            from_product="hosting-plus",
        ),
    )
    package.on(
        "GetSettings", package_pb2.PackageSettings(package_id="pkg_1", settings={"php_version": "8.3"})
    )
    package.on(
        "UpdateSettings",
        lambda req, token: package_pb2.PackageSettings(
            package_id=req.package_id, settings=dict(req.settings)
        ),
    )
    package.on(
        "MoveDomain",
        package_pb2.MoveDomainResponse(
            source=package_pb2.Package(
                id="pkg_1",
                customer_number="100",
                product="hosting-plus",
                domains=["a.de"],
                status=package_pb2.PACKAGE_STATUS_ACTIVE,
            ),
            target=package_pb2.Package(
                id="pkg_2",
                customer_number="100",
                product="hosting-basic",
                domains=["b.de"],
                status=package_pb2.PACKAGE_STATUS_ACTIVE,
            ),
            created=True,
        ),
    )
    package.on("SetUsage", PACKAGE)
    identity.on("ChangeCustomerPassword", identity_pb2.RevocationResult(sequence=2))
    identity.on("SetPackagePassword", None)
    identity.on("RevokeSubject", identity_pb2.RevocationResult(sequence=4))
    identity.on("RequestPasswordReset", None)
    identity.on("ConfirmPasswordReset", identity_pb2.RevocationResult(sequence=3))
    return gateway_backends


@pytest.fixture
def call(gateway_client, gateway_auth, tokens):
    """call(method, path, kind=None, json=...) -> the response."""

    def do(method, path, kind="customer", **kwargs):
        headers = gateway_auth(tokens[kind]) if kind else {}
        return gateway_client.open(path, method=method, headers=headers, **kwargs)

    return do


def error(response):
    return response.get_json()["error"]


# --- which token kinds each endpoint admits ---------------------------------------------------

ENDPOINTS = [
    ("PATCH", "/api/v1/customer", {"city": "Bonn"}, {"customer"}),
    (
        "PUT",
        "/api/v1/customer/payment",
        {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
        {"customer"},
    ),
    (
        "PUT",
        "/api/v1/customer/password",
        {"current_password": "old-pass", "new_password": "new-password"},
        {"customer"},
    ),
    ("GET", "/api/v1/invoices/RE1/pdf", None, {"customer"}),
    ("POST", "/api/v1/invoices/RE1/repeat-debit", None, {"customer"}),
    ("GET", "/api/v1/contracts", None, {"customer"}),
    ("GET", "/api/v1/forms", None, {"customer"}),
    ("GET", "/api/v1/forms/contract_transfer/pdf", None, {"customer"}),
    ("GET", "/api/v1/products", None, {"customer", "package", "staff"}),
    ("PUT", "/api/v1/packages/pkg_1/password", {"new_password": "new-password"}, {"customer", "package"}),
    ("POST", "/api/v1/packages/pkg_1/downgrade", {"product": "hosting-basic"}, {"customer"}),
    ("POST", "/api/v1/packages/pkg_1/upgrade", {"product": "hosting-pro"}, {"customer"}),
    ("GET", "/api/v1/packages/pkg_1/settings", None, {"customer", "package"}),
    (
        "PATCH",
        "/api/v1/packages/pkg_1/settings",
        {"settings": {"php_version": "8.2"}},
        {"customer", "package"},
    ),
    ("POST", "/api/v1/packages/pkg_1/split", {"domain": "b.de"}, {"customer"}),
    ("POST", "/api/v1/terminations", {"package_id": "pkg_1"}, {"customer"}),
    ("GET", "/api/v1/terminations", None, {"customer"}),
    ("GET", "/api/v1/terminations/trm_1", None, {"customer"}),
    ("DELETE", "/api/v1/terminations/trm_1", None, {"customer"}),
    ("POST", "/api/v1/admin/packages/pkg_1/usage", {"storage_used_gb": 1}, {"staff"}),
]
MATRIX = [
    pytest.param(method, path, body, kind, kind in kinds, id=f"{kind}-{method}-{path}")
    for method, path, body, kinds in ENDPOINTS
    for kind in ("customer", "package", "staff")
]


@pytest.mark.parametrize("method,path,body,kind,allowed", MATRIX)
def test_each_self_service_endpoint_admits_exactly_its_token_kinds(
    method, path, body, kind, allowed, call, backends
):
    response = call(method, path, kind=kind, json=body)
    if allowed:
        assert response.status_code in (200, 201, 202, 204), response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert error(response)["code"] == "forbidden"
        assert all(not service.calls for service in backends.by_name().values())


@pytest.mark.parametrize("method,path,body,kinds", ENDPOINTS)
def test_each_self_service_endpoint_answers_401_without_a_token(method, path, body, kinds, call):
    response = call(method, path, kind=None, json=body)
    assert response.status_code == 401
    assert error(response)["code"] == "unauthenticated"


def test_a_package_token_naming_another_package_answers_404_without_asking_a_service(call, backends):
    for method, path, body in [
        ("GET", "/api/v1/packages/pkg_9/settings", None),
        ("PUT", "/api/v1/packages/pkg_9/password", {"new_password": "new-password"}),
        ("PATCH", "/api/v1/packages/pkg_9/settings", {"settings": {"php_version": "8.3"}}),
    ]:
        response = call(method, path, kind="package", json=body)
        assert response.status_code == 404, path
    assert all(not service.calls for service in backends.by_name().values())


# --- master data ----------------------------------------------------------------------------


def test_patch_customer_sends_only_the_given_fields_and_answers_the_new_record(call, backends):
    response = call("PATCH", "/api/v1/customer", json={"city": "Bonn", "zip": "53111"})
    assert response.status_code == 200
    assert response.get_json()["customer_number"] == "100"
    assert response.get_json()["payment"]["iban_masked"] == "DE89 **** **** **** **30 00"
    sent = backends.contract.calls[0]
    assert sent.method == "UpdateCustomer" and sent.request.customer_number == ""
    assert (sent.request.city, sent.request.zip) == ("Bonn", "53111")
    assert not sent.request.HasField("street") and not sent.request.HasField("email")


def test_null_clears_phone_mobile_or_fax(call, backends):
    assert call("PATCH", "/api/v1/customer", json={"fax": None}).status_code == 200
    request = backends.contract.calls[0].request
    assert request.HasField("fax") and request.fax == ""


@pytest.mark.parametrize(
    "body",
    [
        {"last_name": "Musterfrau"},
        {"first_name": "Eva"},
        {"company": "ACME GmbH"},
        {"company": "ACME GmbH", "city": "Bonn"},
        {"street": "Weg 1", "last_name": "X", "zip": "10115"},
    ],
)
def test_a_change_of_name_answers_409_written_form_required_and_saves_nothing(body, call, backends):
    response = call("PATCH", "/api/v1/customer", json=body)
    assert response.status_code == 409
    assert error(response)["code"] == "written_form_required"
    assert backends.contract.calls == []


@pytest.mark.parametrize(
    "body,field",
    [
        ({"city": 5}, "city"),
        ({"street": None}, "street"),
        ({"email": "x" * 300}, "email"),
        ({"nickname": "Eri"}, "nickname"),
        ({"city": "a\x00b"}, "city"),
    ],
)
def test_bad_master_data_answers_422_with_the_field(body, field, call, backends):
    response = call("PATCH", "/api/v1/customer", json=body)
    assert response.status_code == 422
    assert error(response)["code"] == "invalid_input" and error(response)["field"] == field
    assert backends.contract.calls == []


def test_a_patch_without_fields_answers_422_and_one_without_a_body_400_as_every_operation(call, backends):
    assert call("PATCH", "/api/v1/customer", json={}).status_code == 422
    for raw in (b"", b"   "):
        response = call("PATCH", "/api/v1/customer", data=raw)
        assert (response.status_code, error(response)["code"]) == (400, "invalid_json")
    assert backends.contract.calls == []


def test_a_list_body_answers_422_and_broken_json_400(call):
    assert call("PATCH", "/api/v1/customer", json=["city"]).status_code == 422
    assert (
        call("PATCH", "/api/v1/customer", data=b"{city", content_type="application/json").status_code == 400
    )


def test_the_market_rules_of_contract_service_answer_422_with_their_field(call, backends):
    backends.contract.on("UpdateCustomer", InvalidInput("A German postcode has five digits.", field="zip"))
    response = call("PATCH", "/api/v1/customer", json={"zip": "ABC"})
    assert response.status_code == 422 and error(response)["field"] == "zip"


# --- payment --------------------------------------------------------------------------------


def test_a_bank_account_is_set_and_the_customer_record_comes_back_masked(call, backends):
    response = call(
        "PUT", "/api/v1/customer/payment", json={"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}
    )
    assert response.status_code == 200
    assert response.get_json()["payment"]["method"] == "sepa"
    assert "DE89370400440532013000" not in response.get_data(as_text=True)
    sent = backends.contract.calls[0].request
    assert sent.customer_number == "" and sent.payment.iban == "DE89370400440532013000"


def test_a_card_token_is_set(call, backends):
    body = {"card_token": "tok_visa_4242", "card_last4": "4242", "card_expiry": "12/30"}
    assert call("PUT", "/api/v1/customer/payment", json=body).status_code == 200
    assert backends.contract.calls[0].request.payment.card_token == "tok_visa_4242"


@pytest.mark.parametrize(
    "body",
    [
        {"card_token": "4111111111111111", "card_last4": "1111", "card_expiry": "12/30"},
        {"card_token": "4111 1111 1111 1111", "card_last4": "1111", "card_expiry": "12/30"},
        {"card_token": "4111-1111-1111-1111", "card_last4": "1111", "card_expiry": "12/30"},
        {"card_number": "4111111111111111", "card_last4": "1111", "card_expiry": "12/30"},
        {"card_token": "411111111117", "card_last4": "1117", "card_expiry": "12/30"},  # 12 digits
        {"card_token": "tok_4111111111111111", "card_last4": "1111", "card_expiry": "12/30"},
    ],
)
def test_a_card_number_is_refused_and_never_forwarded(body, call, backends):
    response = call("PUT", "/api/v1/customer/payment", json=body)
    assert response.status_code == 422
    got = error(response)
    assert {key: value for key, value in got.items() if key != "message"} == {
        "code": "card_number_refused",
        "field": "card_token",
    }
    assert "give the card_token from the payment provider" in got["message"]
    assert "4111" not in response.get_data(as_text=True)
    assert backends.contract.calls == []


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "payment"),
        ({"iban": "DE89370400440532013000"}, "bic"),
        ({"card_token": "tok_1", "card_last4": "4242"}, "card_expiry"),
        ({"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "card_token": "tok_1"}, "payment"),
        ({"iban": 12345, "bic": "COBADEFFXXX"}, "iban"),
        ({"iban": "", "bic": "COBADEFFXXX"}, "iban"),
    ],
)
def test_incomplete_or_mixed_payment_data_answers_422(body, field, call, backends):
    response = call("PUT", "/api/v1/customer/payment", json=body)
    assert response.status_code == 422 and error(response)["field"] == field
    assert backends.contract.calls == []


def test_contract_services_refusal_of_an_iban_is_passed_on(call, backends):
    backends.contract.on("SetPayment", InvalidInput("The IBAN's check digits are wrong.", field="iban"))
    response = call(
        "PUT", "/api/v1/customer/payment", json={"iban": "DE00370400440532013000", "bic": "COBADEFFXXX"}
    )
    assert response.status_code == 422 and error(response)["field"] == "iban"


def test_payment_data_never_reaches_the_log(call, backends, caplog):
    caplog.set_level(logging.DEBUG)  # DEBUG and INFO records count too

    def crash(request, token):
        raise RuntimeError("boom")

    backends.contract.on("SetPayment", crash)
    response = call(
        "PUT", "/api/v1/customer/payment", json={"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}
    )
    assert response.status_code == 500
    assert "boom" in caplog.text  # the crash was logged, so the log was captured
    assert "DE89370400440532013000" not in caplog.text


# --- customer password ----------------------------------------------------------------------


def test_a_password_change_forwards_the_token_and_the_client_address(call, backends, tokens):
    response = call(
        "PUT",
        "/api/v1/customer/password",
        json={"current_password": "old-pass", "new_password": "new-password"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 204 and response.data == b""
    sent = backends.identity.calls[0]
    assert sent.token == tokens["customer"]
    assert (sent.request.current_password, sent.request.new_password, sent.request.client_address) == (
        "old-pass",
        "new-password",
        "203.0.113.9",
    )


def test_a_wrong_current_password_answers_401_invalid_credentials(call, backends):
    backends.identity.on(
        "ChangeCustomerPassword", Unauthenticated("Wrong password.", code="invalid_credentials")
    )
    response = call(
        "PUT", "/api/v1/customer/password", json={"current_password": "x", "new_password": "new-password"}
    )
    assert response.status_code == 401 and error(response)["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"current_password": "old-pass", "new_password": "short"}, "new_password"),
        ({"new_password": "new-password"}, "current_password"),
        ({"current_password": "old-pass", "new_password": "x" * 129}, "new_password"),
    ],
)
def test_bad_password_changes_answer_422(body, field, call, backends):
    response = call("PUT", "/api/v1/customer/password", json=body)
    assert response.status_code == 422 and error(response)["field"] == field
    assert backends.identity.calls == []


# --- password reset -------------------------------------------------------------------------


def test_a_reset_for_a_known_number_passes_its_email_and_no_base_url_of_its_own(call, backends):
    response = call("POST", "/api/v1/auth/password-reset", kind=None, json={"customer_number": "100"})
    assert response.status_code == 202
    lookup = backends.contract.calls[0]
    assert lookup.request.customer_number == "100" and lookup.token is None  # the service credential
    sent = backends.identity.calls[0]
    assert sent.token is None
    # No PUBLIC_BASE_URL configured: nothing is derived from the request (identity uses its own).
    assert (sent.request.customer_number, sent.request.email, sent.request.base_url) == (
        "100",
        "erika@example.de",
        "",
    )


@pytest.mark.parametrize(
    "answer", [NotFound("No such customer."), Forbidden("no"), InvalidInput("bad", field="customer_number")]
)
def test_a_reset_for_an_unknown_number_answers_the_same_and_sends_to_no_address(answer, call, backends):
    backends.contract.on("GetCustomer", answer)
    response = call("POST", "/api/v1/auth/password-reset", kind=None, json={"customer_number": "999"})
    assert response.status_code == 202
    assert backends.identity.calls[0].request.email == ""


def test_a_reset_while_contract_service_is_down_answers_503(call, backends):
    backends.contract.down = True
    response = call("POST", "/api/v1/auth/password-reset", kind=None, json={"customer_number": "100"})
    assert response.status_code == 503 and error(response)["code"] == "service_unavailable"


def test_public_base_url_wins_over_the_request_host(gateway_app, gateway_client, backends):
    gateway_app.config["PUBLIC_BASE_URL"] = "https://cc.example"
    response = gateway_client.post("/api/v1/auth/password-reset", json={"customer_number": "100"})
    assert response.status_code == 202
    assert backends.identity.calls[0].request.base_url == "https://cc.example"


@pytest.mark.parametrize("configured", ["", "https://cc.example"])
def test_a_forged_host_header_never_reaches_the_reset_request(
    configured, gateway_app, gateway_client, backends
):
    gateway_app.config["PUBLIC_BASE_URL"] = configured
    response = gateway_client.post(
        "/api/v1/auth/password-reset",
        json={"customer_number": "100"},
        headers={"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"},
    )
    assert response.status_code == 202
    sent = backends.identity.calls[0].request.base_url
    assert "attacker" not in sent and sent == configured


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"customer_number": 100},
        {"customer_number": ""},
        {"customer_number": "12a"},
        {"number": "1"},
        ["100"],
    ],
)
def test_a_malformed_reset_request_answers_422_and_asks_no_service(body, call, backends):
    response = call("POST", "/api/v1/auth/password-reset", kind=None, json=body)
    assert response.status_code == 422
    assert all(not service.calls for service in backends.by_name().values())


def test_a_reset_is_confirmed_with_the_service_credential(call, backends):
    response = call(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        kind=None,
        json={"token": "abc", "new_password": "new-password"},
    )
    assert response.status_code == 204
    sent = backends.identity.calls[0]
    assert sent.token is None and (sent.request.token, sent.request.new_password) == ("abc", "new-password")


def test_an_invalid_reset_token_answers_400_invalid_token(call, backends):
    backends.identity.on("ConfirmPasswordReset", Unauthenticated("Invalid token.", code="invalid_token"))
    response = call(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        kind=None,
        json={"token": "abc", "new_password": "new-password"},
    )
    assert response.status_code == 400 and error(response)["code"] == "invalid_token"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"token": "abc", "new_password": "short"}, "new_password"),
        ({"new_password": "new-password"}, "token"),
        ({"token": "", "new_password": "new-password"}, "token"),
        ({"token": "x" * 600, "new_password": "new-password"}, "token"),
    ],
)
def test_bad_reset_confirmations_answer_422(body, field, call, backends):
    response = call("POST", "/api/v1/auth/password-reset/confirm", kind=None, json=body)
    assert response.status_code == 422 and error(response)["field"] == field
    assert backends.identity.calls == []


def test_identitys_password_policy_answers_422_on_new_password(call, backends):
    backends.identity.on("ConfirmPasswordReset", InvalidInput("Too weak.", field="new_password"))
    response = call(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        kind=None,
        json={"token": "abc", "new_password": "new-password"},
    )
    assert response.status_code == 422 and error(response)["field"] == "new_password"


# --- invoices, contracts, forms -------------------------------------------------------------


def test_invoices_show_whether_a_repeat_debit_is_pending(call, backends):
    backends.contract.on(
        "ListInvoices",
        contract_pb2.ListInvoicesResponse(
            invoices=[
                contract_pb2.Invoice(
                    number="RE1",
                    amount_cents=1999,
                    currency="EUR",
                    status=contract_pb2.INVOICE_STATUS_OPEN,
                    repeat_debit_requested=True,
                    repeat_debit_requested_at=parse_timestamp("2026-02-01T00:00:00+00:00"),
                )
            ]
        ),
    )
    invoice = call("GET", "/api/v1/invoices").get_json()["invoices"][0]
    assert invoice["repeat_debit_requested"] is True
    assert invoice["repeat_debit_requested_at"] == "2026-02-01T00:00:00+00:00"


def test_an_invoice_pdf_is_an_attachment_named_after_the_number(call, backends, tokens):
    response = call("GET", "/api/v1/invoices/RE1/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=RE1.pdf"
    assert response.data.startswith(b"%PDF")
    assert backends.contract.calls[0].request.number == "RE1"
    assert backends.contract.calls[0].token == tokens["customer"]


def test_another_customers_invoice_answers_404(call, backends):
    backends.contract.on("GetInvoicePdf", NotFound("There is no invoice with this number."))
    backends.contract.on("RepeatDebit", NotFound("There is no invoice with this number."))
    assert call("GET", "/api/v1/invoices/RE9/pdf").status_code == 404
    assert call("POST", "/api/v1/invoices/RE9/repeat-debit").status_code == 404


def test_an_overlong_invoice_number_answers_404_without_a_call(call, backends):
    assert call("GET", "/api/v1/invoices/" + "1" * 65 + "/pdf").status_code == 404
    assert backends.contract.calls == []


def test_a_repeat_debit_answers_202_with_the_request(call, backends):
    response = call("POST", "/api/v1/invoices/RE1/repeat-debit")
    assert response.status_code == 202
    assert response.get_json() == {
        "invoice_number": "RE1",
        "requested_at": "2026-02-01T00:00:00+00:00",
        "status": "requested",
    }


def test_a_repeat_debit_of_a_paid_invoice_answers_409_invoice_not_open(call, backends):
    backends.contract.on("RepeatDebit", Conflict("Invoice RE1 is paid.", code="invoice_not_open"))
    response = call("POST", "/api/v1/invoices/RE1/repeat-debit")
    assert response.status_code == 409 and error(response)["code"] == "invoice_not_open"


def test_contracts_are_listed(call, backends):
    backends.contract.on(
        "ListContracts",
        contract_pb2.ListContractsResponse(
            contracts=[
                contract_pb2.Contract(
                    id="ctr_1",
                    package_id="pkg_1",
                    customer_number="100",
                    product="hosting-plus",
                    start_date="2026-01-01",
                    term_months=12,
                    status=contract_pb2.CONTRACT_STATUS_ACTIVE,
                    current_term_end="2026-12-31",
                )
            ]
        ),
    )
    contract = call("GET", "/api/v1/contracts").get_json()["contracts"][0]
    assert contract["id"] == "ctr_1" and contract["current_term_end"] == "2026-12-31"


def test_written_forms_have_a_pdf_url_and_online_forms_their_endpoint(call, backends):
    forms = call("GET", "/api/v1/forms").get_json()["forms"]
    assert forms[0]["pdf_url"] == "/api/v1/forms/contract_transfer/pdf" and forms[0]["endpoint"] is None
    assert forms[1]["pdf_url"] is None and forms[1]["endpoint"] == "POST /api/v1/packages/{id}/downgrade"


def test_a_form_pdf_is_downloaded_and_an_online_form_has_none(call, backends):
    response = call("GET", "/api/v1/forms/contract_transfer/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert backends.contract.calls[0].request.form_id == "contract_transfer"
    backends.contract.on("GetFormPdf", NotFound("The form is done online."))
    assert call("GET", "/api/v1/forms/downgrade/pdf").status_code == 404


# --- products and packages ------------------------------------------------------------------


def test_products_are_listed_with_limits_and_prices_as_numbers(call, backends):
    products = call("GET", "/api/v1/products", kind="package").get_json()["products"]
    assert [p["code"] for p in products] == ["hosting-basic", "hosting-plus", "hosting-pro"]
    assert products[0]["prices"] == [{"market": "de", "monthly_price": 4.99, "currency": "EUR"}]
    assert products[0]["max_domains"] == 1 and products[0]["rank"] == 1


def test_a_package_shows_its_product_name_limit_and_usage(call, backends):
    body = call("GET", "/api/v1/packages/pkg_1").get_json()
    assert body["product_name"] == "Hosting Plus" and body["max_domains"] == 5
    assert body["usage"] == {"storage_used_gb": 3, "mailboxes_used": 2, "databases_used": 1}


def test_a_package_password_is_set_after_a_visibility_check_with_the_users_token(call, backends, tokens):
    response = call(
        "PUT", "/api/v1/packages/pkg_1/password", kind="package", json={"new_password": "new-password"}
    )
    assert response.status_code == 204
    assert backends.package.calls[0].token == tokens["package"]
    sent = backends.identity.calls[0]
    assert sent.token is None  # the gateway's service credential
    assert (sent.request.package_id, sent.request.password) == ("pkg_1", "new-password")


def test_a_package_password_for_an_invisible_package_answers_404_and_sets_nothing(call, backends):
    backends.package.on("GetPackage", NotFound("There is no such package."))
    response = call("PUT", "/api/v1/packages/pkg_9/password", json={"new_password": "new-password"})
    assert response.status_code == 404
    assert backends.identity.calls == []


@pytest.mark.parametrize(
    "body,field",
    [({"new_password": "short"}, "new_password"), ({}, "new_password"), ({"password": "x"}, "password")],
)
def test_a_bad_package_password_answers_422(body, field, call, backends):
    response = call("PUT", "/api/v1/packages/pkg_1/password", json=body)
    assert response.status_code == 422 and error(response)["field"] == field
    assert backends.identity.calls == []


def test_identitys_refusal_of_a_package_password_names_new_password(call, backends):
    backends.identity.on(
        "SetPackagePassword", InvalidInput("A password has 8 to 128 characters.", field="password")
    )
    response = call("PUT", "/api/v1/packages/pkg_1/password", json={"new_password": "new-password"})
    assert response.status_code == 422 and error(response)["field"] == "new_password"


def test_a_downgrade_answers_the_package_with_its_direction(call, backends, tokens):
    response = call("POST", "/api/v1/packages/pkg_1/downgrade", json={"product": "hosting-basic"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["product"], body["direction"], body["from_product"]) == (
        "hosting-basic",
        "downgrade",
        "hosting-plus",
    )
    change = [c for c in backends.package.calls if c.method == "ChangeProduct"][0]
    assert change.token == tokens["customer"] and change.request.product == "hosting-basic"
    assert (
        change.request.expected_direction == package_pb2.CHANGE_DIRECTION_DOWNGRADE
    )  # package-service checks the sizes


def test_after_a_downgrade_the_contract_follows_the_new_product_with_the_service_credential(call, backends):
    package_changed_first = []
    backends.contract.on(
        "ChangeContractProduct",
        lambda req, token: (
            package_changed_first.append("ChangeProduct" in backends.package.methods_called())
            or contract_pb2.ChangeContractProductResponse(changed=True)
        ),
    )
    response = call("POST", "/api/v1/packages/pkg_1/downgrade", json={"product": "hosting-basic"})
    assert response.status_code == 200 and response.get_json()["product"] == "hosting-basic"
    follow = [c for c in backends.contract.calls if c.method == "ChangeContractProduct"]
    assert len(follow) == 1 and package_changed_first == [True]
    assert (follow[0].request.package_id, follow[0].request.product, follow[0].request.customer_number) == (
        "pkg_1",
        "hosting-basic",
        "100",
    )
    assert follow[0].token is None  # no user token: the gateway's service credential


def test_a_failed_contract_change_is_logged_and_the_package_change_still_answers_200(call, backends, caplog):
    backends.contract.on("ChangeContractProduct", ServiceUnavailable("down", extra={"service": "contract"}))
    response = call("POST", "/api/v1/packages/pkg_1/upgrade", json={"product": "hosting-pro"})
    assert response.status_code == 200
    assert (response.get_json()["product"], response.get_json()["direction"]) == ("hosting-pro", "upgrade")
    assert "ChangeContractProduct" in backends.contract.methods_called()
    assert "contract of package pkg_1 not changed to hosting-pro" in caplog.text


def test_a_bigger_product_on_downgrade_answers_409_not_a_downgrade_without_a_contract_change(call, backends):
    backends.package.on("ChangeProduct", Conflict("Larger.", code="not_a_downgrade", field="product"))
    response = call("POST", "/api/v1/packages/pkg_1/downgrade", json={"product": "hosting-pro"})
    assert response.status_code == 409 and error(response)["code"] == "not_a_downgrade"
    assert "ChangeContractProduct" not in backends.contract.methods_called()


def test_the_upgrade_endpoint_asks_package_service_for_an_upgrade(call, backends):
    backends.package.on("ChangeProduct", Conflict("Smaller.", code="not_an_upgrade", field="product"))
    response = call("POST", "/api/v1/packages/pkg_1/upgrade", json={"product": "hosting-basic"})
    assert response.status_code == 409 and error(response)["code"] == "not_an_upgrade"
    change = [c for c in backends.package.calls if c.method == "ChangeProduct"][0]
    assert change.request.expected_direction == package_pb2.CHANGE_DIRECTION_UPGRADE


def test_the_package_login_may_not_upgrade_its_package_a_contractual_change(call, backends):
    response = call("POST", "/api/v1/packages/pkg_1/upgrade", kind="package", json={"product": "hosting-pro"})
    assert response.status_code == 403 and error(response)["code"] == "forbidden"
    assert [c.method for c in backends.package.calls] == []


def test_a_package_that_does_not_fit_answers_409_with_the_reason(call, backends):
    reason = "The package has 3 domains; Hosting Basic allows 1 domain."
    backends.package.on("ChangeProduct", Conflict(reason, code="package_does_not_fit"))
    response = call("POST", "/api/v1/packages/pkg_1/downgrade", json={"product": "hosting-basic"})
    assert response.status_code == 409
    assert error(response)["code"] == "package_does_not_fit" and error(response)["message"] == reason
    assert "ChangeContractProduct" not in backends.contract.methods_called()


def test_the_same_product_is_left_to_package_service(call, backends):
    backends.package.on("ChangeProduct", Conflict("Already.", code="same_product"))
    response = call("POST", "/api/v1/packages/pkg_1/downgrade", json={"product": "hosting-plus"})
    assert response.status_code == 409 and error(response)["code"] == "same_product"


@pytest.mark.parametrize("body", [{"product": ""}, {}, {"product": 3}])
def test_a_missing_or_malformed_product_answers_422_on_product(body, call, backends):
    response = call("POST", "/api/v1/packages/pkg_1/downgrade", json=body)
    assert response.status_code == 422 and error(response)["field"] == "product"
    assert "ChangeProduct" not in backends.package.methods_called()


def test_settings_are_read(call, backends):
    response = call("GET", "/api/v1/packages/pkg_1/settings", kind="package")
    assert response.get_json() == {"package_id": "pkg_1", "settings": {"php_version": "8.3"}}


def test_settings_values_are_sent_as_strings(call, backends):
    response = call(
        "PATCH",
        "/api/v1/packages/pkg_1/settings",
        json={"settings": {"php_memory_limit_mb": 512, "https_redirect": False, "php_version": "8.2"}},
    )
    assert response.status_code == 200
    assert dict(backends.package.calls[0].request.settings) == {
        "php_memory_limit_mb": "512",
        "https_redirect": "false",
        "php_version": "8.2",
    }


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "settings"),
        ({"settings": {}}, "settings"),
        ({"settings": "php"}, "settings"),
        ({"settings": {"php_version": ["8.2"]}}, "settings.php_version"),
        ({"php_version": "8.2"}, "php_version"),
    ],
)
def test_bad_settings_answer_422(body, field, call, backends):
    response = call("PATCH", "/api/v1/packages/pkg_1/settings", json=body)
    assert response.status_code == 422 and error(response)["field"] == field
    assert backends.package.calls == []


def test_package_services_refusal_of_a_setting_keeps_its_field(call, backends):
    backends.package.on(
        "UpdateSettings", InvalidInput("php_version is one of 8.1, 8.2, 8.3.", field="settings.php_version")
    )
    response = call("PATCH", "/api/v1/packages/pkg_1/settings", json={"settings": {"php_version": "5.6"}})
    assert response.status_code == 422 and error(response)["field"] == "settings.php_version"


def test_a_split_into_a_new_package_gives_it_a_contract(call, backends, tokens):
    response = call("POST", "/api/v1/packages/pkg_1/split", json={"domain": "B.de"})
    assert response.status_code == 200
    body = response.get_json()
    assert (
        body["created"] is True and body["source"]["domains"] == ["a.de"] and body["target"]["id"] == "pkg_2"
    )
    move = backends.package.calls[0]
    assert (
        move.token == tokens["customer"]
        and move.request.domain == "b.de"
        and move.request.target_package_id == ""
    )
    lookup, contract = backends.contract.calls
    assert lookup.method == "GetCustomer" and lookup.token == tokens["customer"]
    assert contract.method == "CreateContract" and contract.token is None
    assert (contract.request.package_id, contract.request.customer_number, contract.request.product) == (
        "pkg_2",
        "100",
        "hosting-basic",
    )


def test_a_split_into_an_existing_package_creates_no_contract(call, backends):
    backends.package.on(
        "MoveDomain",
        package_pb2.MoveDomainResponse(
            source=package_pb2.Package(id="pkg_1", status=package_pb2.PACKAGE_STATUS_ACTIVE),
            target=package_pb2.Package(id="pkg_3", status=package_pb2.PACKAGE_STATUS_ACTIVE),
            created=False,
        ),
    )
    response = call(
        "POST", "/api/v1/packages/pkg_1/split", json={"domain": "b.de", "target_package_id": "pkg_3"}
    )
    assert response.status_code == 200
    assert backends.package.calls[0].request.target_package_id == "pkg_3"
    assert backends.contract.methods_called() == ["GetCustomer"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "domain"),
        ({"domain": "not a domain"}, "domain"),
        ({"domain": "b.de", "target_package_id": "pkg_3", "product": "hosting-pro"}, "product"),
        ({"domain": "b.de", "target_package_id": "x" * 101}, "target_package_id"),
    ],
)
def test_bad_splits_answer_422(body, field, call, backends):
    response = call("POST", "/api/v1/packages/pkg_1/split", json=body)
    assert response.status_code == 422 and error(response)["field"] == field
    assert backends.package.calls == []


@pytest.mark.parametrize("status", ["frozen", "retired"])
def test_no_domain_is_split_off_while_the_customer_is_not_active(status, call, backends):
    frozen = contract_pb2.Customer()
    frozen.CopyFrom(CUSTOMER)
    frozen.status = enum_value(common_pb2.CustomerStatus, status)
    backends.contract.on("GetCustomer", frozen)
    response = call("POST", "/api/v1/packages/pkg_1/split", json={"domain": "b.de"})
    assert response.status_code == 409 and error(response)["code"] == "customer_not_active"
    assert backends.package.calls == []
    assert backends.contract.methods_called() == ["GetCustomer"]


def test_the_last_domain_cannot_be_split_off(call, backends):
    backends.package.on("MoveDomain", Conflict("The only domain.", code="last_domain"))
    response = call("POST", "/api/v1/packages/pkg_1/split", json={"domain": "a.de"})
    assert response.status_code == 409 and error(response)["code"] == "last_domain"


# --- terminations ---------------------------------------------------------------------------


def test_a_termination_answers_201_with_location(call, backends):
    response = call("POST", "/api/v1/terminations", json={"package_id": "pkg_1"})
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/api/v1/terminations/trm_1")
    body = response.get_json()
    assert (body["id"], body["package_id"], body["domain"], body["effective_date"], body["status"]) == (
        "trm_1",
        "pkg_1",
        None,
        "2027-01-31",
        "open",
    )
    assert backends.package.calls == []  # no domain: nothing to check with package-service


def test_a_domain_termination_checks_that_the_domain_belongs_to_the_package(call, backends, tokens):
    response = call("POST", "/api/v1/terminations", json={"package_id": "pkg_1", "domain": "B.DE"})
    assert response.status_code == 201
    assert backends.package.calls[0].token == tokens["customer"]
    assert backends.contract.calls[0].request.domain == "b.de"
    foreign = call("POST", "/api/v1/terminations", json={"package_id": "pkg_1", "domain": "c.de"})
    assert foreign.status_code == 422 and error(foreign)["field"] == "domain"
    assert len(backends.contract.calls) == 1


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "package_id"),
        ({"package_id": ""}, "package_id"),
        ({"package_id": "pkg_1", "domain": "x"}, "domain"),
    ],
)
def test_bad_terminations_answer_422(body, field, call, backends):
    response = call("POST", "/api/v1/terminations", json=body)
    assert response.status_code == 422 and error(response)["field"] == field
    assert backends.contract.calls == []


def test_terminations_are_listed_and_one_is_shown(call, backends):
    assert [t["id"] for t in call("GET", "/api/v1/terminations").get_json()["terminations"]] == ["trm_1"]
    assert call("GET", "/api/v1/terminations/trm_1").get_json()["product"] == "hosting-plus"
    assert call("GET", "/api/v1/terminations/trm_9").status_code == 404


def test_a_retraction_answers_204_and_409_after_the_effective_date(call, backends):
    response = call("DELETE", "/api/v1/terminations/trm_1")
    assert response.status_code == 204
    assert backends.contract.calls[0].request.id == "trm_1"
    backends.contract.on("RetractTermination", Conflict("Effective.", code="termination_effective"))
    response = call("DELETE", "/api/v1/terminations/trm_1")
    assert response.status_code == 409 and error(response)["code"] == "termination_effective"


def test_a_termination_of_another_customers_package_answers_404(call, backends):
    backends.contract.on("CreateTermination", NotFound("This package has no contract under your number."))
    assert call("POST", "/api/v1/terminations", json={"package_id": "pkg_9"}).status_code == 404


# --- admin ----------------------------------------------------------------------------------


def test_staff_creating_a_package_also_creates_its_contract(call, backends, tokens):
    backends.package.on("CreatePackage", PACKAGE)
    response = call(
        "POST",
        "/api/v1/admin/customers/100/packages",
        kind="staff",
        json={"product": "hosting-plus", "domains": ["a.de"]},
    )
    assert response.status_code == 201
    contract = [c for c in backends.contract.calls if c.method == "CreateContract"][0]
    assert contract.token == tokens["staff"]
    assert (contract.request.package_id, contract.request.customer_number, contract.request.product) == (
        "pkg_1",
        "100",
        "hosting-plus",
    )


@pytest.mark.parametrize("status", ["frozen", "retired"])
def test_staff_creates_no_package_for_a_customer_that_is_not_active(status, call, backends):
    record = contract_pb2.Customer()
    record.CopyFrom(CUSTOMER)
    record.status = enum_value(common_pb2.CustomerStatus, status)
    backends.contract.on("GetCustomer", record)
    response = call(
        "POST",
        "/api/v1/admin/customers/100/packages",
        kind="staff",
        json={"product": "hosting-plus", "domains": ["a.de"]},
    )
    assert response.status_code == 409 and error(response)["code"] == "customer_not_active"
    assert backends.package.calls == [] and backends.identity.calls == []
    assert backends.contract.methods_called() == ["GetCustomer"]


def test_staff_sets_usage_and_a_figure_left_out_keeps_its_value(call, backends, tokens):
    response = call("POST", "/api/v1/admin/packages/pkg_1/usage", kind="staff", json={"storage_used_gb": 20})
    assert response.status_code == 200 and response.get_json()["id"] == "pkg_1"
    usage = [c for c in backends.package.calls if c.method == "SetUsage"][0]
    assert usage.token == tokens["staff"]
    assert (usage.request.storage_used_gb, usage.request.mailboxes_used, usage.request.databases_used) == (
        20,
        2,
        1,
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"storage_used_gb": -1}, "storage_used_gb"),
        ({"mailboxes_used": 1.5}, "mailboxes_used"),
        ({"databases_used": True}, "databases_used"),
        ({"databases_used": "3"}, "databases_used"),
        ({"cpu": 3}, "cpu"),
    ],
)
def test_bad_usage_answers_422(body, field, call, backends):
    response = call("POST", "/api/v1/admin/packages/pkg_1/usage", kind="staff", json=body)
    assert response.status_code == 422 and error(response)["field"] == field
    assert backends.package.calls == []


def test_empty_usage_answers_422(call, backends):
    assert call("POST", "/api/v1/admin/packages/pkg_1/usage", kind="staff", json={}).status_code == 422


# --- availability ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "service,method,path,body",
    [
        ("contract", "PATCH", "/api/v1/customer", {"city": "Bonn"}),
        ("contract", "GET", "/api/v1/forms", None),
        ("package", "GET", "/api/v1/products", None),
        (
            "identity",
            "PUT",
            "/api/v1/customer/password",
            {"current_password": "x", "new_password": "new-password"},
        ),
    ],
)
def test_a_service_that_is_down_answers_503(service, method, path, body, call, backends):
    getattr(backends, service).down = True
    response = call(method, path, json=body)
    assert response.status_code == 503 and error(response)["code"] == "service_unavailable"


def test_unavailable_is_not_swallowed_by_the_reset_lookup(call, backends):
    backends.contract.on("GetCustomer", ServiceUnavailable("down", extra={"service": "contract"}))
    response = call("POST", "/api/v1/auth/password-reset", kind=None, json={"customer_number": "100"})
    assert response.status_code == 503
    assert backends.identity.calls == []


def test_a_package_password_set_by_the_customer_keeps_no_package_session_and_revokes_inside_identity(
    call, backends
):
    identity = backends.identity
    assert (
        call("PUT", "/api/v1/packages/pkg_1/password", json={"new_password": "New-package-pw-1"}).status_code
        == 204
    )
    assert [c.method for c in identity.calls] == ["SetPackagePassword"]  # no RevokeSubject of its own
    assert identity.calls[0].request.keep_jti == ""


def test_a_package_password_set_by_the_package_login_itself_keeps_that_token(call, backends, tokens):
    identity = backends.identity
    response = call(
        "PUT", "/api/v1/packages/pkg_1/password", kind="package", json={"new_password": "New-pw-12"}
    )
    assert response.status_code == 204
    own_jti = jwt.decode(tokens["package"], options={"verify_signature": False})["jti"]
    assert [c.method for c in identity.calls] == ["SetPackagePassword"]
    assert identity.calls[0].request.keep_jti == own_jti != ""


def test_a_null_language_goes_back_to_the_markets_and_another_value_is_422(call, backends):
    assert call("PATCH", "/api/v1/customer", json={"language": None}).status_code == 200
    sent = backends.contract.calls[-1].request
    assert sent.HasField("language") and sent.language == ""
    refused = call("PATCH", "/api/v1/customer", json={"language": "fr"})
    assert (refused.status_code, error(refused)["field"]) == (422, "language")
