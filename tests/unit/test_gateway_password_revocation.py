"""The gateway's part in password changes and reset requests, with fake backends: identity
revokes by itself (the gateway never calls RevokeSubject after a change, on the API or on the
web page), the package login that sets its own password names its token to keep, and both
reset paths pass the client address for identity's limit per address."""

from __future__ import annotations

import jwt
import pytest
from customercenter.v2 import contract_pb2, package_pb2

from tests.unit.test_web_pages import csrf_of, form_token

PACKAGE = package_pb2.Package(
    id="pkg_1",
    customer_number="1001",
    product="hosting-basic",
    domains=["erika.example"],
    status=package_pb2.PACKAGE_STATUS_ACTIVE,
)


@pytest.fixture
def backends(gateway_backends):
    gateway_backends.package.on("GetPackage", PACKAGE)
    gateway_backends.package.on("ListProducts", package_pb2.ListProductsResponse())
    gateway_backends.package.on("GetSettings", package_pb2.PackageSettings(package_id="pkg_1"))
    gateway_backends.identity.on("SetPackagePassword", None)
    gateway_backends.identity.on("RequestPasswordReset", None)
    gateway_backends.contract.on(
        "GetCustomer", contract_pb2.Customer(customer_number="1001", email="e@example.org")
    )
    return gateway_backends


def jti_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def set_on_the_page(client, password="New-package-pw-1"):
    token = form_token(client, "/packages/pkg_1")
    return client.post(
        "/packages/pkg_1/password",
        data={"csrf_token": token, "new_password": password, "confirm_password": password},
    )


def test_the_package_password_page_of_a_package_login_keeps_its_own_session_only(
    gateway_client, gateway_tokens, backends
):
    session = gateway_tokens.package("pkg_1")
    gateway_client.set_cookie("cc_session", session)

    response = set_on_the_page(gateway_client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/packages/pkg_1?notice=package_password_set"
    (sent,) = backends.identity.calls
    assert sent.method == "SetPackagePassword" and sent.token is None
    assert (sent.request.package_id, sent.request.keep_jti) == ("pkg_1", jti_of(session))


def test_the_package_password_page_of_the_customer_keeps_no_package_session(
    gateway_client, gateway_tokens, backends
):
    gateway_client.set_cookie("cc_session", gateway_tokens.customer("1001"))

    assert set_on_the_page(gateway_client).status_code == 302

    assert [(c.method, c.request.keep_jti) for c in backends.identity.calls] == [("SetPackagePassword", "")]


def test_the_api_reset_request_passes_the_client_address(gateway_client, backends):
    response = gateway_client.post(
        "/api/v1/auth/password-reset",
        json={"customer_number": "1001"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 202
    (sent,) = [c for c in backends.identity.calls if c.method == "RequestPasswordReset"]
    assert (sent.request.customer_number, sent.request.client_address) == ("1001", "203.0.113.9")


def test_the_forgot_password_page_passes_the_client_address(gateway_client, backends):
    page = gateway_client.get("/password-forgot", environ_base={"REMOTE_ADDR": "198.51.100.4"})
    response = gateway_client.post(
        "/password-forgot",
        data={"csrf_token": csrf_of(page), "customer_number": "1001"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert response.status_code == 302
    (sent,) = [c for c in backends.identity.calls if c.method == "RequestPasswordReset"]
    assert (sent.request.customer_number, sent.request.client_address) == ("1001", "198.51.100.4")
