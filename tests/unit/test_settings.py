"""The typed settings (cc_common.settings): defaults, empty means unset, a value of the wrong
type is refused with the variable's name, and the objects the code uses are built from them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cc_common import config
from cc_common.settings import (
    GROUPS,
    PROCESS_SETTINGS,
    IdentityEnv,
    InvalidSetting,
    MergeEnv,
    SharedSettings,
    variables,
)


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name in variables():
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_defaults_are_those_of_make_run(clean_env):
    tokens = config.TokenSettings.from_env()
    assert (tokens.issuer, tokens.audience, tokens.ttl_seconds) == (
        "customer-center",
        "customer-center-api",
        3600,
    )
    assert tokens.signing_key_file == config.REPO_ROOT / "var" / "keys" / "jwt-signing.pem"
    assert config.ServiceAddresses.from_env() == config.ServiceAddresses(
        "127.0.0.1:50051", "127.0.0.1:50052", "127.0.0.1:50053", "127.0.0.1:50054"
    )
    assert config.grpc_timeout() == 5.0 and config.GrpcTls.from_env() is None
    identity = IdentityEnv.load()
    assert (identity.staff_username, identity.login_max_failures_per_account, identity.hash_threads) == (
        "admin",
        5,
        0,
    )
    assert MergeEnv.load().merge_lease_seconds == 15.0


def test_an_empty_variable_counts_as_unset(clean_env, tmp_path):
    clean_env.setenv("VAR_DIR", str(tmp_path))
    clean_env.setenv("TOKEN_TTL_SECONDS", "")
    clean_env.setenv("GATEWAY_SERVICE_KEY_FILE", "")
    tokens = config.TokenSettings.from_env()
    assert tokens.ttl_seconds == 3600
    assert tokens.service_key("gateway").private == Path(tmp_path) / "keys" / "service-gateway.pem"


def test_values_are_read_when_loaded(clean_env):
    clean_env.setenv("MERGE_ADDR", "dns:///merge:50054")
    clean_env.setenv("CONTRACT_SERVICE_PUBLIC_KEY_FILE", "/keys/c.pub.pem")
    clean_env.setenv("LOGIN_LOCKOUT_SECONDS", "60")
    assert config.ServiceAddresses.from_env().merge == "dns:///merge:50054"
    assert config.TokenSettings.from_env().service_key("contract").public == Path("/keys/c.pub.pem")
    assert IdentityEnv.load().login_lockout_seconds == 60


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("TOKEN_TTL_SECONDS", "an hour", "TOKEN_TTL_SECONDS must be an integer, not 'an hour'"),
        ("GRPC_TIMEOUT_SECONDS", "5s", "GRPC_TIMEOUT_SECONDS must be a number, not '5s'"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_variable(clean_env, variable, value, message):
    clean_env.setenv(variable, value)
    with pytest.raises(InvalidSetting) as caught:
        SharedSettings.load()
    assert str(caught.value) == message


def test_the_start_up_check_refuses_a_wrong_type_in_one_line_in_any_environment(clean_env):
    clean_env.setenv("LOGIN_LOCKOUT_SECONDS", "5 minutes")
    with pytest.raises(config.UnsafeSettings) as caught:
        config.refuse_unsafe_production_settings("identity")
    assert (
        str(caught.value)
        == "identity: refusing to start: LOGIN_LOCKOUT_SECONDS must be an integer, not '5 minutes'"
    )
    config.refuse_unsafe_production_settings("gateway")  # the gateway does not read it


def test_every_variable_has_a_one_line_description_and_one_group():
    names = [name for group in GROUPS for name in group.model_fields]
    assert len(names) == len(set(names))
    for group in GROUPS:
        for name, field in group.model_fields.items():
            assert field.description and "\n" not in field.description, name
    assert set(PROCESS_SETTINGS) == set(config.PROCESSES)
