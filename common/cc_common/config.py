"""Settings read from the environment, once, in each process's composition root.

The variables themselves, typed, with their defaults and descriptions, are the
pydantic-settings classes of `cc_common.settings`; this module builds what the code uses from
them (TokenSettings, ServiceAddresses, GrpcTls, ...) and checks the rules that span variables.
Defaults suit a local development run (`make run`): state under `var/`, SQLite, keys
generated on first start (`make keys`). With APP_ENV=production every process refuses to
start on an unsafe setting (`refuse_unsafe_production_settings`, called first thing by each
composition root): one line on stderr naming the variable, and a non-zero exit.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cc_common.settings import (
    PROCESS_SETTINGS,
    ContractEnv,
    GatewayEnv,
    IdentityEnv,
    InvalidSetting,
    ServiceSettings,
    SharedSettings,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def var_dir(shared: SharedSettings | None = None) -> Path:
    shared = shared or SharedSettings.load()
    return Path(shared.var_dir or REPO_ROOT / "var")


def is_production() -> bool:
    return SharedSettings.load().app_env == "production"


def default_database_url(service: str) -> str:
    return f"sqlite:///{var_dir() / (service + '.db')}"


# The processes that present a service credential of their own, each signed with its own
# Ed25519 key and verified as exactly `service:<name>`: the gateway and merge-service call other
# services; contract- and package-service only watch identity's revocations with theirs.
SERVICE_CALLERS = ("gateway", "merge", "contract", "package")
# The variables naming each caller's key files: (private key, public key).
SERVICE_KEY_VARIABLES = {
    "gateway": ("GATEWAY_SERVICE_KEY_FILE", "GATEWAY_SERVICE_PUBLIC_KEY_FILE"),
    "merge": ("MERGE_SERVICE_KEY_FILE", "MERGE_SERVICE_PUBLIC_KEY_FILE"),
    "contract": ("CONTRACT_SERVICE_KEY_FILE", "CONTRACT_SERVICE_PUBLIC_KEY_FILE"),
    "package": ("PACKAGE_SERVICE_KEY_FILE", "PACKAGE_SERVICE_PUBLIC_KEY_FILE"),
}


@dataclass(frozen=True)
class ServiceKeyFiles:
    """The key pair of one calling service: `<NAME>_SERVICE_KEY_FILE` (private, only in the
    process that signs with it) and `<NAME>_SERVICE_PUBLIC_KEY_FILE` (every verifier)."""

    name: str
    private: Path
    public: Path

    @property
    def subject(self) -> str:
        return f"service:{self.name}"

    @property
    def private_variable(self) -> str:
        return SERVICE_KEY_VARIABLES[self.name][0]

    @property
    def public_variable(self) -> str:
        return SERVICE_KEY_VARIABLES[self.name][1]


def service_key_files(keys_dir: Path, name: str, shared: SharedSettings | None = None) -> ServiceKeyFiles:
    """The key files of caller `name`: its variables from `shared`, else under `keys_dir`."""
    files = ServiceKeyFiles(name, keys_dir / f"service-{name}.pem", keys_dir / f"service-{name}.pub.pem")
    if shared is None:
        return files
    return ServiceKeyFiles(
        name,
        Path(getattr(shared, files.private_variable.lower()) or files.private),
        Path(getattr(shared, files.public_variable.lower()) or files.public),
    )


@dataclass(frozen=True)
class TokenSettings:
    """Where the keys live and what the tokens say. Shared by signers and verifiers."""

    issuer: str
    audience: str
    service_audience: str
    signing_key_file: Path
    public_key_file: Path
    # One key pair per calling service (SERVICE_CALLERS), in that order.
    service_keys: tuple[ServiceKeyFiles, ...]
    ttl_seconds: int

    @classmethod
    def from_env(cls) -> TokenSettings:
        shared = SharedSettings.load()
        keys = var_dir(shared) / "keys"
        return cls(
            issuer=shared.jwt_issuer,
            audience=shared.jwt_audience,
            service_audience=shared.service_audience,
            signing_key_file=Path(shared.jwt_signing_key_file or keys / "jwt-signing.pem"),
            public_key_file=Path(shared.jwt_public_key_file or keys / "jwt-signing.pub.pem"),
            service_keys=tuple(service_key_files(keys, name, shared) for name in SERVICE_CALLERS),
            ttl_seconds=shared.token_ttl_seconds,
        )

    @classmethod
    def in_directory(cls, keys: Path) -> TokenSettings:
        """The default file names under `keys` (tests, the demo loader)."""
        return cls(
            issuer="customer-center",
            audience="customer-center-api",
            service_audience="customer-center-internal",
            signing_key_file=keys / "jwt-signing.pem",
            public_key_file=keys / "jwt-signing.pub.pem",
            service_keys=tuple(service_key_files(keys, name) for name in SERVICE_CALLERS),
            ttl_seconds=3600,
        )

    def service_key(self, name: str) -> ServiceKeyFiles:
        for files in self.service_keys:
            if files.name == name:
                return files
        raise KeyError(f"no service key pair for {name!r}; known: {', '.join(SERVICE_CALLERS)}")

    def files_needed_by(self, process: str) -> list[tuple[str, Path]]:
        """(variable, path) of every key file `process` reads: the public keys it verifies
        with, and the private keys it signs with (SIGNING_KEYS)."""
        needed = [("JWT_PUBLIC_KEY_FILE", self.public_key_file)]
        needed += [(files.public_variable, files.public) for files in self.service_keys]
        for private in SIGNING_KEYS.get(process, ()):
            if private == "user":
                needed.append(("JWT_SIGNING_KEY_FILE", self.signing_key_file))
            else:
                files = self.service_key(private)
                needed.append((files.private_variable, files.private))
        return needed


# The private keys each process signs with (and the only ones mounted into its container):
# the gateway signs user tokens and its service credential; every other caller its credential.
SIGNING_KEYS: dict[str, tuple[str, ...]] = {
    "gateway": ("user", "gateway"),
    "merge": ("merge",),
    "contract": ("contract",),
    "package": ("package",),
    "identity": (),
}


DEFAULT_IDENTITY_ADDR: str = SharedSettings.model_fields["identity_addr"].default

# The URI schemes of gRPC's own name resolvers that an address may start with.
GRPC_TARGET_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:")


@dataclass(frozen=True)
class GrpcTarget:
    """Where a channel goes (`grpc_target`): gRPC's target string, and the authority the
    servers are addressed (and, over TLS, checked) as when the target alone gives none that
    fits every copy (a list of addresses); None: gRPC's default, the target's host."""

    target: str
    authority: str | None = None

    @property
    def copies(self) -> bool:
        """True for a list of copies or a resolver URI (`dns:///name:port`): the callers spread
        their calls over every address. False for one `host:port`: a single copy."""
        return self.authority is not None or self.target.startswith(GRPC_TARGET_SCHEMES)


def grpc_target(address: str, variable: str = "address") -> GrpcTarget:
    """The gRPC target of one `<SERVICE>_ADDR` value:

    - "host:port": as is (gRPC's DNS resolver; a name with several addresses reaches them all);
    - "dns:///name:port" (or another resolver URI, "ipv4:...", "unix:..."): as is; the name is
      resolved again whenever a connection fails, so copies that come and go are found;
    - "host1:port1,host2:port2": a fixed list of copies, given as IP addresses ("[::1]:50051"
      for IPv6) or "localhost" (127.0.0.1), all of one family. It becomes "ipv4:h1:p1,h2:p2",
      with the first entry as the authority. A host name is refused in a list: gRPC cannot
      resolve names inside one, and resolving them here once would pin today's addresses;
      a name with several copies is a "dns:///name:port" address.

    Raises RuntimeError naming `variable` for a value that is none of these."""
    raw = address.strip()
    if not raw:
        raise RuntimeError(f"{variable} is empty")
    if raw.startswith(GRPC_TARGET_SCHEMES):
        if "," in raw and raw.startswith("dns:"):
            raise RuntimeError(f"{variable}: a dns:/// address names one host ({raw!r})")
        return GrpcTarget(raw)
    entries = [e for e in re.split(r"[\s,]+", raw) if e]
    if len(entries) == 1:
        _host_and_port(entries[0], variable)  # checks the form
        return GrpcTarget(entries[0])
    hosts = []
    for entry in entries:
        host, port = _host_and_port(entry, variable)
        if host == "localhost":
            host = "127.0.0.1"
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            raise RuntimeError(
                f"{variable}: {entry!r} in a list of addresses is not an IP address; list IP "
                "addresses, or give one name resolving to every copy as dns:///name:port"
            ) from None
        hosts.append((ip, port))
    families = {ip.version for ip, _ in hosts}
    if len(families) > 1:
        raise RuntimeError(f"{variable}: a list of addresses must be all IPv4 or all IPv6 ({raw!r})")
    if families == {4}:
        target = "ipv4:" + ",".join(f"{ip}:{port}" for ip, port in hosts)
    else:
        target = "ipv6:" + ",".join(f"[{ip}]:{port}" for ip, port in hosts)
    return GrpcTarget(target, authority=entries[0])


def _host_and_port(entry: str, variable: str) -> tuple[str, int]:
    host, sep, port = entry.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RuntimeError(f"{variable}: {entry!r} is not host:port")
    return host, int(port)


def is_single_address(address: str) -> bool:
    """Whether `address` is one "host:port" (which a server can also bind), not a list or a
    resolver URI."""
    raw = address.strip()
    return not raw.startswith(GRPC_TARGET_SCHEMES) and len([e for e in re.split(r"[\s,]+", raw) if e]) == 1


def listen_address(own_address: str, variable: str) -> str:
    """LISTEN_ADDR, or else the service's own `<SERVICE>_ADDR` when that is one host:port. An
    address naming several copies is where callers go, not what one copy binds: then
    LISTEN_ADDR is required."""
    listen = ServiceSettings.load().listen_addr
    if listen:
        return listen
    if not is_single_address(own_address):
        raise RuntimeError(
            f"LISTEN_ADDR is not set and {variable} ({own_address!r}) names several copies: "
            "set LISTEN_ADDR to the address this copy binds (e.g. 0.0.0.0:50051)"
        )
    return own_address


@dataclass(frozen=True)
class ServiceAddresses:
    """`<SERVICE>_ADDR` of every gRPC service: one "host:port", a list of copies
    ("10.0.0.5:50051,10.0.0.6:50051") or a resolver URI ("dns:///identity:50051"); see
    `grpc_target`. Callers spread their calls over every copy (cc_common.grpc_client)."""

    identity: str
    contract: str
    package: str
    merge: str

    @classmethod
    def from_env(cls) -> ServiceAddresses:
        shared = SharedSettings.load()
        addresses = cls(
            identity=shared.identity_addr,
            contract=shared.contract_addr,
            package=shared.package_addr,
            merge=shared.merge_addr,
        )
        for name in ("identity", "contract", "package", "merge"):
            grpc_target(getattr(addresses, name), f"{name.upper()}_ADDR")  # a bad one stops start-up
        return addresses


def grpc_timeout() -> float:
    """The deadline of every gRPC call, in seconds."""
    return SharedSettings.load().grpc_timeout_seconds


# --- the reverse proxies in front of the gateway ---------------------------------------------

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(raw: str) -> tuple[IPNetwork, ...]:
    """The networks of TRUSTED_PROXIES: addresses ("10.0.0.5", "fd00::1") or networks
    ("10.0.0.0/8"), separated by commas or spaces; empty: nobody is trusted. An entry that is
    neither raises RuntimeError naming it (a network with host bits set, "10.0.0.1/8", too:
    it is almost always a typo)."""
    networks = []
    for entry in (e for e in re.split(r"[\s,]+", raw.strip()) if e):
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as exc:
            raise RuntimeError(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network ({exc}); "
                "expected e.g. '10.0.0.5, 10.1.0.0/16, fd00::/8'"
            ) from None
    return tuple(networks)


def trusted_proxies() -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES from the environment (see parse_trusted_proxies)."""
    return parse_trusted_proxies(GatewayEnv.load().trusted_proxies)


# --- gRPC over TLS with client certificates ---------------------------------------------------

TLS_VARIABLES = ("GRPC_TLS_CERT", "GRPC_TLS_KEY", "GRPC_TLS_CA")


@dataclass(frozen=True)
class GrpcTls:
    """mTLS between the processes: this process's certificate chain and key (PEM; a server
    presents them, a client too), and the CA that signed every peer's certificate. Servers
    then require a client certificate from that CA; clients check the server's against it."""

    cert: Path
    key: Path
    ca: Path

    @classmethod
    def from_env(cls) -> GrpcTls | None:
        """None when none of GRPC_TLS_CERT, GRPC_TLS_KEY, GRPC_TLS_CA is set (plain gRPC)."""
        shared = SharedSettings.load()
        values = {name: getattr(shared, name.lower()) for name in TLS_VARIABLES}
        if not any(values.values()):
            return None
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise RuntimeError(
                f"{missing[0]} is not set: GRPC_TLS_CERT, GRPC_TLS_KEY and GRPC_TLS_CA go together"
            )
        return cls(Path(values["GRPC_TLS_CERT"]), Path(values["GRPC_TLS_KEY"]), Path(values["GRPC_TLS_CA"]))

    def read(self) -> tuple[bytes, bytes, bytes]:
        """(certificate chain, private key, CA certificates), read now."""
        return self.cert.read_bytes(), self.key.read_bytes(), self.ca.read_bytes()


# --- production refuses unsafe settings -----------------------------------------------------

# Staff passwords that ship with the code (identity's default, `make run`'s demo password).
DEFAULT_STAFF_PASSWORDS = frozenset({"admin-password", "staff-demo-password"})
# The database password docker-compose.yml falls back to without POSTGRES_PASSWORD.
COMPOSE_DEFAULT_DATABASE_PASSWORD = "customercenter"
# Which process reads which of the checked settings.
DATABASE_PROCESSES = frozenset({"identity", "contract", "package", "merge"})
STAFF_PASSWORD_PROCESSES = frozenset({"identity"})
PUBLIC_BASE_URL_PROCESSES = frozenset({"identity", "merge", "gateway"})
PROCESSES = ("identity", "contract", "package", "merge", "gateway")


class UnsafeSettings(SystemExit):
    """A refusal to start. A SystemExit with a message: left uncaught, Python writes the one
    line to stderr and exits with status 1 (no traceback)."""


def unsafe_production_settings(process: str) -> list[str]:
    """What makes the environment unsafe for `process` under APP_ENV=production, one short
    sentence per problem, each naming its variable; empty outside production. Pure apart from
    reading os.environ and checking that the key files exist."""
    if process not in PROCESSES:
        raise ValueError(f"unknown process {process!r}")
    if not is_production():
        return []
    problems: list[str] = []
    if process in STAFF_PASSWORD_PROCESSES:
        identity = IdentityEnv.load()
        password = identity.staff_password
        if "staff_password" not in identity.model_fields_set:
            problems.append("STAFF_PASSWORD is not set")
        elif password in DEFAULT_STAFF_PASSWORDS:
            problems.append("STAFF_PASSWORD is a default password")
        if not identity.staff_totp_secret.strip():
            problems.append("STAFF_TOTP_SECRET is not set (staff logins need a second factor)")
    if process in DATABASE_PROCESSES:
        problems.extend(database_url_problems())
    base_url = SharedSettings.load().public_base_url or ""
    if base_url or process in PUBLIC_BASE_URL_PROCESSES:
        parts = urlsplit(base_url.strip())
        if parts.scheme != "https" or not parts.netloc:
            problems.append(
                "PUBLIC_BASE_URL is not an https URL" if base_url else "PUBLIC_BASE_URL is not set"
            )
    if process == "contract":
        contract = ContractEnv.load()
        if contract.card_payments == "test":
            problems.append("CARD_PAYMENTS is the test adapter (it moves no money)")
        for name in ("sepa_creditor_iban", "sepa_creditor_id"):
            if name not in contract.model_fields_set:
                problems.append(f"{name.upper()} is not set (the default is a published test value)")
    # Test hooks, no settings (cc_common.settings.TEST_HOOKS).
    hooks = {
        "FAULT_INJECT": os.environ.get("FAULT_INJECT", ""),
        "FAULT_INJECT_FILE": os.environ.get("FAULT_INJECT_FILE", ""),
    }
    for name, value in hooks.items():
        if value.strip():
            problems.append(f"{name} is set (crash points are for tests only)")
    for variable, path in TokenSettings.from_env().files_needed_by(process):
        if not path.is_file():
            problems.append(f"{variable}: {path} does not exist (keys are never generated in production)")
    try:
        GrpcTls.from_env()
    except RuntimeError as exc:
        problems.append(str(exc))
    return problems


def database_url_problems() -> list[str]:
    """What is unsafe about DATABASE_URL in production (also checked by `cc_common.migrate`)."""
    url = ServiceSettings.load().database_url or ""
    if not url:
        return ["DATABASE_URL is not set (the SQLite default is for development)"]
    if url.lower().startswith("sqlite"):
        return ["DATABASE_URL is SQLite (use PostgreSQL)"]
    if _password_of(url) == COMPOSE_DEFAULT_DATABASE_PASSWORD:
        return ["DATABASE_URL uses docker-compose.yml's default database password (set POSTGRES_PASSWORD)"]
    return []


def refuse_unsafe_production_settings(process: str) -> None:
    """Called first by every composition root: raises UnsafeSettings, whose one line names the
    variable, when a variable the process reads is not of its type (in any environment), or
    when APP_ENV=production and `unsafe_production_settings` finds any unsafe one."""
    for group in PROCESS_SETTINGS[process]:
        try:
            group.load()
        except InvalidSetting as exc:
            raise UnsafeSettings(f"{process}: refusing to start: {exc}") from None
    problems = unsafe_production_settings(process)
    if problems:
        raise UnsafeSettings(f"{process}: refusing to start with APP_ENV=production: {'; '.join(problems)}")


def _password_of(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None
