"""With APP_ENV=production every process refuses to start on an unsafe setting: the real entry
points (`python -m <name>_service`, gunicorn with the gateway's configuration, create_app) exit
non-zero with one line on stderr naming the variable, and no key is ever generated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cc_common import config
from cc_common.testing import token_settings_in

from tests.e2e.harness import _OWN_PREFIXES, GUNICORN_CONF, child_env

SERVICES = ("identity", "contract", "package", "merge")


def production_env(var_dir: Path, process: str) -> dict[str, str]:
    """A production environment that passes every check for `process`."""
    env = {
        "APP_ENV": "production",
        "VAR_DIR": str(var_dir),
        "PUBLIC_BASE_URL": "https://customer-center.example",
        "LISTEN_ADDR": "127.0.0.1:0",
    }
    if process in SERVICES:
        env["DATABASE_URL"] = f"postgresql+psycopg://customercenter:a-real-secret@127.0.0.1:1/{process}"
    if process == "identity":
        env["STAFF_PASSWORD"] = "a long and unusual staff secret"
        env["STAFF_TOTP_SECRET"] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    if process == "contract":
        env.update(SEPA_CREDITOR_IBAN="DE89370400440532013000", SEPA_CREDITOR_ID="DE21ZZZ00001234567")
    return env


@pytest.fixture
def var_dir(tmp_path) -> Path:
    token_settings_in(tmp_path / "var")  # every key pair under var/keys, made outside production
    return tmp_path / "var"


def _clear(monkeypatch) -> None:
    for name in list(os.environ):
        if name.startswith(_OWN_PREFIXES) or name.startswith("GRPC_TLS_"):
            monkeypatch.delenv(name)


# --- the rule, in process ---------------------------------------------------------------------


@pytest.mark.parametrize("process", config.PROCESSES)
def test_a_safe_production_environment_passes_for_every_process(var_dir, monkeypatch, process):
    _clear(monkeypatch)
    for name, value in production_env(var_dir, process).items():
        monkeypatch.setenv(name, value)
    assert config.unsafe_production_settings(process) == []


UNSAFE = [
    ("identity", "STAFF_PASSWORD", {"STAFF_PASSWORD": None}),
    ("identity", "STAFF_PASSWORD", {"STAFF_PASSWORD": "admin-password"}),
    ("identity", "STAFF_PASSWORD", {"STAFF_PASSWORD": "staff-demo-password"}),
    ("identity", "STAFF_TOTP_SECRET", {"STAFF_TOTP_SECRET": None}),
    ("contract", "DATABASE_URL", {"DATABASE_URL": None}),
    ("package", "DATABASE_URL", {"DATABASE_URL": "sqlite:///var/package.db"}),
    (
        "merge",
        "DATABASE_URL",
        {"DATABASE_URL": "postgresql+psycopg://customercenter:customercenter@db/merge"},
    ),
    ("contract", "FAULT_INJECT", {"FAULT_INJECT": "contract:after_commit:TransferContracts"}),
    ("contract", "CARD_PAYMENTS", {"CARD_PAYMENTS": "test"}),
    ("contract", "SEPA_CREDITOR_ID", {"SEPA_CREDITOR_ID": None}),
    ("gateway", "PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": "http://customer-center.example"}),
    ("gateway", "PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": None}),
    ("package", "PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": "http://127.0.0.1:8000"}),
    ("gateway", "JWT_SIGNING_KEY_FILE", {"JWT_SIGNING_KEY_FILE": "/nonexistent/jwt-signing.pem"}),
    ("merge", "MERGE_SERVICE_KEY_FILE", {"MERGE_SERVICE_KEY_FILE": "/nonexistent/service-merge.pem"}),
    (
        "identity",
        "GATEWAY_SERVICE_PUBLIC_KEY_FILE",
        {"GATEWAY_SERVICE_PUBLIC_KEY_FILE": "/nonexistent/x.pub.pem"},
    ),
    ("package", "GRPC_TLS_CA", {"GRPC_TLS_CERT": "/tls/cert.pem", "GRPC_TLS_KEY": "/tls/key.pem"}),
]


@pytest.mark.parametrize(
    "process, variable, change", UNSAFE, ids=[f"{p}-{v}-{i}" for i, (p, v, _) in enumerate(UNSAFE)]
)
def test_each_unsafe_setting_is_named(var_dir, monkeypatch, process, variable, change):
    _clear(monkeypatch)
    env = {**production_env(var_dir, process), **change}
    for name, value in env.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    problems = config.unsafe_production_settings(process)
    assert len(problems) == 1 and variable in problems[0], problems


def test_outside_production_nothing_is_refused(monkeypatch, tmp_path):
    _clear(monkeypatch)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("FAULT_INJECT", "merge:before:move_packages")
    assert all(config.unsafe_production_settings(p) == [] for p in config.PROCESSES)


def test_no_key_is_generated_in_production(monkeypatch, tmp_path):
    from cc_common.tokens import ensure_all_keys

    _clear(monkeypatch)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    with pytest.raises(config.UnsafeSettings, match="jwt-signing.pem"):
        ensure_all_keys(config.TokenSettings.from_env())
    assert not (tmp_path / "var" / "keys").exists() or not any((tmp_path / "var" / "keys").iterdir())


def test_the_gateway_app_is_created_in_a_safe_production_environment(var_dir, monkeypatch):
    from gateway_app import create_app

    _clear(monkeypatch)
    for name, value in production_env(var_dir, "gateway").items():
        monkeypatch.setenv(name, value)
    app = create_app()
    assert app.config["PUBLIC_BASE_URL"] == "https://customer-center.example"


# --- the real entry points --------------------------------------------------------------------


def _run(argv: list[str], env: dict[str, str | None], cwd: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in child_env().items() if not k.startswith("GRPC_TLS_")}
    for name, value in env.items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return subprocess.run(argv, env=base, cwd=cwd, capture_output=True, text=True, timeout=60)


def _entry_point(process: str) -> list[str]:
    if process == "gateway":
        return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind", "127.0.0.1:0",
                "gateway_app:create_app()"]  # fmt: skip
    return [sys.executable, "-m", f"{process}_service"]


ENTRY_POINT_CASES = [
    ("identity", "STAFF_PASSWORD", {"STAFF_PASSWORD": "staff-demo-password"}),
    ("identity", "STAFF_PASSWORD", {"STAFF_PASSWORD": None}),
    ("contract", "DATABASE_URL", {"DATABASE_URL": "sqlite:////tmp/contract.db"}),
    ("package", "DATABASE_URL", {"DATABASE_URL": None}),
    (
        "package",
        "DATABASE_URL",
        {"DATABASE_URL": "postgresql+psycopg://customercenter:customercenter@postgres:5432/package"},
    ),
    ("merge", "FAULT_INJECT", {"FAULT_INJECT": "merge:before:move_packages"}),
    ("merge", "MERGE_SERVICE_KEY_FILE", {"MERGE_SERVICE_KEY_FILE": "/nonexistent/service-merge.pem"}),
    ("identity", "PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": "http://127.0.0.1:8000"}),
    ("gateway", "PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": "http://127.0.0.1:8000"}),
    ("gateway", "JWT_SIGNING_KEY_FILE", {"JWT_SIGNING_KEY_FILE": "/nonexistent/jwt-signing.pem"}),
    ("gateway", "FAULT_INJECT", {"FAULT_INJECT": "gateway:anything"}),
]


@pytest.mark.parametrize(
    "process, variable, change",
    ENTRY_POINT_CASES,
    ids=[f"{p}-{v}-{i}" for i, (p, v, _) in enumerate(ENTRY_POINT_CASES)],
)
def test_the_real_entry_point_refuses_to_start_with_one_line_naming_the_variable(
    var_dir, tmp_path, process, variable, change
):
    done = _run(_entry_point(process), {**production_env(var_dir, process), **change}, tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{process}: refusing to start with APP_ENV=production: ")
    assert variable in lines[0]


def test_a_service_started_in_production_without_keys_generates_none(tmp_path):
    var = tmp_path / "var"
    done = _run(_entry_point("contract"), production_env(var, "contract"), tmp_path)
    assert done.returncode != 0
    assert "JWT_PUBLIC_KEY_FILE" in done.stderr and "CONTRACT_SERVICE_KEY_FILE" in done.stderr
    assert not (var / "keys").exists()


def test_the_gateways_create_app_refuses_as_well(var_dir, tmp_path):
    script = "from gateway_app import create_app; create_app()"
    env = {
        **production_env(var_dir, "gateway"),
        "GATEWAY_SERVICE_KEY_FILE": "/nonexistent/service-gateway.pem",
    }
    done = _run([sys.executable, "-c", script], env, tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "gateway: refusing to start with APP_ENV=production: GATEWAY_SERVICE_KEY_FILE: "
        "/nonexistent/service-gateway.pem does not exist (keys are never generated in production)"
    ]


@pytest.mark.parametrize(
    "process, variable, value",
    [("identity", "LOGIN_LOCKOUT_SECONDS", "5 minutes"), ("gateway", "GATEWAY_WORKERS", "two")],
)
def test_a_value_of_the_wrong_type_stops_the_entry_point_with_one_line_in_any_environment(
    tmp_path, process, variable, value
):
    env = {"APP_ENV": "development", "VAR_DIR": str(tmp_path / "var"), variable: value}
    done = _run(_entry_point(process), env, tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"{process}: refusing to start: {variable} must be an integer, not {value!r}"
    ]
