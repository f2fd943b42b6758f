"""Every environment variable the processes read, typed, in pydantic-settings classes.

Each class is one group: `SharedSettings` (all five processes), `ServiceSettings` (the four
gRPC services), `MailSettings` (the services that send mails: identity, contract, merge),
`GatewayEnv`, `IdentityEnv` and `MergeEnv`; contract- and package-service have no variable of
their own. `PROCESS_SETTINGS` says which groups each process reads. The typed values are read
here and nowhere else; `cc_common.config` and each bootstrap turn them into the objects the
code uses (TokenSettings, ServiceAddresses, each service's Settings) and check the rules that
span variables. An empty variable counts as unset, as it always has.

`python -m cc_common.settings --markdown` prints the table of every variable; the README's
"Configuration" section holds it between marker comments (`make env-docs`, i.e. `--readme
README.md`, rewrites it; tests/test_settings_docs.py fails when it differs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

PROCESSES = ("gateway", "identity", "contract", "package", "merge")


def shown(text: str) -> dict[str, Any]:
    """The default as the table shows it, for a field whose real default is computed at run
    time (a path under the repository, the number of cores, one value per process)."""
    return {"shown_default": text}


class InvalidSetting(RuntimeError):
    """A variable whose value is not of its type; the message names the variable."""


class EnvGroup(BaseSettings):
    """One group of variables; `load()` reads them from the environment now."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    title: ClassVar[str] = ""

    @classmethod
    def load(cls) -> Self:
        try:
            return cls()
        except ValidationError as exc:
            raise InvalidSetting(_message(exc)) from None


def _message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    variable = str(error["loc"][0]).upper()
    raw = error.get("input")
    if error["type"].startswith("int_"):
        return f"{variable} must be an integer, not {raw!r}"
    if error["type"].startswith("float_"):
        return f"{variable} must be a number, not {raw!r}"
    return f"{variable}: {error['msg']} ({raw!r})"


class SharedSettings(EnvGroup):
    title: ClassVar[str] = "every process"

    app_env: str = Field(
        "development",
        description='`production` refuses unsafe settings (see "Production") and turns gRPC reflection off',
    )
    var_dir: str | None = Field(
        None,
        description="local state: SQLite files, keys, mail files",
        json_schema_extra=shown("`var/` (in the repository)"),
    )
    log_format: str = Field(
        "json",
        description="`json`: one JSON object per line on stderr (time, level, service, message, trace and span ids, access lines of the gateway and of every gRPC call); `text`: one readable line (`make run` sets it; [docs/observability.md](docs/observability.md))",
    )
    log_level: str = Field(
        "INFO",
        description="the lowest level logged; `DEBUG` also shows the access lines of probes that answer",
    )
    identity_addr: str = Field(
        "127.0.0.1:50051",
        description="where identity-service is: one `host:port`, a list of copies as IP addresses (`10.0.0.5:50051,10.0.0.6:50051`; `localhost` counts as `127.0.0.1`) or one name resolving to every copy (`dns:///identity:50051`); calls are spread over the copies and reads are retried on another copy ([docs/copies.md](docs/copies.md))",
    )
    contract_addr: str = Field(
        "127.0.0.1:50052", description="where contract-service is (the same forms as `IDENTITY_ADDR`)"
    )
    package_addr: str = Field(
        "127.0.0.1:50053", description="where package-service is (the same forms as `IDENTITY_ADDR`)"
    )
    merge_addr: str = Field(
        "127.0.0.1:50054", description="where merge-service is (the same forms as `IDENTITY_ADDR`)"
    )
    grpc_timeout_seconds: float = Field(5.0, description="deadline of every gRPC call")
    jwt_issuer: str = Field("customer-center", description="`iss` claim of every token")
    jwt_audience: str = Field("customer-center-api", description="`aud` claim of user tokens")
    service_audience: str = Field(
        "customer-center-internal", description="`aud` claim of the services' credentials"
    )
    token_ttl_seconds: int = Field(3600, description="lifetime of the user tokens the gateway issues")
    jwt_signing_key_file: str | None = Field(
        None,
        description="Ed25519 private key of user tokens (the gateway signs)",
        json_schema_extra=shown("`$VAR_DIR/keys/jwt-signing.pem`"),
    )
    jwt_public_key_file: str | None = Field(
        None,
        description="its public key (the services verify)",
        json_schema_extra=shown("`$VAR_DIR/keys/jwt-signing.pub.pem`"),
    )
    gateway_service_key_file: str | None = Field(
        None,
        description="private key of the gateway's internal credential (`service:gateway`)",
        json_schema_extra=shown("`$VAR_DIR/keys/service-gateway.pem`"),
    )
    gateway_service_public_key_file: str | None = Field(
        None, description="its public key", json_schema_extra=shown("`$VAR_DIR/keys/service-gateway.pub.pem`")
    )
    merge_service_key_file: str | None = Field(
        None,
        description="private key of merge-service's credential (`service:merge`), the only one the merge steps accept",
        json_schema_extra=shown("`$VAR_DIR/keys/service-merge.pem`"),
    )
    merge_service_public_key_file: str | None = Field(
        None, description="its public key", json_schema_extra=shown("`$VAR_DIR/keys/service-merge.pub.pem`")
    )
    contract_service_key_file: str | None = Field(
        None,
        description="private key of contract-service's credential, good for nothing but watching identity's revocations",
        json_schema_extra=shown("`$VAR_DIR/keys/service-contract.pem`"),
    )
    contract_service_public_key_file: str | None = Field(
        None,
        description="its public key",
        json_schema_extra=shown("`$VAR_DIR/keys/service-contract.pub.pem`"),
    )
    package_service_key_file: str | None = Field(
        None,
        description="private key of package-service's credential, good for nothing but watching identity's revocations",
        json_schema_extra=shown("`$VAR_DIR/keys/service-package.pem`"),
    )
    package_service_public_key_file: str | None = Field(
        None, description="its public key", json_schema_extra=shown("`$VAR_DIR/keys/service-package.pub.pem`")
    )
    grpc_tls_cert: str = Field(
        "",
        description="all three of `GRPC_TLS_CERT`, `GRPC_TLS_KEY`, `GRPC_TLS_CA` or none: this process's certificate chain (PEM), as server and as client (extended key usage serverAuth and clientAuth); it must name the host of the `*_ADDR` that reaches it (and `127.0.0.1` for the container health checks)",
        json_schema_extra=shown("unset (plaintext gRPC)"),
    )
    grpc_tls_key: str = Field(
        "", description="the private key of `GRPC_TLS_CERT`", json_schema_extra=shown("unset")
    )
    grpc_tls_ca: str = Field(
        "",
        description="the CA that signed every process's certificate: servers require a client certificate from it, clients check the server's against it",
        json_schema_extra=shown("unset"),
    )
    grpc_tls_server_name: str = Field(
        "",
        description="with mTLS, the name every server certificate is checked against",
        json_schema_extra=shown("the host of the `*_ADDR` (its first entry, for a list of copies)"),
    )
    public_base_url: str | None = Field(
        None,
        description="base of the links in mails (reset links, e-mail restore links, merge objection links; each process's own setting, never taken from a request's Host); checked wherever it is set, required by identity, merge and the gateway in production",
        json_schema_extra=shown("`http://127.0.0.1:8000` (the gateway: none)"),
    )
    metrics_host: str = Field(
        "127.0.0.1", description="address `/metrics` listens on (`0.0.0.0` in the containers)"
    )


class ServiceSettings(EnvGroup):
    title: ClassVar[str] = "each gRPC service"

    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the service's own database (`postgresql+psycopg://...` in production)",
        json_schema_extra=shown("`sqlite:///$VAR_DIR/<service>.db`"),
    )
    listen_addr: str | None = Field(
        None,
        description="address the gRPC server binds",
        json_schema_extra=shown("the service's `*_ADDR` when that is one `host:port` (else required)"),
    )
    grpc_drain_seconds: str = Field(
        "2",
        description="on SIGTERM, how long a service reports `NOT_SERVING` while still taking calls before it refuses new ones and finishes those in flight (at most 5 s more); a second signal cuts it short ([docs/copies.md](docs/copies.md))",
    )
    metrics_port: str | None = Field(
        None,
        description="port of the service's Prometheus `/metrics` (never its gRPC port); `0`: none. A port that cannot be bound is logged and the service runs on without metrics ([docs/observability.md](docs/observability.md))",
        json_schema_extra=shown("identity `9101`, contract `9102`, package `9103`, merge `9104`"),
    )


class MailSettings(EnvGroup):
    title: ClassVar[str] = "the services that send mails"

    smtp_host: str = Field(
        "",
        description="outgoing mail server",
        json_schema_extra=shown("unset (mails go to `$VAR_DIR/mail/*.eml`)"),
    )
    smtp_port: int = Field(25, description="its port")
    mail_from: str = Field(
        "Customer Center <service@customer-center.example>", description="sender of the mails"
    )
    outbox_lease_seconds: int = Field(
        60,
        description="how long one copy's claim on an outbox mail lasts; a mail left `sending` by a copy that died is sent again after it, with the same `Message-ID` ([docs/outbox.md](docs/outbox.md)); keep it well above the SMTP timeout (10 s)",
    )
    outbox_max_attempts: int = Field(
        10, description="delivery attempts of one mail before it is marked failed"
    )


class GatewayEnv(EnvGroup):
    title: ClassVar[str] = "the gateway"

    gateway_host: str = Field(
        "127.0.0.1",
        description="address the gateway's gunicorn binds (`0.0.0.0` in the container); a `--bind` on the command line wins",
    )
    gateway_port: int = Field(8000, description="HTTP port of the gateway")
    gateway_workers: int = Field(2, description="gunicorn gthread worker processes")
    gateway_threads: int = Field(4, description="threads of each worker")
    gateway_reuse_port: str = Field(
        "1",
        description="`1`: one listening socket per worker (SO_REUSEPORT), so the kernel balances connections; `0`: one shared socket",
    )
    gateway_metrics_port: str = Field(
        "9100",
        description="port of the gateway's `/metrics`, served by the gunicorn master with the sum of its workers (never on `GATEWAY_PORT`); `0`: none",
    )
    trusted_proxies: str = Field(
        "",
        description="addresses or networks of the reverse proxies directly in front of the gateway, separated by commas or spaces (`10.0.0.5, 10.1.0.0/16, fd00::/8`); only from these peers do `X-Forwarded-For` (the client address, for login throttling) and `X-Forwarded-Proto` (https: `Secure` cookies and HSTS) count, one hop each. An invalid entry stops the gateway at start-up ([docs/http.md](docs/http.md))",
        json_schema_extra=shown("empty (nobody)"),
    )


class IdentityEnv(EnvGroup):
    title: ClassVar[str] = "identity-service"

    staff_username: str = Field("admin", description="the service team's account (`make run` sets `staff`)")
    staff_password: str = Field(
        "admin-password",
        description="its password (`make run` sets `staff-demo-password`); refused in production when missing or a shipped default; a changed one at start-up revokes the staff tokens issued before",
    )
    staff_totp_secret: str = Field(
        "",
        description="the staff account's TOTP secret (base32, at least 32 characters) for its second factor; required in production; empty: staff log in with the password alone (development only)",
    )
    login_max_failures_per_account: int = Field(
        5,
        description="failed logins of one account before it is locked; the account of a package login is the package, whichever of its domains is typed",
    )
    login_max_failures_per_address: int = Field(
        20, description="failed logins from one client address before it is locked"
    )
    login_failure_window_seconds: int = Field(900, description="the window the failed logins are counted in")
    login_lockout_seconds: int = Field(300, description="how long a lock lasts")
    second_factor_challenge_ttl_seconds: int = Field(
        300,
        description="how long a login whose password was right waits for its second factor (the challenge is single use)",
    )
    password_reset_ttl_seconds: int = Field(1800, description="how long a reset link works (once)")
    password_reset_max_mails_per_hour: int = Field(
        3, description="reset mails to one customer number per hour"
    )
    password_reset_max_valid_links: int = Field(
        3,
        description="reset links of one number valid at the same time (a new request never voids one; a reset with one voids the others)",
    )
    password_reset_max_requests_per_address: int = Field(
        10,
        description="reset requests from one client address per hour, for any number; over a limit the answer is still 202 and no mail is sent",
    )
    hash_threads: int = Field(
        0,
        description="threads hashing passwords (argon2); in a container, set it to the CPU limit",
        json_schema_extra=shown("the number of cores"),
    )
    revocation_ack_timeout_seconds: float = Field(
        1.0,
        description="how long a revoking call (logout, password change) waits for every watcher to apply it",
    )
    revocation_replica_ttl_seconds: float = Field(
        5.0,
        description="PostgreSQL only: after how long without a heartbeat another identity copy counts as dead and a revoking call stops waiting for its watchers (heartbeats every fifth of it; see [docs/passwords-and-sessions.md](docs/passwords-and-sessions.md))",
    )


class ContractEnv(EnvGroup):
    title: ClassVar[str] = "contract-service"

    terminations_poll_seconds: float = Field(
        60.0,
        description="how often every copy carries out the terminations that are due (one transaction each, each carried out once however many copies run); `0`: never (another process does it)",
    )
    sepa_creditor_name: str = Field(
        "Customer Center Hosting", description="the creditor's name in the SEPA direct debit files"
    )
    sepa_creditor_iban: str = Field(
        "DE02120300000000202051",
        description="the account the direct debits are collected into (the default is a published test IBAN; refused in production)",
    )
    sepa_creditor_bic: str = Field("BYLADEM1001", description="its BIC")
    sepa_creditor_id: str = Field(
        "DE98ZZZ09999999999",
        description="the SEPA creditor identifier (the default is the published test identifier; refused in production)",
    )
    card_payments: Literal["none", "test"] = Field(
        "none",
        description="the card payment provider a repeat debit of a card-paid invoice goes through: `none` (the request is recorded for the service team) or `test` (a stand-in that approves every token not ending in `_declined` and moves no money; refused in production)",
    )


class MergeEnv(EnvGroup):
    title: ClassVar[str] = "merge-service"

    merge_review: str = Field(
        "manual",
        description="`auto`: a submitted merge is approved at once (never one proven with a package password: that one always goes to the service team)",
    )
    merge_objection_hours: int = Field(
        72,
        description="a merge proven with a package password: how long after the absorbed number was told staff must wait before approving it, unless the absorbed customer confirms earlier ([docs/trust-boundaries.md](docs/trust-boundaries.md))",
    )
    merge_lease_seconds: float = Field(
        15.0,
        description="how long one copy's claim on a merge saga lasts without renewal (renewed every third of it while the copy works); a merge whose copy died is finished by another copy at most this long (plus a poll) later ([docs/merge-saga.md](docs/merge-saga.md))",
    )
    merge_poll_seconds: float = Field(
        1.0, description="how often every copy looks for due merge sagas (a lease expired, a retry due)"
    )


GROUPS: tuple[type[EnvGroup], ...] = (
    SharedSettings, ServiceSettings, MailSettings, GatewayEnv, IdentityEnv, ContractEnv, MergeEnv,
)  # fmt: skip

# The groups each process reads.
PROCESS_SETTINGS: dict[str, tuple[type[EnvGroup], ...]] = {
    "gateway": (SharedSettings, GatewayEnv),
    "identity": (SharedSettings, ServiceSettings, MailSettings, IdentityEnv),
    "contract": (SharedSettings, ServiceSettings, MailSettings, ContractEnv),
    "package": (SharedSettings, ServiceSettings),
    "merge": (SharedSettings, ServiceSettings, MailSettings, MergeEnv),
}

# Variables the code reads that are no setting of the product, with why.
TEST_HOOKS = {
    "FAULT_INJECT": "crash points for the crash and cluster tests (`common/cc_common/faults.py`; "
    "`hang:<point>` makes the thread wait for ever, `delay:<Servicer.Method>=<seconds>` holds every "
    "call of that RPC); refused in production",
    "FAULT_INJECT_FILE": "a file of such points, read at every point, so a test can set points "
    "while the copies run; refused in production",
}
INTERNAL = {
    "PROMETHEUS_MULTIPROC_DIR": "set by the gateway's gunicorn master for its workers "
    "(`gateway/gateway_metrics.py`), never by hand",
}
# Read by OpenTelemetry's SDK itself (and by cc_common.telemetry to know whether to export).
OTEL_PREFIX = "OTEL_"


def variables() -> dict[str, type[EnvGroup]]:
    """Every variable, mapped to the group that declares it."""
    return {name.upper(): group for group in GROUPS for name in group.model_fields}


def readers(variable: str) -> str:
    name = variable.lower()
    processes = [p for p in PROCESSES if any(name in g.model_fields for g in PROCESS_SETTINGS[p])]
    if len(processes) == len(PROCESSES):
        return "all"
    if processes == ["identity", "contract", "package", "merge"]:
        return "each service"
    return ", ".join(processes)


def _default(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    if field.default in ("", None):
        return "unset"
    return f"`{field.default}`"


def markdown() -> str:
    """The table of every variable, then the OpenTelemetry variables and the test hooks."""
    lines = ["| variable | default | read by | meaning |", "| --- | --- | --- | --- |"]
    for group in GROUPS:
        for name, field in group.model_fields.items():
            variable = name.upper()
            lines.append(f"| `{variable}` | {_default(field)} | {readers(variable)} | {field.description} |")
    lines += [
        "",
        "The standard OpenTelemetry variables are read by its SDK in every process: "
        "`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; unset: nothing is "
        "exported, a client's `traceparent` is still passed on), `OTEL_SERVICE_NAME` and "
        "`OTEL_RESOURCE_ATTRIBUTES` (default: the process's name), `OTEL_TRACES_SAMPLER`, "
        "`OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_*`, `OTEL_PROPAGATORS` "
        "(default `tracecontext`), `OTEL_PYTHON_FLASK_EXCLUDED_URLS` (default `/healthz`, `/static/`); "
        "`OTEL_TRACES_EXPORTER=none` exports nothing, `OTEL_SDK_DISABLED=true` turns the "
        "instrumentation off altogether ([docs/observability.md](docs/observability.md)).",
        "",
        "Read by the code but no settings: "
        + "; ".join(f"`{name}`, {why}" for name, why in {**TEST_HOOKS, **INTERNAL}.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


# The README's generated section lies between these two lines.
START_MARKER = "<!-- env-vars:start"
END_MARKER = "<!-- env-vars:end -->"


def with_table(readme: str) -> str:
    """`readme` with `markdown()` between its markers (each kept on its own line)."""
    start = readme.index("\n", readme.index(START_MARKER)) + 1
    end = readme.index(END_MARKER, start)
    return readme[:start] + "\n" + markdown() + "\n" + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_common.settings", description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the table of every variable")
    parser.add_argument("--readme", metavar="PATH", help="write the table into PATH between its markers")
    args = parser.parse_args(argv)
    if args.readme:
        path = Path(args.readme)
        path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    elif args.markdown:
        sys.stdout.write(markdown())
    else:
        parser.print_help()
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
