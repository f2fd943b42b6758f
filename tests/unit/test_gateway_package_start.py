"""The gateway's "Start" (gateway/gateway_app/sign_on.py) with fake services: the link it
answers, what it refuses before asking identity, and that the link's token never reaches the
access log."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from cc_common.errors import Unauthenticated
from customercenter.v2 import identity_pb2, package_pb2

ACTIVE = package_pb2.Package(id="pkg_1", product="hosting-basic", domains=["example.com"],
                             status=package_pb2.PACKAGE_STATUS_ACTIVE)  # fmt: skip


@pytest.fixture
def client(gateway_app):
    gateway_app.config["PUBLIC_BASE_URL"] = "https://center.example"
    return gateway_app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def link_token(reply) -> str:
    return parse_qs(urlsplit(reply.get_json()["url"]).query)["token"][0]


def test_the_link_lies_under_public_base_url_and_redeeming_it_asks_identity_with_its_jti(
    client, gateway_backends, gateway_tokens
):
    gateway_backends.package.on("GetPackage", ACTIVE)
    gateway_backends.identity.on(
        "RedeemPackageSignOn", identity_pb2.LoginResult(subject="package:pkg_1", generation=3)
    )
    reply = client.post("/api/v1/packages/pkg_1/start", headers=bearer(gateway_tokens.customer("100")))
    assert reply.status_code == 200 and list(reply.get_json()) == ["url"]
    assert reply.get_json()["url"].startswith("https://center.example/packages/sso?token=")
    opened = client.get(f"/packages/sso?token={link_token(reply)}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/packages/pkg_1")
    (call,) = [c for c in gateway_backends.identity.calls if c.method == "RedeemPackageSignOn"]
    assert call.request.package_id == "pkg_1" and len(call.request.jti) == 32
    session = client.get_cookie("cc_session")
    assert session is not None and "no-store" in opened.headers["Cache-Control"]


def test_a_terminated_package_answers_409_and_no_link(client, gateway_backends, gateway_tokens):
    ended = package_pb2.Package(
        id="pkg_1", product="hosting-basic", status=package_pb2.PACKAGE_STATUS_TERMINATED
    )
    gateway_backends.package.on("GetPackage", ended)
    reply = client.post("/api/v1/packages/pkg_1/start", headers=bearer(gateway_tokens.customer("100")))
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "package_terminated"


def test_a_package_token_naming_another_package_is_refused_before_any_service_is_asked(
    client, gateway_backends, gateway_tokens
):
    reply = client.post("/api/v1/packages/pkg_2/start", headers=bearer(gateway_tokens.package("pkg_1")))
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "not_found"
    assert gateway_backends.package.calls == []


def test_a_used_link_shows_a_page_and_the_token_is_not_in_the_access_log(
    client, gateway_backends, gateway_tokens, caplog
):
    gateway_backends.package.on("GetPackage", ACTIVE)
    gateway_backends.identity.on("RedeemPackageSignOn", Unauthenticated("used", code="invalid_token"))
    token = link_token(
        client.post("/api/v1/packages/pkg_1/start", headers=bearer(gateway_tokens.customer("100")))
    )
    caplog.set_level(logging.DEBUG)
    refused = client.get(f"/packages/sso?token={token}", headers={"Accept-Language": "de"})
    assert refused.status_code == 401 and "text/html" in refused.content_type
    assert "bereits verwendet" in refused.get_data(as_text=True)
    assert client.get_cookie("cc_session") is None
    assert token not in caplog.text and all(token not in str(r.__dict__) for r in caplog.records)


def test_a_link_is_not_a_session_and_a_session_is_not_a_link(client, gateway_backends, gateway_tokens):
    gateway_backends.package.on("GetPackage", ACTIVE)
    token = link_token(
        client.post("/api/v1/packages/pkg_1/start", headers=bearer(gateway_tokens.customer("100")))
    )
    assert client.get("/api/v1/packages/pkg_1", headers=bearer(token)).status_code == 401
    client.set_cookie("cc_session", token)
    assert client.get("/packages/pkg_1").status_code == 302  # to the login page: no session
    user = gateway_tokens.package("pkg_1")
    assert client.get(f"/packages/sso?token={user}").status_code == 401
    assert "RedeemPackageSignOn" not in gateway_backends.identity.methods_called()
