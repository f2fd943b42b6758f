"""`make cluster`, `make rolling-restart`, `make cluster-stop`: the suite as several copies.

Two copies of every gRPC service and of the gateway, on PostgreSQL, under supervisord (which
restarts a process that exits), behind haproxy on GATEWAY_PORT:

    haproxy :8000 --round robin, /healthz checks--> gateway-1 :8001, gateway-2 :8002
    every caller --round_robin over both copies--> identity-1 :50051, identity-2 :50061, ...

    python scripts/cluster.py up [--copies 2]     databases, migrations, configs, start, wait
    python scripts/cluster.py rolling-restart     one copy at a time, each back SERVING first
    python scripts/cluster.py status | down

Everything the cluster writes lives in one directory (default `var/cluster/`): the generated
`supervisord.conf` and `haproxy.cfg`, the control sockets, and one log per copy under `logs/`.
The databases are `<prefix>identity`, `<prefix>contract`, ... on CLUSTER_DATABASE_HOST (default
127.0.0.1:5432, user postgres); they are created when missing and migrated once by
`python -m cc_common.migrate <service>` before any copy starts. The end-to-end cluster tests
use the same code with their own directory, ports and database prefix (tests/cluster/).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("identity", "contract", "package", "merge")
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
# The first copy of each service listens on its `make run` port, the second 10 above it.
BASE_PORTS = {"identity": 50051, "contract": 50052, "package": 50053, "merge": 50054}
# /metrics of every copy: the first on the default METRICS_PORT of its process
# (cc_common/metrics.py), each further copy 10 above the one before (identity-2 9111, ...).
METRICS_BASE_PORTS = {"gateway": 9100, "identity": 9101, "contract": 9102, "package": 9103, "merge": 9104}


@dataclass
class Layout:
    """Where every copy of the cluster listens and what it is told."""

    workdir: Path
    gateway_port: int = 8000
    copies: int = 2
    ports: dict[str, list[int]] = field(default_factory=dict)  # "identity" -> [50051, 50061]
    metrics_ports: dict[str, list[int]] = field(default_factory=dict)  # "identity" -> [9101, 9111]
    database_host: str = "127.0.0.1"
    database_port: int = 5432
    database_prefix: str = "cc_cluster_"
    var_dir: Path | None = None  # keys and demo mail; default: the workdir's parent (var/)
    env: dict[str, str] = field(default_factory=dict)  # extra settings for every copy
    python: str = sys.executable

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir).resolve()
        if self.var_dir is None:
            self.var_dir = self.workdir.parent
        for name, base in BASE_PORTS.items():
            self.ports.setdefault(name, [base + 10 * i for i in range(self.copies)])
        self.ports.setdefault("gateway", [self.gateway_port + 1 + i for i in range(self.copies)])
        for name, base in METRICS_BASE_PORTS.items():
            self.metrics_ports.setdefault(name, [base + 10 * i for i in range(self.copies)])

    # names ---------------------------------------------------------------------------------
    def programs(self, name: str) -> list[str]:
        return [f"{name}-{i + 1}" for i in range(self.copies)]

    def addresses(self, name: str) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self.ports[name]]

    def database_url(self, service: str) -> str:
        return (
            f"postgresql+psycopg://postgres@{self.database_host}:{self.database_port}/"
            f"{self.database_prefix}{service}"
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def supervisor_conf(self) -> Path:
        return self.workdir / "supervisord.conf"

    @property
    def haproxy_socket(self) -> Path:
        return self.workdir / "haproxy.sock"

    @property
    def log_dir(self) -> Path:
        return self.workdir / "logs"

    # settings ------------------------------------------------------------------------------
    def common_env(self) -> dict[str, str]:
        from cc_common.config import TokenSettings

        keys = TokenSettings.in_directory(Path(self.var_dir) / "keys")
        env = {
            "PYTHONUNBUFFERED": "1",
            "VAR_DIR": str(self.var_dir),
            "JWT_SIGNING_KEY_FILE": str(keys.signing_key_file),
            "JWT_PUBLIC_KEY_FILE": str(keys.public_key_file),
            **{f.private_variable: str(f.private) for f in keys.service_keys},
            **{f.public_variable: str(f.public) for f in keys.service_keys},
            # Every caller spreads its calls over all copies (round_robin over the list).
            **{f"{s.upper()}_ADDR": ",".join(self.addresses(s)) for s in SERVICES},
            # A stopping copy reports NOT_SERVING for this long before it stops taking calls.
            "GRPC_DRAIN_SECONDS": "2",
            # haproxy connects from 127.0.0.1: only its X-Forwarded-For is believed.
            "TRUSTED_PROXIES": "127.0.0.1/32",
            "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or self.base_url,
        }
        for name in ("STAFF_USERNAME", "STAFF_PASSWORD", "SMTP_HOST", "SMTP_PORT", "MAIL_FROM"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        env.update(self.env)
        return env

    def program_env(self, name: str, index: int) -> dict[str, str]:
        env = self.common_env()
        if name == "gateway":
            env["GATEWAY_PORT"] = str(self.ports["gateway"][index])
            env["GATEWAY_METRICS_PORT"] = str(self.metrics_ports["gateway"][index])
        else:
            env["DATABASE_URL"] = self.database_url(name)
            env["LISTEN_ADDR"] = self.addresses(name)[index]
            env["METRICS_PORT"] = str(self.metrics_ports[name][index])
        return env

    def program_command(self, name: str, index: int) -> str:
        if name == "gateway":
            port = self.ports["gateway"][index]
            return (
                f"{self.python} -m gunicorn -c {GUNICORN_CONF} --bind 127.0.0.1:{port} "
                f"'gateway_app:create_app()'"
            )
        return f"{self.python} -m {name}_service"


# --- configuration files ------------------------------------------------------------------
def _quote(value: str) -> str:
    """A value for supervisord's `environment=` (double quotes; `%` is its format character)."""
    return '"' + value.replace("%", "%%").replace('"', '\\"') + '"'


def supervisor_config(layout: Layout) -> str:
    work = layout.workdir
    lines = [
        "; Written by scripts/cluster.py: do not edit, it is rewritten on every `up`.",
        "[unix_http_server]",
        f"file={work / 'supervisor.sock'}",
        "",
        "[supervisord]",
        f"logfile={work / 'supervisord.log'}",
        f"pidfile={work / 'supervisord.pid'}",
        f"childlogdir={layout.log_dir}",
        f"directory={ROOT}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{work / 'supervisor.sock'}",
        "",
    ]
    for name in (*SERVICES, "gateway"):
        for index, program in enumerate(layout.programs(name)):
            env = ",".join(f"{k}={_quote(v)}" for k, v in sorted(layout.program_env(name, index).items()))
            lines += [
                f"[program:{program}]",
                f"command={layout.program_command(name, index)}",
                f"environment={env}",
                "autorestart=true",
                "startsecs=1",
                "startretries=10",
                "stopsignal=TERM",
                # A gRPC copy drains (GRPC_DRAIN_SECONDS, then its calls in flight); gunicorn
                # finishes its requests within graceful_timeout.
                "stopwaitsecs=30",
                "stopasgroup=true",
                "killasgroup=true",
                "redirect_stderr=true",
                f"stdout_logfile={layout.log_dir / (program + '.log')}",
                "stdout_logfile_maxbytes=20MB",
                "",
            ]
    lines += [
        "[program:haproxy]",
        f"command={haproxy_binary()} -db -f {work / 'haproxy.cfg'}",
        "autorestart=true",
        "redirect_stderr=true",
        f"stdout_logfile={layout.log_dir / 'haproxy.log'}",
        "",
    ]
    return "\n".join(lines)


def haproxy_config(layout: Layout) -> str:
    servers = "\n".join(
        f"    server {program} 127.0.0.1:{port} check"
        for program, port in zip(layout.programs("gateway"), layout.ports["gateway"], strict=True)
    )
    return f"""# Written by scripts/cluster.py: do not edit, it is rewritten on every `up`.
global
    maxconn 4096
    stats socket {layout.haproxy_socket} mode 600 level admin
    log stderr format short local0 warning

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    # A connection that could not be made is tried again on the other copy.
    retries 3
    option redispatch 1
    retry-on conn-failure

frontend web
    bind 127.0.0.1:{layout.gateway_port}
    # The client's address for the gateway (TRUSTED_PROXIES=127.0.0.1/32 believes it); a
    # client's own X-Forwarded-For is dropped first.
    http-request del-header X-Forwarded-For
    option forwardfor
    default_backend gateways

backend gateways
    balance roundrobin
    # One request per connection to a gateway copy: a copy closing an idle keep-alive
    # connection can never race a request haproxy sends on it.
    option http-server-close
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1
{servers}
"""


def haproxy_binary() -> str:
    for candidate in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "/usr/bin/haproxy"):
        if Path(candidate).exists():
            return candidate
    return "haproxy"


# --- databases, keys, migrations ----------------------------------------------------------
def create_databases(layout: Layout) -> None:
    import psycopg

    dsn = f"host={layout.database_host} port={layout.database_port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        for service in SERVICES:
            name = f"{layout.database_prefix}{service}"
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')


def drop_databases(layout: Layout) -> None:
    import psycopg

    dsn = f"host={layout.database_host} port={layout.database_port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        for service in SERVICES:
            conn.execute(f'DROP DATABASE IF EXISTS "{layout.database_prefix}{service}" WITH (FORCE)')


def ensure_keys(layout: Layout) -> None:
    from cc_common.config import TokenSettings
    from cc_common.tokens import ensure_all_keys

    ensure_all_keys(TokenSettings.in_directory(Path(layout.var_dir) / "keys"))


def migrate(layout: Layout) -> None:
    """Each service's migrations, once, before any copy starts."""
    for service in SERVICES:
        env = {**os.environ, **layout.program_env(service, 0)}
        subprocess.run([layout.python, "-m", "cc_common.migrate", service], env=env, check=True, cwd=ROOT)


# --- running ------------------------------------------------------------------------------
def supervisorctl(layout: Layout, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [layout.python, "-m", "supervisor.supervisorctl", "-c", str(layout.supervisor_conf), *args],
        capture_output=True,
        text=True,
        check=check,
        cwd=ROOT,
    )


def running(layout: Layout) -> bool:
    return (layout.workdir / "supervisor.sock").exists() and supervisorctl(
        layout, "pid", check=False
    ).returncode == 0


def up(layout: Layout, *, timeout: float = 90) -> None:
    layout.workdir.mkdir(parents=True, exist_ok=True)
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    if running(layout):
        raise SystemExit(f"a cluster is running already from {layout.workdir} (`make cluster-stop` ends it)")
    ensure_keys(layout)
    create_databases(layout)
    migrate(layout)
    (layout.workdir / "haproxy.cfg").write_text(haproxy_config(layout))
    layout.supervisor_conf.write_text(supervisor_config(layout))
    subprocess.run(
        [layout.python, "-m", "supervisor.supervisord", "-c", str(layout.supervisor_conf)],
        check=True,
        cwd=ROOT,
    )
    wait_ready(layout, timeout=timeout)


def down(layout: Layout) -> None:
    if running(layout):
        supervisorctl(layout, "shutdown", check=False)
        deadline = time.monotonic() + 60
        while (layout.workdir / "supervisor.sock").exists() and time.monotonic() < deadline:
            time.sleep(0.2)


def grpc_status(address: str) -> str:
    from cc_common.healthcheck import status

    return status(address, "", timeout=1.0)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def copy_ready(layout: Layout, name: str, index: int) -> bool:
    if name == "gateway":
        return http_ok(f"http://127.0.0.1:{layout.ports['gateway'][index]}/healthz")
    return grpc_status(layout.addresses(name)[index]) == "SERVING"


def wait_until(check: Callable[[], bool], timeout: float, what: str, layout: Layout) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(
        f"{what} not ready after {timeout:.0f}s; logs in {layout.log_dir}\n{log_tails(layout)}"
    )


def wait_ready(layout: Layout, timeout: float = 90) -> None:
    for name in (*SERVICES, "gateway"):
        for index in range(layout.copies):
            wait_until(
                lambda n=name, i=index: copy_ready(layout, n, i), timeout, f"{name}-{index + 1}", layout
            )
    wait_until(lambda: http_ok(f"{layout.base_url}/healthz"), timeout, "haproxy", layout)
    wait_until(
        lambda: haproxy_servers_up(layout) == layout.copies, timeout, "haproxy's gateway checks", layout
    )


def log_tails(layout: Layout, lines: int = 15) -> str:
    out = []
    for path in sorted(layout.log_dir.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        out.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(out)


# --- haproxy's runtime API ----------------------------------------------------------------
def haproxy_command(layout: Layout, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(layout.haproxy_socket))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def haproxy_server_states(layout: Layout) -> dict[str, tuple[str, int]]:
    """Gateway copy -> (status as `show stat` gives it, e.g. "UP", "DRAIN", "MAINT"; current sessions)."""
    try:
        stat = haproxy_command(layout, "show stat")
    except OSError:
        return {}
    header, *rows = [line for line in stat.splitlines() if line.strip()]
    columns = header.lstrip("# ").split(",")
    states = {}
    for row in rows:
        values = dict(zip(columns, row.split(","), strict=False))
        if values.get("pxname") == "gateways" and values.get("svname") not in ("FRONTEND", "BACKEND"):
            states[values["svname"]] = (values.get("status", ""), int(values.get("scur") or 0))
    return states


def haproxy_servers_up(layout: Layout) -> int:
    return sum(1 for status, _ in haproxy_server_states(layout).values() if status.startswith("UP"))


# --- rolling restart ----------------------------------------------------------------------
def rolling_restart(
    layout: Layout,
    *,
    settle: float = 2.0,
    timeout: float = 60,
    names: tuple[str, ...] = (*SERVICES, "gateway"),
    report: Callable[[str], None] = print,
) -> None:
    """Restarts every copy, one at a time, each time waiting until the restarted copy reports
    SERVING (a gateway: /healthz, and haproxy sends to it again) before the next.

    A gRPC copy drains by itself on SIGTERM (NOT_SERVING, then the calls in flight). A gateway
    copy is first set to DRAIN in haproxy (no new requests; the ones in flight finish), then
    restarted, then set READY. `settle` seconds after each copy lets every caller's channel
    connect to the restarted copy again before its sibling stops."""
    for name in names:
        for index, program in enumerate(layout.programs(name)):
            started = time.monotonic()
            if name == "gateway":
                haproxy_command(layout, f"set server gateways/{program} state drain")
                wait_until(
                    lambda p=program: haproxy_server_states(layout).get(p, ("", 0))[1] == 0,
                    timeout,
                    f"{program} drained",
                    layout,
                )
            supervisorctl(layout, "restart", program)
            wait_until(lambda n=name, i=index: copy_ready(layout, n, i), timeout, program, layout)
            if name == "gateway":
                haproxy_command(layout, f"set server gateways/{program} state ready")
                wait_until(
                    lambda p=program: haproxy_server_states(layout).get(p, ("",))[0].startswith("UP"),
                    timeout,
                    f"{program} in haproxy",
                    layout,
                )
            time.sleep(settle)
            report(f"{program}: restarted and SERVING again in {time.monotonic() - started:.1f}s")


def status_lines(layout: Layout) -> list[str]:
    lines = []
    for name in (*SERVICES, "gateway"):
        for index, program in enumerate(layout.programs(name)):
            where = (
                layout.addresses(name)[index]
                if name != "gateway"
                else f"127.0.0.1:{layout.ports['gateway'][index]}"
            )
            lines.append(
                f"{program:12} {where:18} {'ready' if copy_ready(layout, name, index) else 'NOT READY'}"
            )
    lines.append(
        f"{'haproxy':12} 127.0.0.1:{layout.gateway_port:<8} gateway copies up: {haproxy_servers_up(layout)}"
    )
    return lines


def layout_from_env(environ: Mapping[str, str] = os.environ) -> Layout:
    var = Path(environ.get("VAR_DIR") or ROOT / "var")
    host, _, port = (environ.get("CLUSTER_DATABASE_HOST") or "127.0.0.1:5432").partition(":")
    return Layout(
        workdir=var / "cluster",
        var_dir=var,
        gateway_port=int(environ.get("GATEWAY_PORT") or 8000),
        copies=int(environ.get("CLUSTER_COPIES") or 2),
        database_host=host,
        database_port=int(port or 5432),
        database_prefix=environ.get("CLUSTER_DATABASE_PREFIX") or "cc_cluster_",
    )


def load_demo_data(layout: Layout) -> None:
    env = {**os.environ, **layout.common_env()}
    subprocess.run(
        [
            layout.python,
            str(ROOT / "scripts" / "load_demo_data.py"),
            "--identity",
            layout.addresses("identity")[0],
            "--contract",
            layout.addresses("contract")[0],
            "--package",
            layout.addresses("package")[0],
        ],
        env=env,
        check=True,
        cwd=ROOT,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/cluster.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down", "status", "rolling-restart"))
    parser.add_argument("--demo-data", action="store_true", help="load the demo customers after `up`")
    args = parser.parse_args(argv)
    layout = layout_from_env()
    if args.command == "up":
        up(layout)
        if args.demo_data:
            load_demo_data(layout)
        print("\n".join(status_lines(layout)))
        print(
            f"Customer center (cluster): {layout.base_url}/  logs: {layout.log_dir}  stop: make cluster-stop"
        )
    elif args.command == "down":
        down(layout)
    elif args.command == "status":
        if not running(layout):
            print("no cluster is running (make cluster starts one)")
            return 1
        print("\n".join(status_lines(layout)))
    else:
        if not running(layout):
            print("no cluster is running (make cluster starts one)")
            return 1
        rolling_restart(layout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
