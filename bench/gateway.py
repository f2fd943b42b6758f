"""Gateway throughput against its limits, in one run on this machine.

1. requests/s of a bare Flask app with one constant route (the limit), and of
   GET /api/v1/packages with a customer token (JWT check, one gRPC hop, one query), both on
   the same WSGI server and worker count (gunicorn gthread, deploy/gunicorn.conf.py); the
   ratio of the two. Goal: >= 0.25 on 2 cores.
2. customer logins/s through the gateway against the argon2 limit (cores / the time of one
   argon2id hash, m=19456 KiB, t=2, p=1). Goal: >= 80% of the limit.

With --traces, instead: GET /api/v1/packages with traces off (no OTEL_* variable: the no-op
tracer, cc_common/telemetry.py) and on (every process exporting over OTLP/HTTP to a local
receiver that drops the spans, tests/support/otlp_receiver.py), alternating, and the ratio.

The five real processes are started on free ports in a temporary directory (the harness of
the end-to-end tests, tests/e2e/harness.py). The load comes from `wrk` when it is installed,
else from a Python client (processes x threads over keep-alive connections); either shares
the cores with the servers, which the figures include.

    make bench                      # or: .venv/bin/python bench/gateway.py --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the tests' harness; the packages are installed in the venv
    sys.path.insert(0, str(REPO))

from tests.e2e.harness import GUNICORN_CONF, Suite, child_env, free_ports  # noqa: E402

RATIO_GOAL = 0.25
LOGIN_GOAL = 0.80


# --- load generators ----------------------------------------------------------------------


class Load:
    """One load run: `method path` with headers/body on `port` for `seconds`."""

    def __init__(self, port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None):
        self.port = port
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def run(self, seconds: float, connections: int, use_wrk: bool) -> tuple[float, int]:
        """(successful requests per second, failed responses)."""
        if use_wrk:
            return self._wrk(seconds, connections)
        return self._python(seconds, connections)

    def _wrk(self, seconds: float, connections: int) -> tuple[float, int]:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(f"wrk.method = {json.dumps(self.method)}\n")
            for key, value in self.headers.items():
                script.write(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}\n")
            if self.body is not None:
                script.write(f"wrk.body = {json.dumps(self.body.decode())}\n")
        try:
            out = subprocess.run(
                [
                    "wrk",
                    "-t",
                    "1",
                    "-c",
                    str(connections),
                    "-d",
                    f"{max(1, round(seconds))}s",
                    "--timeout",
                    "10s",
                    "-s",
                    script.name,
                    f"http://127.0.0.1:{self.port}{self.path}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        finally:
            os.unlink(script.name)
        total = int(re.search(r"(\d+) requests in", out).group(1))
        duration = _wrk_seconds(re.search(r"requests in ([\d.]+\w+),", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
        return (total - (int(bad.group(1)) if bad else 0)) / duration, failed

    def _python(self, seconds: float, connections: int) -> tuple[float, int]:
        processes = max(1, min(os.cpu_count() or 1, connections))
        per_process = [
            connections // processes + (1 if i < connections % processes else 0) for i in range(processes)
        ]
        ctx = multiprocessing.get_context("fork")  # the worker needs nothing but http.client
        with ctx.Pool(processes) as pool:
            results = pool.starmap(
                _python_worker,
                [
                    (self.port, self.method, self.path, self.headers, self.body, seconds, n)
                    for n in per_process
                ],
            )
        ok = sum(r[0] for r in results)
        failed = sum(r[1] for r in results)
        return ok / seconds, failed


def _wrk_seconds(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def _python_worker(port, method, path, headers, body, seconds, threads) -> tuple[int, int]:
    counts = [[0, 0] for _ in range(threads)]
    deadline = time.monotonic() + seconds

    def loop(slot: list[int]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            try:
                conn.request(method, path, body=body, headers=headers)
                reply = conn.getresponse()
                reply.read()
                slot[0 if reply.status < 400 else 1] += 1
                if reply.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except (OSError, http.client.HTTPException):
                slot[1] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()

    workers = [threading.Thread(target=loop, args=(slot,)) for slot in counts]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


# --- the bare Flask app ---------------------------------------------------------------------


class BareFlask:
    """bench/bare_app.py under gunicorn with the gateway's configuration."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_ports(1)[0]
        env = {k: v for k, v in child_env(repo_on_path=True).items() if not k.startswith("GATEWAY_")}
        self.log = open(workdir / "bare-flask.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(GUNICORN_CONF),
                "--bind",
                f"127.0.0.1:{self.port}",
                "bench.bare_app:create_app()",
            ],
            env=env,
            cwd=workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bare Flask app exited; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the bare Flask app did not answer within 30s")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.log.close()


# --- argon2 ----------------------------------------------------------------------------------


def argon2_hash_seconds(samples: int = 15) -> float:
    """The time of one argon2id hash with the suite's parameters: the fastest of `samples`
    (other load on the machine only ever makes a hash slower, so the minimum is its cost)."""
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)
    hasher.hash("warm-up password")
    times = []
    for i in range(samples):
        start = time.perf_counter()
        hasher.hash(f"benchmark password {i}")
        times.append(time.perf_counter() - start)
    return min(times)


# --- the run ---------------------------------------------------------------------------------


def measure(load: Load, seconds: float, connections: int, use_wrk: bool, warmup: float) -> tuple[float, int]:
    if warmup > 0:
        load.run(warmup, connections, use_wrk)
    return load.run(seconds, connections, use_wrk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up before each measurement")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument(
        "--login-connections",
        type=int,
        default=0,
        help="concurrent logins (default: 2 x the gateway's worker threads)",
    )
    parser.add_argument("--packages", type=int, default=3, help="packages of the benchmark's customer")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--traces",
        action="store_true",
        help="only GET /api/v1/packages, with traces off and on (OTLP to a local receiver)",
    )
    args = parser.parse_args(argv)

    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk") is not None)
    cores = os.cpu_count() or 1
    workers, threads = 2, 4  # deploy/gunicorn.conf.py
    print(
        f"cores: {cores}; gunicorn gthread {workers} workers x {threads} threads; "
        f"load: {'wrk' if use_wrk else 'Python client'}, {args.connections} connections, {args.seconds:g} s"
    )

    with tempfile.TemporaryDirectory(prefix="cc-bench-") as tmp:
        workdir = Path(tmp)
        suite = Suite(
            workdir / "suite",
            env={
                "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
                "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
                "GATEWAY_WORKERS": str(workers),
                "GATEWAY_THREADS": str(threads),
                "GATEWAY_REUSE_PORT": "1",  # as in production (the tests turn it off)
            },
            mail_sink=False,
        )
        try:
            suite.start_all()
            customer = suite.create_customer(market="de")
            for _ in range(args.packages):
                suite.create_package(customer.number)
            token = suite.login_customer(customer.number, customer.password)
            check = suite.api("GET", "/api/v1/packages", token=token, expect=200).json()
            assert len(check["packages"]) == args.packages, check
            if args.traces:
                return traces_off_and_on(suite, token, args, use_wrk)

            # Each side is measured twice, alternating, and the better run counts: a single run
            # is sometimes halved by whatever else the machine does at that moment.
            auth = {"Authorization": f"Bearer {token}"}
            runs: dict[str, list[tuple[float, int]]] = {"bare": [], "gateway": []}
            bare = BareFlask(workdir)
            try:
                for _ in range(2):
                    runs["bare"].append(
                        measure(
                            Load(bare.port, "GET", "/", {}),
                            args.seconds,
                            args.connections,
                            use_wrk,
                            args.warmup,
                        )
                    )
                    runs["gateway"].append(
                        measure(
                            Load(suite.ports["gateway"], "GET", "/api/v1/packages", auth),
                            args.seconds,
                            args.connections,
                            use_wrk,
                            args.warmup,
                        )
                    )
            finally:
                bare.stop()
            bare_rps, bare_failed = max(runs["bare"])
            gw_rps, gw_failed = max(runs["gateway"])
            print(
                "runs (req/s): bare "
                + ", ".join(f"{r:.0f}" for r, _ in runs["bare"])
                + "; packages "
                + ", ".join(f"{r:.0f}" for r, _ in runs["gateway"])
            )
            ratio = gw_rps / bare_rps if bare_rps else 0.0
            print(f"bare Flask, constant route:        {bare_rps:8.0f} req/s" + _failed(bare_failed))
            print(f"GET /api/v1/packages (customer):   {gw_rps:8.0f} req/s" + _failed(gw_failed))
            print(f"ratio: {ratio:.3f} (goal >= {RATIO_GOAL:.2f})")

            hash_seconds = argon2_hash_seconds()
            limit = cores / hash_seconds
            body = json.dumps({"customer_number": customer.number, "password": customer.password}).encode()
            login = Load(
                suite.ports["gateway"],
                "POST",
                "/api/v1/auth/customer-login",
                {"Content-Type": "application/json"},
                body,
            )
            login_connections = args.login_connections or 2 * threads
            login_rps, login_failed = measure(
                login, args.seconds, login_connections, use_wrk, min(args.warmup, 1)
            )
            share = login_rps / limit
            print(
                f"argon2id (m=19456, t=2, p=1): one hash {hash_seconds * 1000:.1f} ms; "
                f"limit {cores} cores / hash = {limit:.1f} logins/s"
            )
            print(
                f"customer logins ({login_connections} concurrent): {login_rps:.1f}/s = {share:.0%} of the "
                f"argon2 limit (goal >= {LOGIN_GOAL:.0%})" + _failed(login_failed)
            )
        except Exception:
            print(suite.log_report(lines=30), file=sys.stderr)
            raise
        finally:
            suite.close()

    met = ratio >= RATIO_GOAL and share >= LOGIN_GOAL
    print("goals met" if met else "goals NOT met")
    return 0 if met or not args.check else 1


def set_traces(suite, env: dict[str, str]) -> None:
    """Restarts every process with these OTEL_* variables (and no other)."""
    for name in reversed(suite.names):  # the gateway first
        suite.stop(name)
    for name in suite.names:
        proc_env = suite.processes[name].env
        for key in [k for k in proc_env if k.startswith("OTEL_")]:
            del proc_env[key]
        proc_env.update(env)
        suite.start(name)
    suite.wait_ready(60)


def traces_off_and_on(suite, token: str, args, use_wrk: bool) -> int:
    """GET /api/v1/packages with traces off (nothing set), on (exported) and, for reference,
    without any instrumentation (OTEL_SDK_DISABLED=true); twice each, alternating; the better
    run of each side counts (a run is sometimes halved by whatever else the machine does)."""
    from tests.support.otlp_receiver import OtlpReceiver

    load = Load(suite.ports["gateway"], "GET", "/api/v1/packages", {"Authorization": f"Bearer {token}"})
    runs: dict[str, list[tuple[float, int]]] = {"disabled": [], "off": [], "on": []}
    with OtlpReceiver(keep=False) as receiver:
        sides = {
            "disabled": {"OTEL_SDK_DISABLED": "true"},
            "off": {},
            "on": {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url},
        }
        for _ in range(2):
            for side, env in sides.items():
                set_traces(suite, env)
                runs[side].append(measure(load, args.seconds, args.connections, use_wrk, args.warmup))
        exports = receiver.requests
    best = {side: max(r) for side, r in runs.items()}
    print(
        "runs (req/s): "
        + "; ".join(f"{side} " + ", ".join(f"{r:.0f}" for r, _ in r) for side, r in runs.items())
    )
    labels = {
        "disabled": "no instrumentation (OTEL_SDK_DISABLED)",
        "off": "traces off (nothing set)",
        "on": "traces exported (OTLP/HTTP)",
    }
    for side, (rps, failed) in best.items():
        print(f"GET /api/v1/packages, {labels[side]:40} {rps:8.0f} req/s" + _failed(failed))
    print(f"({exports} OTLP exports received)")
    off, on, bare = best["off"][0], best["on"][0], best["disabled"][0]
    print(
        f"off / no instrumentation: {off / bare if bare else 0.0:.3f}; on / off: {on / off if off else 0.0:.3f}"
    )
    return 0


def _failed(count: int) -> str:
    return f"  ({count} failed responses)" if count else ""


if __name__ == "__main__":
    sys.exit(main())
