"""Settings read from the environment, once, in each process's composition root.

Defaults suit a local development run (`make run`): state under `var/`, SQLite, keys
generated on first start. With APP_ENV=production a default secret is refused
(after full-stack-fastapi-template's `core/config.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, not {raw!r}") from exc


def var_dir() -> Path:
    return Path(env("VAR_DIR", str(REPO_ROOT / "var")))


def is_production() -> bool:
    return env("APP_ENV", "development") == "production"


def default_database_url(service: str) -> str:
    return f"sqlite:///{var_dir() / (service + '.db')}"


@dataclass(frozen=True)
class TokenSettings:
    """Where the keys live and what the tokens say. Shared by signers and verifiers."""

    issuer: str
    audience: str
    service_audience: str
    signing_key_file: Path
    public_key_file: Path
    service_key_file: Path
    service_public_key_file: Path
    ttl_seconds: int

    @classmethod
    def from_env(cls) -> TokenSettings:
        keys = var_dir() / "keys"
        return cls(
            issuer=env("JWT_ISSUER", "customer-center"),
            audience=env("JWT_AUDIENCE", "customer-center-api"),
            service_audience=env("SERVICE_AUDIENCE", "customer-center-internal"),
            signing_key_file=Path(env("JWT_SIGNING_KEY_FILE", str(keys / "jwt-signing.pem"))),
            public_key_file=Path(env("JWT_PUBLIC_KEY_FILE", str(keys / "jwt-signing.pub.pem"))),
            service_key_file=Path(env("SERVICE_KEY_FILE", str(keys / "service.pem"))),
            service_public_key_file=Path(
                env("SERVICE_PUBLIC_KEY_FILE", str(keys / "service.pub.pem"))
            ),
            ttl_seconds=env_int("TOKEN_TTL_SECONDS", 3600),
        )


DEFAULT_IDENTITY_ADDR = "127.0.0.1:50051"


@dataclass(frozen=True)
class ServiceAddresses:
    """`<SERVICE>_ADDR` of every gRPC service."""

    identity: str
    contract: str
    package: str
    merge: str

    @classmethod
    def from_env(cls) -> ServiceAddresses:
        return cls(
            identity=env("IDENTITY_ADDR", DEFAULT_IDENTITY_ADDR),
            contract=env("CONTRACT_ADDR", "127.0.0.1:50052"),
            package=env("PACKAGE_ADDR", "127.0.0.1:50053"),
            merge=env("MERGE_ADDR", "127.0.0.1:50054"),
        )


def grpc_timeout() -> float:
    """The deadline of every gRPC call, in seconds."""
    return float(env("GRPC_TIMEOUT_SECONDS", "5"))
