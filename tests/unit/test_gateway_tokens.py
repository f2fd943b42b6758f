"""token_required: which kinds reach which endpoint, and which tokens never get in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import jwt
import pytest
from cc_common.revocation import RevocationState, SubjectRule
from cc_common.tokens import TokenSigner, ensure_keypair
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from customercenter.v2 import common_pb2, contract_pb2, identity_pb2, package_pb2
from gateway_app import create_app
from gateway_app.security import TokenGuard, guard, token_required

VALID_CUSTOMER = {
    "market": "de",
    "password": "long-enough-pw",
    "last_name": "Muster",
    "street": "Hauptstraße 1",
    "zip": "10115",
    "city": "Berlin",
    "country": "DE",
    "email": "kunde@example.com",
}

# (method, path, json body, the kinds the endpoint accepts)
ENDPOINTS = [
    ("GET", "/api/v1/customer", None, {"customer"}),
    ("GET", "/api/v1/invoices", None, {"customer"}),
    ("GET", "/api/v1/packages", None, {"customer", "package"}),
    ("GET", "/api/v1/packages/pkg_1", None, {"customer", "package"}),
    ("POST", "/api/v1/auth/logout", None, {"customer", "package", "staff"}),
    ("POST", "/api/v1/admin/customers", VALID_CUSTOMER, {"staff"}),
    (
        "POST",
        "/api/v1/admin/customers/100/packages",
        {"product": "hosting-basic", "domains": ["a.de"]},
        {"staff"},
    ),
    (
        "POST",
        "/api/v1/admin/customers/100/invoices",
        {"amount": "9.99", "currency": "EUR", "status": "open"},
        {"staff"},
    ),
]


@pytest.fixture
def answering_backends(gateway_backends):
    """Every backend method the endpoints above call answers something plausible."""
    package = package_pb2.Package(
        id="pkg_1",
        customer_number="100",
        product="basic",
        domains=["a.de"],
        status=package_pb2.PACKAGE_STATUS_ACTIVE,
    )
    gateway_backends.contract.on(
        "GetCustomer",
        contract_pb2.Customer(
            customer_number="100", market=common_pb2.MARKET_DE, status=common_pb2.CUSTOMER_STATUS_ACTIVE
        ),
    )
    gateway_backends.contract.on("ListInvoices", contract_pb2.ListInvoicesResponse())
    gateway_backends.contract.on(
        "CreateCustomer", contract_pb2.Customer(customer_number="100", market=common_pb2.MARKET_DE)
    )
    gateway_backends.contract.on(
        "CreateInvoice",
        contract_pb2.Invoice(
            number="R1", amount_cents=999, currency="EUR", status=contract_pb2.INVOICE_STATUS_OPEN
        ),
    )
    gateway_backends.package.on("ListPackages", package_pb2.ListPackagesResponse(packages=[package]))
    gateway_backends.package.on("GetPackage", package)
    gateway_backends.package.on("CreatePackage", package)
    gateway_backends.contract.on("CreateContract", contract_pb2.Contract(id="ctr_1"))
    gateway_backends.identity.on("RevokeOwnToken", identity_pb2.RevocationResult(sequence=1))
    gateway_backends.identity.on("SetCustomerPassword", None)
    return gateway_backends


@pytest.fixture
def tokens_by_kind(gateway_tokens):
    return {
        "customer": gateway_tokens.customer("100"),
        "package": gateway_tokens.package("pkg_1"),
        "staff": gateway_tokens.staff("admin"),
    }


MATRIX = [
    pytest.param(method, path, body, kind, kind in kinds, id=f"{kind}-{method}-{path}")
    for method, path, body, kinds in ENDPOINTS
    for kind in ("customer", "package", "staff")
]


@pytest.mark.parametrize("method,path,body,kind,allowed", MATRIX)
def test_each_endpoint_admits_exactly_its_token_kinds(
    method, path, body, kind, allowed, gateway_client, answering_backends, tokens_by_kind, gateway_auth
):
    response = gateway_client.open(path, method=method, json=body, headers=gateway_auth(tokens_by_kind[kind]))
    if allowed:
        assert response.status_code in (200, 201, 204), response.get_json()
    else:
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("method,path,body,kinds", ENDPOINTS)
def test_the_views_declare_the_kinds_of_the_table(method, path, body, kinds, gateway_app):
    adapter = gateway_app.url_map.bind("localhost")
    endpoint, _ = adapter.match(path, method=method)
    assert set(gateway_app.view_functions[endpoint].token_kinds) == kinds


@pytest.mark.parametrize("method,path,body,kinds", ENDPOINTS)
def test_each_protected_endpoint_answers_401_without_a_token(method, path, body, kinds, gateway_client):
    response = gateway_client.open(path, method=method, json=body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_the_principal_of_the_token_is_forwarded_to_the_backend(
    gateway_client, answering_backends, tokens_by_kind, gateway_auth
):
    gateway_client.get("/api/v1/customer", headers=gateway_auth(tokens_by_kind["customer"]))
    assert answering_backends.contract.calls[-1].token == tokens_by_kind["customer"]


def test_token_required_refuses_unknown_kinds_at_decoration_time():
    with pytest.raises(ValueError):
        token_required("service")
    with pytest.raises(ValueError):
        token_required()


# --- attacks --------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(settings, **overrides):
    now = int(time.time())
    claims = {
        "iss": settings.tokens.issuer,
        "aud": settings.tokens.audience,
        "sub": "customer:100",
        "kind": "customer",
        "cn": "100",
        "gen": 0,
        "jti": "j1",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _tampered(tokens, settings):
    token = tokens.customer("100")
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def _payload_swapped(tokens, settings):
    token = tokens.customer("100")
    head, _, signature = token.split(".")
    other = _b64(json.dumps(_claims(settings, sub="customer:999", cn="999")).encode())
    return f"{head}.{other}.{signature}"


def _expired(tokens, settings):
    return tokens.user.issue(kind="customer", subject="customer:100", customer_number="100", ttl=-30)[0]


def _other_audience(tokens, settings):
    key = ensure_keypair(settings.tokens.signing_key_file)
    signer = TokenSigner(key, issuer=settings.tokens.issuer, audience="someone-else", ttl=600)
    return signer.issue(kind="customer", subject="customer:100", customer_number="100")[0]


def _other_issuer(tokens, settings):
    key = ensure_keypair(settings.tokens.signing_key_file)
    signer = TokenSigner(key, issuer="evil", audience=settings.tokens.audience, ttl=600)
    return signer.issue(kind="customer", subject="customer:100", customer_number="100")[0]


def _alg_none(tokens, settings):
    header = {"alg": "none", "typ": "JWT", "kid": tokens.user.kid}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims(settings)).encode())}."


def _hs256_with_public_pem(tokens, settings):
    pem = settings.tokens.public_key_file.read_bytes()
    header = {"alg": "HS256", "typ": "JWT", "kid": tokens.user.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims(settings)).encode())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _unknown_kid(tokens, settings):
    signer = TokenSigner(
        Ed25519PrivateKey.generate(),
        issuer=settings.tokens.issuer,
        audience=settings.tokens.audience,
        ttl=600,
    )
    return signer.issue(kind="customer", subject="customer:100", customer_number="100")[0]


def _known_kid_foreign_key(tokens, settings):
    claims = _claims(settings)
    return jwt.encode(
        claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": tokens.user.kid}
    )


def _service_credential(tokens, settings):
    return tokens.service("gateway")


def _user_kind_service(tokens, settings):
    return tokens.user.issue(kind="service", subject="service:gateway")[0]


def _garbage(tokens, settings):
    return "not-a-jwt"


ATTACKS = [
    _tampered,
    _payload_swapped,
    _expired,
    _other_audience,
    _other_issuer,
    _alg_none,
    _hs256_with_public_pem,
    _unknown_kid,
    _known_kid_foreign_key,
    _service_credential,
    _user_kind_service,
    _garbage,
]


@pytest.mark.parametrize("make_token", ATTACKS, ids=[f.__name__.strip("_") for f in ATTACKS])
def test_forged_or_foreign_tokens_answer_401(
    make_token, gateway_client, answering_backends, gateway_tokens, gateway_settings, gateway_auth
):
    token = make_token(gateway_tokens, gateway_settings)
    response = gateway_client.get("/api/v1/customer", headers=gateway_auth(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    assert answering_backends.contract.calls == []


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Token abc", "bearer"])
def test_malformed_authorization_headers_answer_401(header, gateway_client):
    response = gateway_client.get("/api/v1/customer", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_a_revoked_jti_answers_401(
    gateway_client, answering_backends, gateway_tokens, gateway_auth, gateway_revocation
):
    token = gateway_tokens.customer("100")
    assert gateway_client.get("/api/v1/customer", headers=gateway_auth(token)).status_code == 200
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    gateway_revocation.apply(sequence=2, snapshot=False, denied=[(jti, int(time.time()) + 600)])
    response = gateway_client.get("/api/v1/customer", headers=gateway_auth(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_tokens_of_an_older_generation_answer_401_except_the_kept_one(
    gateway_client, answering_backends, gateway_tokens, gateway_auth, gateway_revocation
):
    old = gateway_tokens.customer("100", generation=0)
    kept = gateway_tokens.customer("100", generation=0)
    kept_jti = jwt.decode(kept, options={"verify_signature": False})["jti"]
    gateway_revocation.apply(sequence=2, snapshot=False, rules=[SubjectRule("customer:100", 1, kept_jti)])
    assert gateway_client.get("/api/v1/customer", headers=gateway_auth(old)).status_code == 401
    assert gateway_client.get("/api/v1/customer", headers=gateway_auth(kept)).status_code == 200
    fresh = gateway_tokens.customer("100", generation=1)
    assert gateway_client.get("/api/v1/customer", headers=gateway_auth(fresh)).status_code == 200


def test_a_replica_that_never_synced_answers_503_naming_identity(
    gateway_settings, gateway_backends, gateway_tokens
):
    app = create_app(
        {
            "TESTING": True,
            "GATEWAY_SETTINGS": gateway_settings,
            "BACKENDS": gateway_backends,
            "REVOCATION_STATE": RevocationState(),
            "REVOCATION_SYNC_WAIT": 0.05,
        }
    )
    response = app.test_client().get(
        "/api/v1/customer", headers={"Authorization": f"Bearer {gateway_tokens.customer('100')}"}
    )
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["service"] == "identity"
    assert "identity" in error["message"]


def test_fake_backends_without_a_revocation_state_say_so_when_the_replica_is_first_needed(
    gateway_settings, gateway_backends
):
    app = create_app({"TESTING": True, "GATEWAY_SETTINGS": gateway_settings, "BACKENDS": gateway_backends})
    with app.app_context(), pytest.raises(RuntimeError, match="need a REVOCATION_STATE"):
        guard().revocation_state()


def test_the_revocation_watcher_starts_once_per_process_however_many_threads_ask(
    gateway_app, gateway_settings
):
    started = []

    class FakeWatcher:
        def __init__(self, state):
            self.state = state

        def start(self):
            time.sleep(0.01)
            started.append(self)
            return self

        def stop(self):
            pass

    guard = TokenGuard()
    guard.init_app(gateway_app, tokens=gateway_settings.tokens, sync_wait=0.01, watcher_factory=FakeWatcher)
    states = []
    threads = [threading.Thread(target=lambda: states.append(guard.revocation_state())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(started) == 1
    assert all(state is started[0].state for state in states)


def test_a_replica_gone_stale_answers_503_until_identity_is_back(
    gateway_settings, gateway_backends, gateway_tokens
):
    state = RevocationState()
    state.apply(sequence=1, snapshot=True)
    app = create_app(
        {
            "TESTING": True,
            "GATEWAY_SETTINGS": gateway_settings,
            "BACKENDS": gateway_backends,
            "REVOCATION_STATE": state,
            "REVOCATION_SYNC_WAIT": 0.05,
        }
    )
    headers = {"Authorization": f"Bearer {gateway_tokens.customer('100')}"}
    state.mark_stale()  # the stream to identity broke

    assert app.test_client().get("/api/v1/customer", headers=headers).status_code == 503
    state.apply(sequence=1, snapshot=True)  # reconnected
    assert app.test_client().get("/api/v1/customer", headers=headers).status_code != 503
