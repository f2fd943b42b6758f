"""Fixtures of the unit tests. Gateway fixtures are named gateway_*."""

from __future__ import annotations

import pytest
from cc_common.config import ServiceAddresses
from cc_common.revocation import RevocationState
from cc_common.testing import TokenFactory, token_settings_in


@pytest.fixture
def gateway_settings(tmp_path):
    from gateway_app.settings import GatewaySettings

    return GatewaySettings(
        tokens=token_settings_in(tmp_path),
        addresses=ServiceAddresses("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"),
        grpc_timeout=1.0,
    )


@pytest.fixture
def gateway_backends():
    from gateway_app.testing import fake_backends

    return fake_backends()


@pytest.fixture
def gateway_revocation():
    """A revocation replica that has had its first (empty) snapshot."""
    state = RevocationState()
    state.apply(sequence=1, snapshot=True)
    return state


@pytest.fixture
def gateway_app(gateway_settings, gateway_backends, gateway_revocation):
    from gateway_app import create_app

    return create_app(
        {
            "TESTING": True,
            "GATEWAY_SETTINGS": gateway_settings,
            "BACKENDS": gateway_backends,
            "REVOCATION_STATE": gateway_revocation,
            "REVOCATION_SYNC_WAIT": 0.05,
        }
    )


@pytest.fixture
def gateway_client(gateway_app):
    return gateway_app.test_client()


@pytest.fixture
def gateway_tokens(gateway_settings):
    """Mints user tokens with the gateway's keys (customer, package, staff)."""
    return TokenFactory(gateway_settings.tokens)


@pytest.fixture
def gateway_auth(gateway_tokens):
    """gateway_auth(token) -> the headers of a request with that bearer token."""
    return lambda token: {"Authorization": f"Bearer {token}"}
