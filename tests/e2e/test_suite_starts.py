"""The five real processes start and the gateway reports them healthy."""

from __future__ import annotations

from tests.e2e.harness import SERVICES


def test_healthz_is_200_and_names_the_four_services(suite):
    reply = suite.api("GET", "/healthz")
    assert reply.status_code == 200, reply.text
    body = reply.text.lower()
    for name in SERVICES:
        assert name in body, f"/healthz does not mention {name}: {reply.text}"


def test_staff_logs_in_with_the_configured_credentials(suite):
    token = suite.staff_token(fresh=True)
    assert token.count(".") == 2
