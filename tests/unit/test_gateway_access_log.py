"""The gateway's access log (gateway/gateway_app/access_log.py) and GET /livez."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from cc_common.config import parse_trusted_proxies
from customercenter.v2 import identity_pb2

ACCESS = "access.http"


@pytest.fixture
def proxied_client(gateway_settings, gateway_backends, gateway_revocation):
    """The gateway with TRUSTED_PROXIES=10.0.0.0/24."""
    from gateway_app import create_app

    settings = dataclasses.replace(gateway_settings, trusted_proxies=parse_trusted_proxies("10.0.0.0/24"))
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:7"))
    app = create_app(
        {
            "TESTING": True,
            "GATEWAY_SETTINGS": settings,
            "BACKENDS": gateway_backends,
            "REVOCATION_STATE": gateway_revocation,
            "REVOCATION_SYNC_WAIT": 0.05,
        }
    )
    return app.test_client()


def access_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS]


def test_a_request_gets_one_line_with_route_status_duration_and_the_forwarded_client(proxied_client, caplog):
    caplog.set_level(logging.DEBUG, logger=ACCESS)
    password = "Secret-Pw-123!"
    proxied_client.post(
        "/api/v1/auth/customer-login?token=query-secret",
        json={"customer_number": "7", "password": password},
        headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "tests/1.0"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    (line,) = access_lines(caplog)
    assert line.levelno == logging.INFO and line.access == "http"
    assert line.method == "POST" and line.status == 200
    assert line.route == "/api/v1/auth/customer-login" and line.path == "/api/v1/auth/customer-login"
    assert line.client_address == "203.0.113.9" and line.user_agent == "tests/1.0"
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
    assert line.getMessage().startswith("POST /api/v1/auth/customer-login 200 ")
    everything = str(line.__dict__)
    assert "query-secret" not in everything and password not in everything


def test_an_untrusted_peer_is_logged_with_its_own_address(proxied_client, caplog):
    caplog.set_level(logging.INFO, logger=ACCESS)
    proxied_client.get(
        "/api/v1/customer",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    (line,) = access_lines(caplog)
    assert line.client_address == "198.51.100.4"
    assert line.status == 401 and line.route == "/api/v1/customer"


def test_a_path_without_a_route_and_a_route_with_parameters(
    gateway_client, gateway_tokens, gateway_auth, caplog
):
    caplog.set_level(logging.INFO, logger=ACCESS)
    gateway_client.get("/api/v1/no-such-thing")
    gateway_client.get("/api/v1/merges/m-42", headers=gateway_auth(gateway_tokens.customer("10000001")))
    missing, merge = access_lines(caplog)
    assert missing.status == 404 and missing.route is None and missing.path == "/api/v1/no-such-thing"
    assert merge.route == "/api/v1/merges/<merge_id>" and merge.path == "/api/v1/merges/m-42"


def test_a_server_error_is_a_warning_and_a_failing_readiness_probe_news(
    gateway_client, gateway_backends, caplog
):
    caplog.set_level(logging.INFO, logger=ACCESS)
    gateway_backends.identity.down = True
    gateway_client.post("/api/v1/auth/customer-login", json={"customer_number": "7", "password": "pw"})
    gateway_client.get("/healthz")
    login, probe = access_lines(caplog)
    assert login.status == 503 and login.levelno == logging.WARNING
    assert probe.status == 503 and probe.levelno == logging.INFO


def test_livez_is_200_without_a_token_and_asks_no_backend(gateway_client, gateway_backends, caplog):
    caplog.set_level(logging.DEBUG, logger=ACCESS)

    def no_call(timeout=1.0):
        raise AssertionError("/livez must not ask a backend")

    for client in gateway_backends.by_name().values():
        client.serving = no_call
    response = gateway_client.get("/livez")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    # A probe that answers is written at DEBUG only (LOG_LEVEL=DEBUG shows it).
    (line,) = access_lines(caplog)
    assert line.levelno == logging.DEBUG and line.route == "/livez"
