"""The gateway behind a reverse proxy: X-Forwarded-For/-Proto count only from TRUSTED_PROXIES
(gateway_app/proxy.py); cookies are Secure and HSTS is sent when the original request was https."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import subprocess
import sys

import pytest
from cc_common.config import REPO_ROOT, parse_trusted_proxies
from customercenter.v2 import identity_pb2
from gateway_app.web.session import CSRF_COOKIE

PROXY = "10.0.0.5"
CLIENT = "203.0.113.9"


@pytest.fixture
def proxied_app(gateway_settings, gateway_backends, gateway_revocation):
    """The gateway with TRUSTED_PROXIES=10.0.0.0/24, fd00::/8."""
    from gateway_app import create_app

    settings = dataclasses.replace(
        gateway_settings, trusted_proxies=parse_trusted_proxies("10.0.0.0/24, fd00::/8")
    )
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:7"))
    gateway_backends.identity.on("StaffLogin", identity_pb2.LoginResult(subject="staff:anna"))
    return create_app(
        {
            "TESTING": True,
            "GATEWAY_SETTINGS": settings,
            "BACKENDS": gateway_backends,
            "REVOCATION_STATE": gateway_revocation,
            "REVOCATION_SYNC_WAIT": 0.05,
        }
    )


def login_address(client, backends, peer: str, headers: dict[str, str] | None = None) -> str:
    """The client address the gateway passed to identity for one API login from `peer`."""
    backends.identity.calls.clear()
    client.post(
        "/api/v1/auth/customer-login",
        json={"customer_number": "7", "password": "pw"},
        headers=headers or {},
        environ_base={"REMOTE_ADDR": peer},
    )
    return backends.identity.calls[-1].request.client_address


# --- TRUSTED_PROXIES ---------------------------------------------------------------------------


def test_trusted_proxies_take_addresses_and_networks_separated_by_commas_or_spaces():
    assert parse_trusted_proxies("") == ()
    assert parse_trusted_proxies(" 10.0.0.5, 10.1.0.0/16  fd00::/8,") == (
        ipaddress.ip_network("10.0.0.5/32"),
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("fd00::/8"),
    )


@pytest.mark.parametrize("entry", ["proxy.example", "10.0.0.300", "10.0.0.1/8", "10.0.0.0/33"])
def test_an_invalid_trusted_proxy_is_a_clear_error_naming_it(entry):
    with pytest.raises(RuntimeError, match=re.escape(f"TRUSTED_PROXIES: {entry!r}")):
        parse_trusted_proxies(f"10.0.0.5, {entry}")


def test_the_gateway_settings_read_trusted_proxies_and_refuse_an_invalid_one(monkeypatch):
    from gateway_app.settings import GatewaySettings

    monkeypatch.setenv("TRUSTED_PROXIES", "192.0.2.0/24")
    assert GatewaySettings.from_env().trusted_proxies == (ipaddress.ip_network("192.0.2.0/24"),)
    monkeypatch.setenv("TRUSTED_PROXIES", "not-an-address")
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        GatewaySettings.from_env()


def test_gunicorn_refuses_an_invalid_trusted_proxies_before_starting(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "VAR_DIR": str(tmp_path),
        "TRUSTED_PROXIES": "10.0.0.5, proxy.internal",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(REPO_ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            "127.0.0.1:0",
            "--check-config",
            "gateway_app:create_app()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy.internal'" in done.stderr


# --- the client address ----------------------------------------------------------------------


def test_by_default_nobody_is_trusted_and_a_forwarded_for_is_ignored(gateway_client, gateway_backends):
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:7"))
    spoofed = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    assert login_address(gateway_client, gateway_backends, "127.0.0.1", spoofed) == "127.0.0.1"


def test_a_trusted_proxy_forwards_the_client_address(proxied_app, gateway_backends):
    client = proxied_app.test_client()
    assert login_address(client, gateway_backends, PROXY, {"X-Forwarded-For": CLIENT}) == CLIENT


def test_only_the_entry_the_trusted_proxy_appended_counts(proxied_app, gateway_backends):
    """A client's own X-Forwarded-For comes first; the proxy appends the peer it saw."""
    client = proxied_app.test_client()
    forwarded = {"X-Forwarded-For": f"198.51.100.1, {CLIENT}"}
    assert login_address(client, gateway_backends, PROXY, forwarded) == CLIENT


def test_a_trusted_ipv6_or_ipv4_mapped_peer_forwards_too(proxied_app, gateway_backends):
    client = proxied_app.test_client()
    assert login_address(client, gateway_backends, "fd00::7", {"X-Forwarded-For": CLIENT}) == CLIENT
    mapped = f"::ffff:{PROXY}"
    assert login_address(client, gateway_backends, mapped, {"X-Forwarded-For": CLIENT}) == CLIENT


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(proxied_app, gateway_backends):
    client = proxied_app.test_client()
    spoofed = {"X-Forwarded-For": "10.0.0.9, 198.51.100.1"}
    assert login_address(client, gateway_backends, CLIENT, spoofed) == CLIENT
    assert login_address(client, gateway_backends, "10.0.1.5", spoofed) == "10.0.1.5"  # outside /24


def test_a_trusted_proxy_without_a_forwarded_for_leaves_its_own_address(proxied_app, gateway_backends):
    assert login_address(proxied_app.test_client(), gateway_backends, PROXY) == PROXY


def test_the_web_login_uses_the_forwarded_address_too(proxied_app, gateway_backends):
    client = proxied_app.test_client()
    page = client.get("/staff/login", environ_base={"REMOTE_ADDR": PROXY})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    client.post(
        "/staff/login",
        data={"csrf_token": token, "username": "anna", "password": "pw"},
        headers={"X-Forwarded-For": CLIENT},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert gateway_backends.identity.calls[-1].request.client_address == CLIENT


def test_no_gateway_code_reads_remote_addr_but_the_proxy_module():
    gateway = REPO_ROOT / "gateway" / "gateway_app"
    readers = [
        str(path.relative_to(gateway))
        for path in gateway.rglob("*.py")
        if "remote_addr" in path.read_text() and path.name != "proxy.py"
    ]
    assert readers == []


# --- the scheme: Secure cookies and HSTS ------------------------------------------------------


def web_login(client, peer: str, headers: dict[str, str]):
    page = client.get("/staff/login", headers=headers, environ_base={"REMOTE_ADDR": peer})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return page, client.post(
        "/staff/login",
        data={"csrf_token": token, "username": "anna", "password": "pw"},
        headers=headers,
        environ_base={"REMOTE_ADDR": peer},
    )


def cookies_of(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_https_forwarded_by_a_trusted_proxy_gives_secure_cookies_and_hsts(proxied_app):
    page, login = web_login(proxied_app.test_client(), PROXY, {"X-Forwarded-Proto": "https"})
    assert "Secure" in cookies_of(page)[CSRF_COOKIE]
    assert "Secure" in cookies_of(login)["cc_session"]
    for response in (page, login):
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_https_claimed_by_an_untrusted_peer_gives_neither(proxied_app):
    page, login = web_login(proxied_app.test_client(), CLIENT, {"X-Forwarded-Proto": "https"})
    assert "Secure" not in cookies_of(login)["cc_session"]
    assert "Strict-Transport-Security" not in page.headers
    assert "Strict-Transport-Security" not in login.headers


def test_plain_http_through_a_trusted_proxy_gives_neither(proxied_app):
    page, login = web_login(proxied_app.test_client(), PROXY, {"X-Forwarded-Proto": "http"})
    assert "Secure" not in cookies_of(login)["cc_session"]
    assert "Strict-Transport-Security" not in login.headers


def test_a_direct_https_request_gives_hsts_on_the_api_too(gateway_client):
    response = gateway_client.get("/.well-known/jwks.json", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in gateway_client.get("/.well-known/jwks.json").headers


def test_a_forwarded_host_is_never_applied(proxied_app):
    """Host and port stay the gateway's own (links in mails use PUBLIC_BASE_URL anyway)."""
    seen = {}

    @proxied_app.get("/_probe")
    def probe():
        from flask import request

        seen.update(host=request.host, scheme=request.scheme)
        return "ok"

    proxied_app.test_client().get(
        "/_probe",
        headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert seen == {"host": "localhost", "scheme": "https"}


def test_production_cookies_are_secure_even_over_plain_http(
    gateway_settings, gateway_backends, gateway_revocation, monkeypatch
):
    from gateway_app import create_app

    monkeypatch.setattr("gateway_app.is_production", lambda: True)
    monkeypatch.setattr("gateway_app.refuse_unsafe_production_settings", lambda process: None)
    gateway_backends.identity.on("StaffLogin", identity_pb2.LoginResult(subject="staff:anna"))
    app = create_app(
        {
            "TESTING": True,
            "GATEWAY_SETTINGS": gateway_settings,
            "BACKENDS": gateway_backends,
            "REVOCATION_STATE": gateway_revocation,
            "REVOCATION_SYNC_WAIT": 0.05,
        }
    )
    _, login = web_login(app.test_client(), CLIENT, {})
    assert "Secure" in cookies_of(login)["cc_session"]
    assert "Strict-Transport-Security" not in login.headers  # HSTS only over https
