"""Logins issue tokens with the right claims; logout kills the token; JWKS publishes the key."""

from __future__ import annotations

import time

import jwt
import pytest
from cc_common.errors import Conflict, NotFound, TooManyAttempts, Unauthenticated
from cc_common.tokens import load_public_key
from customercenter.v2 import identity_pb2, package_pb2


def decode(token, settings):
    return jwt.decode(
        token,
        load_public_key(settings.tokens.public_key_file),
        algorithms=["EdDSA"],
        audience=settings.tokens.audience,
        issuer=settings.tokens.issuer,
    )


def test_customer_login_issues_a_customer_token_with_the_documented_claims(
    gateway_client, gateway_backends, gateway_settings
):
    gateway_backends.identity.on(
        "CustomerLogin", identity_pb2.LoginResult(subject="customer:100200", generation=3)
    )
    response = gateway_client.post(
        "/api/v1/auth/customer-login", json={"customer_number": "100200", "password": "secret-pw"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["kind"] == "customer"
    assert body["expires_in"] == gateway_settings.tokens.ttl_seconds
    claims = decode(body["access_token"], gateway_settings)
    assert claims["sub"] == "customer:100200"
    assert claims["kind"] == "customer"
    assert claims["cn"] == "100200"
    assert claims["gen"] == 3
    assert "pkg" not in claims
    assert claims["exp"] - claims["iat"] == gateway_settings.tokens.ttl_seconds
    assert abs(claims["iat"] - time.time()) < 5
    assert claims["jti"]
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA"
    assert header["kid"] == gateway_client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]


def test_customer_login_passes_the_credentials_and_client_address_with_the_service_credential(
    gateway_client, gateway_backends
):
    gateway_backends.identity.on(
        "CustomerLogin", identity_pb2.LoginResult(subject="customer:7", generation=0)
    )
    gateway_client.post(
        "/api/v1/auth/customer-login",
        json={"customer_number": "7", "password": "pw"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    call = gateway_backends.identity.calls[0]
    assert call.request.customer_number == "7"
    assert call.request.password == "pw"
    assert call.request.client_address == "203.0.113.9"
    assert call.token is None  # None: the ServiceClient sends the gateway's service credential


def test_wrong_credentials_answer_401_invalid_credentials(gateway_client, gateway_backends):
    gateway_backends.identity.on(
        "CustomerLogin", Unauthenticated("Wrong customer number or password.", code="invalid_credentials")
    )
    response = gateway_client.post(
        "/api/v1/auth/customer-login", json={"customer_number": "1", "password": "nope"}
    )
    assert response.status_code == 401
    assert response.get_json() == {
        "error": {"code": "invalid_credentials", "message": "Wrong customer number or password."}
    }


def test_a_merged_customer_number_answers_403_with_merged_into(gateway_client, gateway_backends):
    gateway_backends.identity.on(
        "CustomerLogin",
        Conflict("This number was merged.", code="customer_number_merged", extra={"merged_into": "555"}),
    )
    response = gateway_client.post(
        "/api/v1/auth/customer-login", json={"customer_number": "1", "password": "right"}
    )
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "customer_number_merged"
    assert error["merged_into"] == "555"


def test_too_many_attempts_answers_429_with_retry_after(gateway_client, gateway_backends):
    gateway_backends.identity.on("CustomerLogin", TooManyAttempts("Slow down.", retry_after=42))
    response = gateway_client.post(
        "/api/v1/auth/customer-login", json={"customer_number": "1", "password": "x"}
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"
    assert response.get_json()["error"]["code"] == "too_many_attempts"


def test_package_login_normalises_the_domain_and_issues_a_package_token(
    gateway_client, gateway_backends, gateway_settings
):
    gateway_backends.package.on(
        "ResolveDomain",
        package_pb2.Package(id="pkg_1", customer_number="100200", domains=["xn--bcher-kva.de"]),
    )
    gateway_backends.identity.on(
        "PackageLogin", identity_pb2.LoginResult(subject="package:pkg_1", generation=1)
    )
    response = gateway_client.post(
        "/api/v1/auth/package-login", json={"domain": "BÜCHER.de.", "password": "pkg-secret"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["kind"] == "package"
    assert body["package_id"] == "pkg_1"
    claims = decode(body["access_token"], gateway_settings)
    assert (claims["sub"], claims["pkg"], claims["gen"]) == ("package:pkg_1", "pkg_1", 1)
    # The package password may be held by a third party: the owner's number is not in the token.
    assert "cn" not in claims and "100200" not in body["access_token"]
    assert gateway_backends.package.calls[0].request.domain == "xn--bcher-kva.de"
    login = gateway_backends.identity.calls[0].request
    assert (login.domain, login.package_id, login.password) == ("xn--bcher-kva.de", "pkg_1", "pkg-secret")


def test_package_login_with_an_unknown_domain_still_asks_identity_with_an_empty_package_id(
    gateway_client, gateway_backends
):
    gateway_backends.package.on("ResolveDomain", NotFound("no such domain"))
    gateway_backends.identity.on(
        "PackageLogin", Unauthenticated("Wrong domain or password.", code="invalid_credentials")
    )
    response = gateway_client.post(
        "/api/v1/auth/package-login", json={"domain": "unknown.example", "password": "whatever"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"
    assert gateway_backends.identity.calls[0].request.package_id == ""


def test_staff_login_issues_a_staff_token_without_customer_number(
    gateway_client, gateway_backends, gateway_settings
):
    gateway_backends.identity.on("StaffLogin", identity_pb2.LoginResult(subject="staff:admin", generation=0))
    response = gateway_client.post("/api/v1/auth/staff-login", json={"username": "admin", "password": "pw"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["kind"] == "staff"
    claims = decode(body["access_token"], gateway_settings)
    assert claims["sub"] == "staff:admin"
    assert "cn" not in claims and "pkg" not in claims


@pytest.mark.parametrize("kind", ["customer", "package", "staff"])
def test_logout_revokes_the_own_token_and_the_next_request_gets_401(
    kind, gateway_client, gateway_backends, gateway_tokens, gateway_auth, gateway_revocation
):
    token = {
        "customer": lambda: gateway_tokens.customer("100"),
        "package": lambda: gateway_tokens.package("pkg_1"),
        "staff": lambda: gateway_tokens.staff(),
    }[kind]()
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]

    def revoke(request, bearer):
        assert bearer == token
        gateway_revocation.apply(sequence=2, snapshot=False, denied=[(jti, int(time.time()) + 3600)])
        return identity_pb2.RevocationResult(sequence=2)

    gateway_backends.identity.on("RevokeOwnToken", revoke)
    response = gateway_client.post("/api/v1/auth/logout", headers=gateway_auth(token))
    assert response.status_code == 204
    assert response.data == b""
    again = gateway_client.post("/api/v1/auth/logout", headers=gateway_auth(token))
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "unauthenticated"


def test_jwks_publishes_only_the_user_signing_key_with_its_kid(gateway_client, gateway_tokens):
    keys = gateway_client.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kid"] == gateway_tokens.user.kid
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and keys[0]["alg"] == "EdDSA"
    assert not {s.kid for s in gateway_tokens.service_signers.values()} & {k["kid"] for k in keys}
    assert "d" not in keys[0]


@pytest.mark.parametrize(
    "path, raw, field",
    [
        ("/api/v1/auth/staff-login", '{"username": "\\udfff", "password": "secret-1"}', "username"),
        ("/api/v1/auth/staff-login", '{"username": "staff", "password": "ab\\udfffcd"}', "password"),
        ("/api/v1/auth/customer-login", '{"customer_number": "100", "password": "\\udfff"}', "password"),
        (
            "/api/v1/auth/customer-login",
            '{"customer_number": "\\ud800", "password": "secret-1"}',
            "customer_number",
        ),
        ("/api/v1/auth/package-login", '{"domain": ["\\udfff"], "password": "secret-1"}', "domain"),
    ],
)
def test_a_lone_surrogate_in_a_login_answers_422_naming_the_field(
    path, raw, field, gateway_client, gateway_backends
):
    response = gateway_client.post(path, data=raw, content_type="application/json")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_input", field)
    assert gateway_backends.identity.calls == []


def test_a_lone_surrogate_in_a_field_name_answers_422(gateway_client, gateway_backends):
    raw = '{"\\udfff": 1, "username": "staff", "password": "secret-1"}'
    response = gateway_client.post("/api/v1/auth/staff-login", data=raw, content_type="application/json")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_input"
