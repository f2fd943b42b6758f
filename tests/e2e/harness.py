"""Starts the five real processes of the customer center for end-to-end tests and the benchmark.

Each process is started the way production starts it (`python -m identity_service`, ...,
and the gateway under gunicorn with gthread workers, `deploy/gunicorn.conf.py`), on free
ports, with its own database, a private VAR_DIR with fresh keys, and known staff credentials.
Output of each process goes to `<workdir>/logs/<name>.log`; when the suite does not become
healthy the tail of every log is part of the error.

    suite = Suite(tmp_dir, env={"MERGE_REVIEW": "auto"})
    suite.start_all()          # waits for GET /healthz == 200
    token = suite.staff_token()
    customer = suite.create_customer(market="de")
    suite.kill("merge"); suite.start("merge")
    suite.add_copy("merge", "merge-2")   # a second copy: own port, same database
    suite.close()

Nothing here is imported by production code.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from merge_service.service_layer import mails as merge_mails

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("identity", "contract", "package", "merge")
PROCESSES = (*SERVICES, "gateway")
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"

# Settings of the processes, never inherited from the environment of the test run.
_OWN_PREFIXES = (
    "DATABASE_URL",
    "LISTEN_ADDR",
    "IDENTITY_",
    "CONTRACT_",
    "PACKAGE_",
    "MERGE_",
    "JWT_",
    "SERVICE_",
    "TOKEN_TTL",
    "GRPC_TIMEOUT",
    "GRPC_TLS_",
    "GRPC_DRAIN",
    "VAR_DIR",
    "APP_ENV",
    "STAFF_",
    "GATEWAY_",
    "LOGIN_",
    "SMTP_",
    "PORT",
    "PUBLIC_BASE_URL",
    "MAIL_FROM",
    "OUTBOX_",
    "PASSWORD_RESET_",
    "REVOCATION_",
    "FAULT_INJECT",
    "METRICS_",
    "PROMETHEUS_",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "OTEL_",
    "CARD_PAYMENTS",
    "TERMINATIONS_",
    "SEPA_",
)

_BIND_ERRORS = ("address already in use", "could not bind", "failed to bind", "errno 98")


def child_env(*, repo_on_path: bool = False) -> dict[str, str]:
    """This environment for a process of the suite: without the suite's own settings and without
    PYTHONPATH, so the process imports the packages installed in the venv (`make venv`), as
    production does. `repo_on_path`: the repository root on the path, for the tests' own modules
    (`python -m tests.support...`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES) and k != "PYTHONPATH"}
    if repo_on_path:
        env["PYTHONPATH"] = str(REPO)
    return env


class SuiteError(RuntimeError):
    """The suite (or one process of it) did not start or stop as expected."""


# Ports for the suites' processes. A port from the kernel (bind to port 0) lies in its ephemeral
# range, the range every outgoing connection on the machine also draws from; and a port freed by
# a stopped process could be handed to another pytest-xdist worker's suite before the process is
# started again on it (a restarted merge-service then found its port taken, and the gateway talked
# to another suite's merge-service). So the ports come from below the ephemeral range, from a slice
# of its own per xdist worker, and none is handed out twice by one test process.
_PORT_SLICE = 1200


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _port_slice() -> range | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    low = 12000 + _PORT_SLICE * (index % 16)
    high = low + _PORT_SLICE
    return range(low, high) if high <= _ephemeral_low() else None


def _port_cycle() -> Iterator[int]:
    ports = _port_slice()
    if ports is None:
        return iter(())
    start = random.randrange(len(ports))  # concurrent runs on one machine start apart
    return itertools.cycle([*ports[start:], *ports[:start]])


_ports = _port_cycle()
_ports_lock = threading.Lock()


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports on 127.0.0.1, from this worker's own slice below the
    kernel's ephemeral range (or from the kernel, where that range leaves no room)."""
    chosen: list[int] = []
    with _ports_lock:
        for _ in range(count * _PORT_SLICE):
            if len(chosen) == count:
                return chosen
            port = next(_ports, None)
            if port is None:
                break
            if port not in chosen and _bindable(port):
                chosen.append(port)
        if len(chosen) == count:
            return chosen
    socks = []
    try:
        for _ in range(count - len(chosen)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return chosen + [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def grpc_status(address: str, timeout: float = 1.0) -> str:
    from cc_common.healthcheck import status

    return status(address, "", timeout)


@dataclass
class Customer:
    """A customer created through the admin API."""

    number: str
    password: str
    market: str
    fields: dict[str, Any]


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    @property
    def subject(self) -> str:
        """The decoded Subject header (mails are in the customer's language)."""
        return str(email.message_from_bytes(self.data, policy=email.policy.default)["Subject"])

    @property
    def merged(self) -> bool:
        """Whether this is the mail that says a merge is completed, in any language."""
        return self.subject in merge_mails.subjects("completed")


MARKET_DEFAULTS: dict[str, dict[str, Any]] = {
    "de": {
        "first_name": "Erika",
        "last_name": "Mustermann",
        "street": "Hauptstraße 5",
        "zip": "10115",
        "city": "Berlin",
        "country": "DE",
        "phone": "+49 30 1234567",
        "mobile": "+49 151 12345678",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
    },
    "nl": {
        "first_name": "Sanne",
        "last_name": "de Vries",
        "street": "Keizersgracht 12",
        "zip": "1015 CX",
        "city": "Amsterdam",
        "country": "NL",
        "phone": "+31 20 1234567",
        "mobile": "+31 6 12345678",
        "iban": "NL91ABNA0417164300",
        "bic": "ABNANL2A",
    },
    "uk": {
        "first_name": "Oliver",
        "last_name": "Smith",
        "street": "10 Downing Street",
        "zip": "SW1A 2AA",
        "city": "London",
        "country": "GB",
        "phone": "+44 20 7946 0018",
        "mobile": "+44 7911 123456",
        "card_token": "tok_test_visa_4242",
        "card_last4": "4242",
        "card_expiry": "12/30",
    },
}


class MailSink:
    """An SMTP server on a free port that keeps every message (aiosmtpd, in a thread)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Mail] = []
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                with sink._lock:
                    sink.messages.append(
                        Mail(
                            envelope.mail_from,
                            list(envelope.rcpt_tos),
                            bytes(envelope.original_content or b""),
                        )
                    )
                return "250 OK"

        self.port = free_ports(1)[0]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self.messages if address.lower() in (r.lower() for r in m.recipients)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"expected {count} mail(s) to {address} within {timeout}s, got {len(self.to(address))}"
        )

    def stop(self) -> None:
        self._controller.stop()


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    popen: subprocess.Popen | None = None
    log_offsets: list[int] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class ApiClient:
    """Drives the gateway's API at `base_url` (one gateway, or a load balancer in front of
    several): staff and customer logins, customers, packages, invoices."""

    _counter = itertools.count(1)

    def __init__(self, base_url: str, *, staff_username: str, staff_password: str) -> None:
        self.base_url = base_url
        self.staff_username = staff_username
        self.staff_password = staff_password
        self.http = requests.Session()
        self._staff_token: str | None = None

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def api(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        expect: int | Iterable[int] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One request to the gateway; with `expect`, a different status fails with the body."""
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 30)
        reply = self.http.request(method, self.url(path), headers=headers, **kwargs)
        if expect is not None:
            wanted = {expect} if isinstance(expect, int) else set(expect)
            if reply.status_code not in wanted:
                raise AssertionError(
                    f"{method} {path}: expected {sorted(wanted)}, got {reply.status_code}: {reply.text[:1000]}"
                )
        return reply

    def staff_token(self, fresh: bool = False) -> str:
        if self._staff_token is None or fresh:
            reply = self.api(
                "POST",
                "/api/v1/auth/staff-login",
                expect=200,
                json={"username": self.staff_username, "password": self.staff_password},
            )
            answer = reply.json()
            secret = getattr(self, "extra_env", {}).get("STAFF_TOTP_SECRET")
            if answer.get("second_factor_required") and secret:  # the staff second factor (STAFF_TOTP_SECRET)
                import pyotp

                code = pyotp.TOTP(secret).now()
                body = {"challenge": answer["challenge"], "code": code}
                answer = self.api("POST", "/api/v1/auth/second-factor", expect=200, json=body).json()
            self._staff_token = answer["access_token"]
        return self._staff_token

    def login_customer(self, number: str, password: str) -> str:
        reply = self.api(
            "POST",
            "/api/v1/auth/customer-login",
            expect=200,
            json={"customer_number": str(number), "password": password},
        )
        return reply.json()["access_token"]

    def login_package(self, domain: str, password: str) -> str:
        reply = self.api(
            "POST", "/api/v1/auth/package-login", expect=200, json={"domain": domain, "password": password}
        )
        return reply.json()["access_token"]

    def create_customer(self, market: str = "de", password: str | None = None, **fields: Any) -> Customer:
        """A customer of `market` with plausible master and payment data; `fields` override
        them (a field given as None is left out)."""
        serial = f"{os.getpid()}-{next(self._counter)}-{uuid.uuid4().hex[:6]}"
        password = password or f"Cust-{uuid.uuid4().hex[:12]}-Pw1!"
        body: dict[str, Any] = {
            "market": market,
            "password": password,
            "company": "",
            **MARKET_DEFAULTS.get(market, MARKET_DEFAULTS["de"]),
            "email": f"customer-{serial}@example.com",
        }
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        reply = self.api("POST", "/api/v1/admin/customers", token=self.staff_token(), json=body, expect=201)
        return Customer(str(reply.json()["customer_number"]), password, market, body)

    def create_package(
        self,
        customer_number: str,
        product: str = "hosting-basic",
        domains: list[str] | None = None,
        package_password: str | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "product": product,
            "domains": domains if domains is not None else [f"site-{uuid.uuid4().hex[:10]}.example"],
        }
        if package_password is not None:
            body["package_password"] = package_password
        reply = self.api(
            "POST",
            f"/api/v1/admin/customers/{customer_number}/packages",
            token=self.staff_token(),
            json=body,
            expect=201,
        )
        return str(reply.json()["id"])

    def create_invoice(
        self, customer_number: str, amount: str = "19.99", currency: str = "EUR", status: str = "open"
    ) -> str:
        reply = self.api(
            "POST",
            f"/api/v1/admin/customers/{customer_number}/invoices",
            token=self.staff_token(),
            json={"amount": amount, "currency": currency, "status": status},
            expect=201,
        )
        return str(reply.json()["number"])


class Suite(ApiClient):
    """The five processes, their addresses, and helpers to drive the gateway's API."""

    def __init__(
        self,
        workdir: Path,
        *,
        database_urls: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        staff_username: str = "staff",
        staff_password: str = "Staff-e2e-Passw0rd!",
        processes: Iterable[str] = PROCESSES,
        mail_sink: bool = True,
        python: str = sys.executable,
    ) -> None:
        self.workdir = Path(workdir)
        self.var_dir = self.workdir / "var"
        self.log_dir = self.workdir / "logs"
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.staff_username = staff_username
        self.staff_password = staff_password
        self.extra_env = dict(env or {})
        self.names = [p for p in PROCESSES if p in set(processes)]
        self.python = python
        self.database_urls = dict(database_urls or {})
        for name in SERVICES:
            self.database_urls.setdefault(name, f"sqlite:///{self.var_dir / (name + '.db')}")
        self.mails: MailSink | None = MailSink() if mail_sink else None
        self.http = requests.Session()
        self._staff_token: str | None = None
        self.processes: dict[str, Process] = {}
        self._assign_ports()
        self._make_keys()

    # --- configuration ----------------------------------------------------------------

    def _assign_ports(self) -> None:
        chosen = free_ports(2 * len(PROCESSES))
        ports = dict(zip(PROCESSES, chosen[: len(PROCESSES)], strict=True))
        self.ports = ports
        # /metrics of every process (METRICS_PORT, the gateway's GATEWAY_METRICS_PORT): a port
        # of its own, as the defaults (9100-9104) would collide between suites.
        self.metrics_ports = dict(zip(PROCESSES, chosen[len(PROCESSES) :], strict=True))
        self.addresses = {name: f"127.0.0.1:{ports[name]}" for name in SERVICES}
        self.base_url = f"http://127.0.0.1:{ports['gateway']}"
        self.processes = {name: self._process(name) for name in self.names}

    def _make_keys(self) -> None:
        from cc_common.testing import token_settings_in

        self.token_settings = token_settings_in(self.var_dir)  # var/keys/*.pem, the default names

    def base_env(self) -> dict[str, str]:
        from cc_common.config import TokenSettings

        env = child_env()
        keys = self.var_dir / "keys"
        env.update(
            PYTHONUNBUFFERED="1",
            VAR_DIR=str(self.var_dir),
            APP_ENV="development",
            JWT_SIGNING_KEY_FILE=str(keys / "jwt-signing.pem"),
            JWT_PUBLIC_KEY_FILE=str(keys / "jwt-signing.pub.pem"),
            # One key pair per calling service (service-gateway.pem, service-merge.pem, ...).
            **{f.private_variable: str(f.private) for f in TokenSettings.in_directory(keys).service_keys},
            **{f.public_variable: str(f.public) for f in TokenSettings.in_directory(keys).service_keys},
            IDENTITY_ADDR=self.addresses["identity"],
            CONTRACT_ADDR=self.addresses["contract"],
            PACKAGE_ADDR=self.addresses["package"],
            MERGE_ADDR=self.addresses["merge"],
            GATEWAY_PORT=str(self.ports["gateway"]),
            GATEWAY_REUSE_PORT="0",
            STAFF_USERNAME=self.staff_username,
            STAFF_PASSWORD=self.staff_password,
            PUBLIC_BASE_URL=self.base_url,
            # A stopped service exits at once (no NOT_SERVING period): the tests stop and
            # start services often; tests/integration/test_graceful_stop.py tests draining.
            GRPC_DRAIN_SECONDS="0",
        )
        if self.mails is not None:
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(self.mails.port))
        env.update(self.extra_env)
        return env

    def _process(self, name: str) -> Process:
        env = self.base_env()
        if name == "gateway":
            argv = [
                self.python,
                "-m",
                "gunicorn",
                "-c",
                str(GUNICORN_CONF),
                "--bind",
                f"127.0.0.1:{self.ports['gateway']}",
                "gateway_app:create_app()",
            ]
            env.update(GATEWAY_METRICS_PORT=str(self.metrics_ports[name]))
        else:
            argv = [self.python, "-m", f"{name}_service"]
            env.update(
                DATABASE_URL=self.database_urls[name],
                LISTEN_ADDR=self.addresses[name],
                METRICS_PORT=str(self.metrics_ports[name]),
            )
        return Process(name, argv, env, self.log_dir / f"{name}.log", self.ports[name])

    def add_copy(
        self, service: str, name: str, env: dict[str, str] | None = None, start: bool = True
    ) -> Process:
        """A further copy of a service (another LISTEN_ADDR, the same database), as a process
        of its own named `name`; callers keep talking to the first copy."""
        if service not in SERVICES or name in self.processes:
            raise ValueError(f"cannot add {name!r} as a copy of {service!r}")
        port, metrics_port = free_ports(2)
        self.ports[name] = port
        self.metrics_ports[name] = metrics_port
        self.addresses[name] = f"127.0.0.1:{port}"
        first = self.processes.get(service) or self._process(service)
        proc_env = {**first.env, "LISTEN_ADDR": self.addresses[name], "METRICS_PORT": str(metrics_port)}
        proc_env.pop("FAULT_INJECT", None)  # a copy reaches no crash point unless told (env)
        proc_env.update(env or {})
        proc = Process(name, list(first.argv), proc_env, self.log_dir / f"{name}.log", port)
        self.processes[name] = proc
        if start:
            self.start(name)
        return proc

    # --- lifecycle --------------------------------------------------------------------

    def start_all(self, timeout: float = 60) -> Suite:
        """Starts every process and waits until the suite is healthy (one retry on a port clash)."""
        for attempt in (1, 2):
            for name in self.names:
                self._spawn(name)
            try:
                self.wait_ready(timeout)
                return self
            except SuiteError:
                clash = any(self._bind_failed(name) for name in self.names)
                self.stop_all()
                if attempt == 2 or not clash:
                    raise
                self._assign_ports()
        return self

    def _spawn(self, name: str) -> None:
        proc = self.processes[name]
        if proc.running:
            raise SuiteError(f"{name} is already running")
        proc.log_offsets.append(proc.log_path.stat().st_size if proc.log_path.exists() else 0)
        with open(proc.log_path, "ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting {' '.join(proc.argv)}\n".encode())
            log.flush()
            proc.popen = subprocess.Popen(
                proc.argv,
                env=proc.env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes gunicorn's workers too
            )

    def start(self, name: str, timeout: float = 30) -> None:
        """Starts one stopped or killed process again (same port, same database) and waits for it."""
        self._spawn(name)
        self.wait_process_ready(name, timeout)

    def stop(self, name: str, timeout: float = 15) -> int | None:
        """SIGTERM, then wait (SIGKILL after `timeout`). Returns the exit code."""
        proc = self.processes[name]
        if proc.popen is None or proc.popen.poll() is not None:
            return proc.popen.returncode if proc.popen else None
        proc.popen.send_signal(signal.SIGTERM)
        try:
            return proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._killpg(proc)
            return proc.popen.wait(5)

    def kill(self, name: str) -> int | None:
        """SIGKILL to the process and its group (a crash: no shutdown code runs)."""
        proc = self.processes[name]
        if proc.popen is None:
            return None
        self._killpg(proc)
        return proc.popen.wait(10)

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    @staticmethod
    def _killpg(proc: Process) -> None:
        assert proc.popen is not None
        try:
            os.killpg(proc.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        # The gateway first, merge next (it calls the others), then the rest; added copies
        # (add_copy) with the first of their kind.
        order = ["gateway", "merge", "identity", "contract", "package"]
        rank = {n: order.index(n) for n in order}
        names = sorted(self.processes, key=lambda n: rank.get(n, rank.get(n.split("-")[0], len(order))))
        running = [self.processes[n] for n in names if self.processes[n].running]
        for proc in running:
            proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in running:
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._killpg(proc)
                proc.popen.wait(5)
        for proc in self.processes.values():  # leftovers of a group (e.g. orphaned workers)
            if proc.popen is not None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def close(self) -> None:
        try:
            self.stop_all()
        finally:
            self.http.close()
            if self.mails is not None:
                self.mails.stop()

    def __enter__(self) -> Suite:
        return self.start_all()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- readiness --------------------------------------------------------------------

    def wait_ready(self, timeout: float = 60) -> None:
        """Waits for GET /healthz == 200 (or, without a gateway, every service SERVING)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self._raise_if_exited()
            if "gateway" in self.processes:
                try:
                    reply = self.http.get(f"{self.base_url}/healthz", timeout=2)
                    if reply.status_code == 200:
                        return
                    last = f"GET /healthz -> {reply.status_code} {reply.text[:300]}"
                except requests.RequestException as exc:
                    last = f"GET /healthz -> {type(exc).__name__}"
            else:
                states = {n: grpc_status(self.addresses[n]) for n in self.names}
                if all(s == "SERVING" for s in states.values()):
                    return
                last = f"health: {states}"
            time.sleep(0.2)
        raise SuiteError(f"the suite was not healthy within {timeout:.0f}s ({last})\n{self.log_report()}")

    def wait_process_ready(self, name: str, timeout: float = 30) -> None:
        """A service: its gRPC health says SERVING. The gateway: /healthz answers at all."""
        deadline = time.monotonic() + timeout
        proc = self.processes[name]
        while time.monotonic() < deadline:
            if not proc.running:
                raise SuiteError(f"{name} exited with {proc.popen.returncode}\n{self.log_report([name])}")
            if name == "gateway":
                try:
                    self.http.get(f"{self.base_url}/healthz", timeout=2)
                    return
                except requests.RequestException:
                    pass
            elif grpc_status(self.addresses[name]) == "SERVING" and "listening on port" in self.log(name):
                return  # SERVING from this very process, not from another one on its port
            time.sleep(0.1)
        raise SuiteError(f"{name} was not ready within {timeout:.0f}s\n{self.log_report([name])}")

    def _raise_if_exited(self) -> None:
        dead = [n for n, p in self.processes.items() if p.popen is not None and p.popen.poll() is not None]
        if dead:
            codes = ", ".join(f"{n} (exit {self.processes[n].popen.returncode})" for n in dead)
            raise SuiteError(f"process(es) exited during start-up: {codes}\n{self.log_report()}")

    def _bind_failed(self, name: str) -> bool:
        text = self.log(name).lower()
        return any(marker in text for marker in _BIND_ERRORS)

    def metrics_text(self, name: str) -> str:
        """The text of GET /metrics of one process (its METRICS_PORT / GATEWAY_METRICS_PORT)."""
        reply = self.http.get(f"http://127.0.0.1:{self.metrics_ports[name]}/metrics", timeout=10)
        reply.raise_for_status()
        return reply.text

    def log(self, name: str, since_last_start: bool = True) -> str:
        """The captured stdout+stderr of one process (by default since its last start)."""
        proc = self.processes[name]
        if not proc.log_path.exists():
            return ""
        data = proc.log_path.read_bytes()
        if since_last_start and proc.log_offsets:
            data = data[proc.log_offsets[-1] :]
        return data.decode("utf-8", "replace")

    def log_report(self, names: Iterable[str] | None = None, lines: int = 60) -> str:
        parts = []
        for name in names or list(self.processes):
            tail = "\n".join(self.log(name).splitlines()[-lines:])
            parts.append(f"===== {name} ({self.processes[name].log_path}) =====\n{tail}")
        return "\n".join(parts)
