"""The customer, package and admin endpoints against fake backends."""

from __future__ import annotations

import pytest
from cc_common.errors import AlreadyExists, InvalidInput, NotFound
from cc_common.protoconv import enum_value, parse_timestamp
from customercenter.v2 import common_pb2, contract_pb2, package_pb2

PACKAGE = package_pb2.Package(
    id="pkg_1",
    customer_number="100",
    product="hosting-basic",
    domains=["a.de", "b.de"],
    status=package_pb2.PACKAGE_STATUS_ACTIVE,
    created_at=parse_timestamp("2026-01-01T00:00:00Z"),
)


def test_get_customer_returns_the_documented_fields_with_null_for_unset_values(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on(
        "GetCustomer",
        contract_pb2.Customer(
            customer_number="100",
            market=common_pb2.MARKET_DE,
            first_name="Erika",
            last_name="Mustermann",
            email="erika@example.de",
            payment=contract_pb2.Payment(
                method=contract_pb2.PAYMENT_METHOD_SEPA, iban_masked="DE89 **** 3000", bic="COBADEFFXXX"
            ),
        ),
    )
    response = gateway_client.get("/api/v1/customer", headers=gateway_auth(gateway_tokens.customer("100")))
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "customer_number": "100",
        "market": "de",
        "company": None,
        "first_name": "Erika",
        "last_name": "Mustermann",
        "street": None,
        "zip": None,
        "city": None,
        "country": None,
        "phone": None,
        "mobile": None,
        "fax": None,
        "email": "erika@example.de",
        "payment": {
            "method": "sepa",
            "iban_masked": "DE89 **** 3000",
            "bic": "COBADEFFXXX",
            "card_last4": None,
            "card_expiry": None,
        },
        "language": "de",  # none stored: the market's
    }
    assert gateway_backends.contract.calls[0].request.customer_number == ""  # taken from the token


def test_a_customer_without_payment_data_has_a_payment_object_of_nulls(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on(
        "GetCustomer", contract_pb2.Customer(customer_number="100", market=common_pb2.MARKET_UK)
    )
    body = gateway_client.get(
        "/api/v1/customer", headers=gateway_auth(gateway_tokens.customer("100"))
    ).get_json()
    assert body["payment"] == {
        "method": None,
        "iban_masked": None,
        "bic": None,
        "card_last4": None,
        "card_expiry": None,
    }


def test_packages_are_listed_with_id_product_domains_and_status(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.package.on("ListPackages", package_pb2.ListPackagesResponse(packages=[PACKAGE]))
    response = gateway_client.get("/api/v1/packages", headers=gateway_auth(gateway_tokens.customer("100")))
    assert response.status_code == 200
    (item,) = response.get_json()["packages"]
    assert item["id"] == "pkg_1"
    assert item["product"] == "hosting-basic"
    assert item["domains"] == ["a.de", "b.de"]
    assert item["status"] == "active"


def test_one_package_is_returned_to_its_package_token(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.package.on("GetPackage", PACKAGE)
    response = gateway_client.get(
        "/api/v1/packages/pkg_1", headers=gateway_auth(gateway_tokens.package("pkg_1"))
    )
    assert response.status_code == 200
    assert response.get_json()["id"] == "pkg_1"
    assert gateway_backends.package.calls[0].request.package_id == "pkg_1"


def test_a_package_token_asking_for_another_package_gets_404_without_a_backend_call(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    response = gateway_client.get(
        "/api/v1/packages/pkg_2", headers=gateway_auth(gateway_tokens.package("pkg_1"))
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert gateway_backends.package.calls == []


def test_a_foreign_or_unknown_package_answers_404(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.package.on("GetPackage", NotFound("There is no such package."))
    response = gateway_client.get(
        "/api/v1/packages/pkg_9", headers=gateway_auth(gateway_tokens.customer("100"))
    )
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "There is no such package."}}


# --- admin ----------------------------------------------------------------------------------


def test_staff_creates_a_customer_then_sets_its_password_with_the_staff_token(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    staff = gateway_tokens.staff()
    gateway_backends.contract.on(
        "CreateCustomer", lambda req, token: contract_pb2.Customer(customer_number="4711", market=req.market)
    )
    gateway_backends.identity.on("SetCustomerPassword", None)
    response = gateway_client.post(
        "/api/v1/admin/customers",
        json={
            "market": "nl",
            "password": "a-good-password",
            "first_name": "Jan",
            "last_name": "Jansen",
            "street": "Damrak 1",
            "zip": "1012 LG",
            "city": "Amsterdam",
            "country": "NL",
            "email": "klant@example.com",
            "iban": "NL91ABNA0417164300",
            "bic": "ABNANL2A",
        },
        headers=gateway_auth(staff),
    )
    assert response.status_code == 201
    assert response.get_json() == {"customer_number": "4711"}
    create = gateway_backends.contract.calls[0]
    assert create.token == staff
    assert (create.request.market, create.request.first_name, create.request.last_name) == (
        common_pb2.MARKET_NL,
        "Jan",
        "Jansen",
    )
    assert create.request.HasField("payment")
    assert create.request.payment.iban == "NL91ABNA0417164300"
    password_call = gateway_backends.identity.calls[0]
    assert password_call.method == "SetCustomerPassword"
    assert password_call.token == staff
    assert (password_call.request.customer_number, password_call.request.password) == (
        "4711",
        "a-good-password",
    )


def test_a_customer_without_payment_fields_is_created_without_payment(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on(
        "CreateCustomer", contract_pb2.Customer(customer_number="1", market=common_pb2.MARKET_DE)
    )
    gateway_backends.identity.on("SetCustomerPassword", None)
    gateway_client.post(
        "/api/v1/admin/customers",
        json={
            "market": "de",
            "password": "a-good-password",
            "customer_number": "1",
            "last_name": "Muster",
            "street": "Hauptstraße 1",
            "zip": "10115",
            "city": "Berlin",
            "country": "DE",
            "email": "kunde@example.com",
        },
        headers=gateway_auth(gateway_tokens.staff()),
    )
    request = gateway_backends.contract.calls[0].request
    assert not request.HasField("payment")
    assert request.customer_number == "1"


@pytest.mark.parametrize("password", ["short", "x" * 129, 12345678])
def test_a_bad_password_is_refused_before_anything_is_created(
    password, gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    response = gateway_client.post(
        "/api/v1/admin/customers",
        json={"market": "de", "password": password},
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "password"
    assert gateway_backends.contract.calls == [] and gateway_backends.identity.calls == []


def test_a_taken_customer_number_answers_409(gateway_client, gateway_backends, gateway_tokens, gateway_auth):
    gateway_backends.contract.on(
        "CreateCustomer", AlreadyExists("That number is taken.", code="customer_number_taken")
    )
    response = gateway_client.post(
        "/api/v1/admin/customers",
        json={
            "market": "de",
            "password": "a-good-password",
            "customer_number": "1",
            "last_name": "Muster",
            "street": "Hauptstraße 1",
            "zip": "10115",
            "city": "Berlin",
            "country": "DE",
            "email": "kunde@example.com",
        },
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "customer_number_taken"


def test_a_field_error_of_the_contract_service_keeps_its_field(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on("CreateCustomer", InvalidInput("The IBAN is not valid.", field="iban"))
    response = gateway_client.post(
        "/api/v1/admin/customers",
        json={
            "market": "de",
            "password": "a-good-password",
            "last_name": "Muster",
            "street": "Hauptstraße 1",
            "zip": "10115",
            "city": "Berlin",
            "country": "DE",
            "email": "kunde@example.com",
            "iban": "DE00370400440532013000",
            "bic": "COBADEFFXXX",
        },
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 422
    assert response.get_json() == {
        "error": {"code": "invalid_input", "message": "The IBAN is not valid.", "field": "iban"}
    }


def test_staff_creates_a_package_with_normalised_domains_and_its_password(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    staff = gateway_tokens.staff()
    gateway_backends.contract.on(
        "GetCustomer",
        contract_pb2.Customer(
            customer_number="100", market=common_pb2.MARKET_DE, status=common_pb2.CUSTOMER_STATUS_ACTIVE
        ),
    )
    gateway_backends.package.on(
        "CreatePackage",
        lambda req, token: package_pb2.Package(
            id="pkg_new",
            customer_number=req.customer_number,
            product=req.product,
            domains=req.domains,
            status=package_pb2.PACKAGE_STATUS_ACTIVE,
        ),
    )
    gateway_backends.contract.on("CreateContract", contract_pb2.Contract(id="ctr_1"))
    gateway_backends.identity.on("SetPackagePassword", None)
    response = gateway_client.post(
        "/api/v1/admin/customers/100/packages",
        json={
            "product": "hosting-basic",
            "domains": ["Bücher.DE", "shop.example."],
            "package_password": "pkg-password",
        },
        headers=gateway_auth(staff),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"] == "pkg_new"
    assert body["domains"] == ["xn--bcher-kva.de", "shop.example"]
    assert gateway_backends.contract.calls[0].request.customer_number == "100"
    assert gateway_backends.package.calls[0].token == staff
    password_call = gateway_backends.identity.calls[0]
    assert (password_call.request.package_id, password_call.request.password, password_call.token) == (
        "pkg_new",
        "pkg-password",
        staff,
    )


def test_a_package_without_password_sets_none(gateway_client, gateway_backends, gateway_tokens, gateway_auth):
    gateway_backends.contract.on(
        "GetCustomer", contract_pb2.Customer(customer_number="100", status=common_pb2.CUSTOMER_STATUS_ACTIVE)
    )
    gateway_backends.package.on("CreatePackage", PACKAGE)
    gateway_backends.contract.on("CreateContract", contract_pb2.Contract(id="ctr_1"))
    response = gateway_client.post(
        "/api/v1/admin/customers/100/packages",
        json={"product": "hosting-basic", "domains": ["a.de"]},
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 201
    assert gateway_backends.identity.calls == []


def test_a_package_for_an_unknown_customer_answers_404_and_creates_nothing(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on("GetCustomer", NotFound("There is no such customer."))
    response = gateway_client.post(
        "/api/v1/admin/customers/999/packages",
        json={"product": "hosting-basic", "domains": ["a.de"]},
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 404
    assert gateway_backends.package.calls == []


@pytest.mark.parametrize(
    "amount,cents",
    [(12.5, 1250), ("12.50", 1250), (3, 300), ("0.01", 1), ("999.9", 99990), (1e2, 10000)],
)
def test_invoice_amounts_become_cents(
    amount, cents, gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on(
        "CreateInvoice",
        lambda req, token: contract_pb2.Invoice(
            number="R-1",
            customer_number=req.customer_number,
            amount_cents=req.amount_cents,
            currency=req.currency,
            status=req.status,
            date="2026-02-01",
        ),
    )
    response = gateway_client.post(
        "/api/v1/admin/customers/100/invoices",
        json={"amount": amount, "currency": "eur", "status": "paid"},
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 201
    assert response.get_json()["number"] == "R-1"
    request = gateway_backends.contract.calls[0].request
    assert (request.customer_number, request.amount_cents, request.currency, request.status) == (
        "100",
        cents,
        "EUR",
        contract_pb2.INVOICE_STATUS_PAID,
    )


@pytest.mark.parametrize(
    "amount",
    [0, -1, "0.00", "12.345", 12.345, "abc", True, None, [], "1e3", "NaN", 1e20, "12,50", "10000000.00"],
)
def test_bad_invoice_amounts_answer_422_on_field_amount(
    amount, gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    response = gateway_client.post(
        "/api/v1/admin/customers/100/invoices",
        json={"amount": amount, "currency": "EUR", "status": "open"},
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "amount"
    assert gateway_backends.contract.calls == []


@pytest.mark.parametrize(
    "cents,amount", [(1250, 12.5), (1, 0.01), (999, 9.99), (100000, 1000), (12345, 123.45)]
)
def test_an_invoice_amount_is_shown_as_a_json_number(
    cents, amount, gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on(
        "ListInvoices",
        contract_pb2.ListInvoicesResponse(
            invoices=[
                contract_pb2.Invoice(
                    number="R-1",
                    date="2026-01-31",
                    amount_cents=cents,
                    currency="EUR",
                    status=contract_pb2.INVOICE_STATUS_OPEN,
                )
            ]
        ),
    )
    response = gateway_client.get("/api/v1/invoices", headers=gateway_auth(gateway_tokens.customer("100")))
    assert response.get_json() == {
        "invoices": [
            {
                "number": "R-1",
                "date": "2026-01-31",
                "amount": amount,
                "currency": "EUR",
                "status": "open",
                "return_reason": None,
                "repeat_debit_requested": False,
                "repeat_debit_requested_at": None,
            }
        ]
    }
    assert f'"amount":{amount}'.encode() in response.data.replace(b" ", b"")  # a number, not a string


def test_a_created_invoice_answers_its_amount_as_a_number(
    gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on(
        "CreateInvoice",
        lambda req, token: contract_pb2.Invoice(
            number="R-2",
            amount_cents=req.amount_cents,
            currency="EUR",
            status=contract_pb2.INVOICE_STATUS_OPEN,
        ),
    )
    response = gateway_client.post(
        "/api/v1/admin/customers/100/invoices",
        json={"amount": 12.5, "currency": "EUR"},
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 201
    assert response.get_json()["amount"] == 12.5


ADDRESSES = {
    "de": {
        "street": "Hauptstraße 1",
        "zip": "10115",
        "city": "Berlin",
        "country": "DE",
        "email": "kunde@example.com",
    },
    "nl": {
        "street": "Damrak 1",
        "zip": "1012 LG",
        "city": "Amsterdam",
        "country": "NL",
        "email": "klant@example.com",
    },
    "uk": {
        "street": "1 High Street",
        "zip": "SW1A 1AA",
        "city": "London",
        "country": "GB",
        "email": "customer@example.com",
    },
}


@pytest.mark.parametrize("given, market", [("DE", "de"), ("Nl", "nl"), ("gb", "uk"), ("UK", "uk")])
def test_the_market_is_read_case_insensitively_and_gb_means_uk(
    given, market, gateway_client, gateway_backends, gateway_tokens, gateway_auth
):
    gateway_backends.contract.on(
        "CreateCustomer", lambda req, token: contract_pb2.Customer(customer_number="4711", market=req.market)
    )
    gateway_backends.identity.on("SetCustomerPassword", None)
    response = gateway_client.post(
        "/api/v1/admin/customers",
        json={"market": given, "password": "a-good-password", "last_name": "Smith", **ADDRESSES[market]},
        headers=gateway_auth(gateway_tokens.staff()),
    )
    assert response.status_code == 201
    assert gateway_backends.contract.calls[0].request.market == enum_value(common_pb2.Market, market)
