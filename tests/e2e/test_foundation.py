"""The foundation end to end: staff creates customers and packages, customer and package
logins, the access matrix, the token attacks, throttling and logout, through the gateway and
the five real processes."""

from __future__ import annotations

import uuid

import pytest
from cc_common.testing import TokenFactory

from tests.support.forged_tokens import forged_tokens

CONTRACT_ENDPOINTS = [("GET", "/api/v1/customer"), ("GET", "/api/v1/invoices")]


@pytest.fixture(scope="module")
def world(any_suite):
    suite = any_suite
    alice = suite.create_customer("de")
    bob = suite.create_customer("nl")
    domain = f"alice-{uuid.uuid4().hex[:8]}.example"
    alice_pkg = suite.create_package(alice.number, domains=[domain], package_password="Alice-pkg-pass")
    bob_pkg = suite.create_package(bob.number)
    suite.create_invoice(alice.number)
    return suite, alice, bob, domain, alice_pkg, bob_pkg


def test_staff_creates_a_customer_who_signs_in_and_sees_own_data_and_packages(world):
    suite, alice, _, domain, alice_pkg, _ = world
    token = suite.login_customer(alice.number, alice.password)
    me = suite.api("GET", "/api/v1/customer", token=token, expect=200).json()
    assert me["customer_number"] == alice.number and me["market"] == "de"
    assert (
        me["payment"]["iban_masked"].startswith("DE89") and "0532013000" not in me["payment"]["iban_masked"]
    )
    packages = suite.api("GET", "/api/v1/packages", token=token, expect=200).json()["packages"]
    assert [p["id"] for p in packages] == [alice_pkg] and packages[0]["domains"] == [domain]
    assert (
        suite.api("GET", f"/api/v1/packages/{alice_pkg}", token=token, expect=200).json()["id"] == alice_pkg
    )


def test_a_customer_never_reaches_another_customers_package(world):
    suite, alice, _, _, _, bob_pkg = world
    token = suite.login_customer(alice.number, alice.password)
    assert suite.api("GET", f"/api/v1/packages/{bob_pkg}", token=token).status_code in (403, 404)


def test_a_package_login_reaches_only_its_own_package_and_no_contract_data(world):
    suite, _, _, domain, alice_pkg, bob_pkg = world
    reply = suite.api(
        "POST",
        "/api/v1/auth/package-login",
        json={"domain": domain.upper(), "password": "Alice-pkg-pass"},
        expect=200,
    ).json()
    assert reply["kind"] == "package" and reply["package_id"] == alice_pkg and reply["token_type"] == "Bearer"
    token = reply["access_token"]
    assert [
        p["id"] for p in suite.api("GET", "/api/v1/packages", token=token, expect=200).json()["packages"]
    ] == [alice_pkg]
    assert suite.api("GET", f"/api/v1/packages/{bob_pkg}", token=token).status_code in (403, 404)
    for method, path in CONTRACT_ENDPOINTS:
        reply = suite.api(method, path, token=token)
        assert reply.status_code == 403 and reply.json()["error"]["code"] == "forbidden"


def test_admin_endpoints_need_a_staff_token(world):
    suite, alice, _, _, _, _ = world
    token = suite.login_customer(alice.number, alice.password)
    reply = suite.api("POST", "/api/v1/admin/customers", token=token, json={"market": "de"})
    assert reply.status_code == 403
    assert suite.api("POST", "/api/v1/admin/customers", json={"market": "de"}).status_code == 401


def test_forged_tokens_get_401(world):
    suite, alice, _, _, _, _ = world
    forged = forged_tokens(TokenFactory(suite.token_settings), suite.token_settings, alice.number)
    for name, token in forged.items():
        reply = suite.api("GET", "/api/v1/customer", token=token)
        assert reply.status_code == 401, name
        assert reply.json()["error"]["code"] == "unauthenticated"


def test_logout_kills_the_token_at_once(world):
    suite, alice, _, _, _, _ = world
    token = suite.login_customer(alice.number, alice.password)
    other = suite.login_customer(alice.number, alice.password)
    suite.api("POST", "/api/v1/auth/logout", token=token, expect=204)
    for _ in range(4):  # whichever gateway worker answers
        assert suite.api("GET", "/api/v1/customer", token=token).status_code == 401
    assert suite.api("GET", "/api/v1/customer", token=other).status_code == 200


def test_a_logged_out_token_is_refused_by_a_service_called_directly_over_grpc(world):
    import grpc
    from cc_common.testing import metadata
    from customercenter.v2 import package_pb2, package_pb2_grpc

    suite, alice, _, _, alice_pkg, _ = world
    token = suite.login_customer(alice.number, alice.password)
    with grpc.insecure_channel(suite.addresses["package"]) as channel:
        stub = package_pb2_grpc.PackageServiceStub(channel)
        request = package_pb2.ListPackagesRequest(customer_number=alice.number)
        before = stub.ListPackages(request, metadata=metadata(token), timeout=10)
        assert [p.id for p in before.packages] == [alice_pkg]

        suite.api("POST", "/api/v1/auth/logout", token=token, expect=204)

        with pytest.raises(grpc.RpcError) as err:
            stub.ListPackages(request, metadata=metadata(token), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_wrong_credentials_answer_the_same_for_known_and_unknown_numbers(world):
    suite, alice, _, _, _, _ = world
    known = suite.api(
        "POST",
        "/api/v1/auth/customer-login",
        json={"customer_number": alice.number, "password": "wrong-password"},
    )
    unknown = suite.api(
        "POST",
        "/api/v1/auth/customer-login",
        json={"customer_number": "99999999999", "password": "wrong-password"},
    )
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()
    assert known.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"customer_number": "12ab", "password": "x" * 10}, "customer_number"),
        ({"customer_number": "123"}, "password"),
        ({"customer_number": "123", "password": "x" * 10, "extra": 1}, "extra"),
        ({"customer_number": 123, "password": "x" * 10}, "customer_number"),
    ],
)
def test_bad_login_input_is_a_422_naming_the_field(world, body, field):
    suite = world[0]
    reply = suite.api("POST", "/api/v1/auth/customer-login", json=body)
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "invalid_input" and reply.json()["error"]["field"] == field


def test_malformed_json_and_huge_bodies_are_clean_4xx(world):
    suite = world[0]
    bad = suite.api(
        "POST", "/api/v1/auth/customer-login", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400 and "error" in bad.json()
    huge = suite.api(
        "POST",
        "/api/v1/auth/customer-login",
        data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"


def test_repeated_failures_are_throttled_with_retry_after(suite_factory):
    suite = suite_factory(env={"LOGIN_MAX_FAILURES_PER_ACCOUNT": "3", "LOGIN_LOCKOUT_SECONDS": "120"})
    customer = suite.create_customer("uk")
    for _ in range(3):
        suite.api(
            "POST",
            "/api/v1/auth/customer-login",
            json={"customer_number": customer.number, "password": "wrong-password"},
            expect=401,
        )
    locked = suite.api(
        "POST",
        "/api/v1/auth/customer-login",
        json={"customer_number": customer.number, "password": customer.password},
    )
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 120
    # An unknown number is throttled just like a known one (no enumeration).
    for _ in range(3):
        suite.api(
            "POST",
            "/api/v1/auth/customer-login",
            json={"customer_number": "123456789012", "password": "wrong-password"},
            expect=401,
        )
    assert (
        suite.api(
            "POST",
            "/api/v1/auth/customer-login",
            json={"customer_number": "123456789012", "password": "wrong-password"},
        ).status_code
        == 429
    )


def test_a_service_that_is_down_gives_503_for_its_features_while_the_rest_works(suite_factory):
    suite = suite_factory()
    customer = suite.create_customer("de")
    suite.create_package(customer.number)
    token = suite.login_customer(customer.number, customer.password)
    suite.stop("contract")
    try:
        down = suite.api("GET", "/api/v1/customer", token=token)
        assert down.status_code == 503 and down.json()["error"]["code"] == "service_unavailable"
        assert suite.api("GET", "/api/v1/packages", token=token).status_code == 200
        health = suite.api("GET", "/healthz")
        assert health.status_code == 503 and "contract" in health.text
    finally:
        suite.start("contract")
    suite.wait_ready(timeout=15)  # the gateway finds the restarted service again
    assert suite.api("GET", "/api/v1/customer", token=token).status_code == 200


def test_a_new_package_password_ends_the_old_package_sessions(world):
    suite, alice, _, _, _, _ = world
    domain = f"rotate-{uuid.uuid4().hex[:8]}.example"
    package_id = suite.create_package(alice.number, domains=[domain], package_password="Old-package-pass")
    old = suite.login_package(domain, "Old-package-pass")
    customer = suite.login_customer(alice.number, alice.password)
    suite.api(
        "PUT",
        f"/api/v1/packages/{package_id}/password",
        token=customer,
        json={"new_password": "New-package-pass"},
        expect=204,
    )
    assert suite.api("GET", "/api/v1/packages", token=old).status_code == 401
    assert suite.login_package(domain, "New-package-pass")
