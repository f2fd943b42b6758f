"""Latency as the data grows: 1,000, 100,000 and 1,000,000 customers on PostgreSQL.

The five real processes run on PostgreSQL (tests/e2e/harness.py, throw-away databases). The
customers, their login credentials, packages with a domain each, the contract of every package
and a few invoices per customer are bulk-loaded with COPY straight into the services' tables,
incrementally (1,000, then up to 100,000, then up to 1,000,000), each load followed by ANALYZE.
All bulk customers share one password (its argon2id hash is computed once, by identity-service's
own hasher). Customer i is number 90,000,000 + i; customers 2k and 2k+1 have the same market,
name, address and payment data, so they can be merged online.

After each load it measures, through the gateway's HTTP port, one request at a time:

    login      POST /api/v1/auth/customer-login of a random bulk customer
    packages   GET /api/v1/packages with the token of a random bulk customer
    invoices   GET /api/v1/invoices with the token of a random bulk customer
    merge      one merge of two bulk customers: POST /api/v1/merges (with the source's password),
               take-over-data, submit, staff approve, until `completed` (whole flow), and
               from the approval to `completed` (merge-approved)

and prints p50 and p99 of each, and their ratio to the smallest size. Goal: every ratio at
most 1.2 at 1,000,000 customers (each query is a look-up by index). A second suite that keeps
the smallest size (the reference) takes turns with the measured one, request by request, and
the ratio to it is printed too: on a shared machine it cancels most of the noise that the
minutes between the sizes bring. Sequential scans of large tables during a measurement
(pg_stat_user_tables) are listed; --explain prints the plans of the hot queries.

Last it compares requests/s of one fixed workload (GET /api/v1/packages with a customer token,
`--connections` keep-alive connections for `--seconds`) on the single-copy suite on SQLite (as
`make run`) and on the cluster of `make cluster` (scripts/cluster.py: every process
`--cluster-copies` times on PostgreSQL, supervisord, haproxy), both on this machine.

    .venv/bin/python bench/scale.py                          # 1,000 / 100,000 / 1,000,000
    .venv/bin/python bench/scale.py --quick                  # 1,000 / 5,000, fewer samples
    .venv/bin/python bench/scale.py --sizes 1000,20000 --no-cluster
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the tests' harness; the packages are installed in the venv
    sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench.gateway import Load, measure  # noqa: E402
from tests.e2e.harness import MARKET_DEFAULTS, ApiClient, Suite, free_ports  # noqa: E402

SERVICES = ("identity", "contract", "package", "merge")
GOAL = 1.2
BULK_BASE = 90_000_000  # bulk customer i is number BULK_BASE + i (8 digits up to 9,999,999 customers)
BULK_PASSWORD = "Bulk-Customer-Passw0rd!"
MARKETS = ("de", "nl", "uk")
CURRENCY = {"de": "EUR", "nl": "EUR", "uk": "GBP"}
PRODUCTS = ("hosting-basic", "hosting-plus", "hosting-pro")
FIRST_NAMES = ("Anna", "Jan", "Lena", "Tom", "Eva", "Paul", "Mia", "Ben", "Sara", "Max")
CHUNK = 20_000  # customers per COPY batch
STAFF = ("staff", "Staff-scale-Passw0rd!")
# No limit of the suite should throttle the benchmark's own (successful) logins.
SUITE_ENV = {
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
    "PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS": "1000000",
}


# --- databases -------------------------------------------------------------------------------


class Databases:
    """Throw-away PostgreSQL databases `<prefix><service>`, dropped by drop()."""

    def __init__(self, host: str, port: int, prefix: str) -> None:
        self.host, self.port, self.prefix = host, port, prefix
        self.created: list[str] = []

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            f"host={self.host} port={self.port} user=postgres dbname=postgres",
            autocommit=True,
            connect_timeout=5,
        )

    def create(self) -> dict[str, str]:
        with self._admin() as conn:
            for service in SERVICES:
                conn.execute(f'CREATE DATABASE "{self.prefix}{service}"')
                self.created.append(f"{self.prefix}{service}")
        return {
            s: f"postgresql+psycopg://postgres@{self.host}:{self.port}/{self.prefix}{s}" for s in SERVICES
        }

    def dsn(self, service: str) -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={self.prefix}{service}"

    def drop(self) -> None:
        with self._admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


# --- bulk load -------------------------------------------------------------------------------


def number_of(i: int) -> str:
    return str(BULK_BASE + i)


def market_of(i: int) -> str:
    return MARKETS[(i // 2) % len(MARKETS)]


def password_hash() -> str:
    """The one argon2id hash every bulk customer gets, made by identity-service's hasher."""
    from identity_service.adapters.passwords import Argon2Hasher

    return Argon2Hasher().hash(BULK_PASSWORD)


def _customer_lines(start: int, stop: int, now: str) -> str:
    out = []
    for i in range(start, stop):
        market = market_of(i)
        d = MARKET_DEFAULTS[market]
        if market == "uk":
            payment = f"card\t\t\t{d['card_token']}\t{d['card_last4']}\t{d['card_expiry']}"
        else:
            payment = f"sepa\t{d['iban']}\t{d['bic']}\t\t\t"
        out.append(
            f"{BULK_BASE + i}\t{market}\t\t{FIRST_NAMES[(i // 2) % 10]}\tBulk{i // 2:07d}\t{d['street']}\t"
            f"{d['zip']}\t{d['city']}\t{d['country']}\t{d['phone']}\t{d['mobile']}\t\t"
            f"bulk{i}@example.com\tactive\t\t{payment}\t{now}\t{now}\n"
        )
    return "".join(out)


CUSTOMER_COLUMNS = (
    "customer_number, market, company, first_name, last_name, street, zip, city, country, phone, "
    "mobile, fax, email, status, merged_into, payment_method, iban, bic, card_token, card_last4, "
    "card_expiry, created_at, updated_at"
)


def _copy(conn: psycopg.Connection, sql: str, chunks: Iterator[str]) -> None:
    with conn.cursor() as cur, cur.copy(sql) as copy:
        for chunk in chunks:
            copy.write(chunk)


def load_identity(dsn: str, start: int, stop: int, hashed: str, now: str) -> None:
    def chunks() -> Iterator[str]:
        for a in range(start, stop, CHUNK):
            yield "".join(
                f"{BULK_BASE + i}\t{hashed}\tactive\t\\N\t{now}\n" for i in range(a, min(stop, a + CHUNK))
            )

    with psycopg.connect(dsn) as conn:
        _copy(
            conn,
            "COPY customer_credentials (customer_number, password_hash, status, merged_into, updated_at) "
            "FROM STDIN",
            chunks(),
        )
        conn.commit()
        conn.execute("ANALYZE customer_credentials")
        conn.commit()


def load_contract(
    dsn: str, start: int, stop: int, packages: int, invoices: int, debit_every: int, now: str
) -> None:
    today = date.today()
    with psycopg.connect(dsn) as conn:
        _copy(
            conn,
            f"COPY customers ({CUSTOMER_COLUMNS}) FROM STDIN",
            (_customer_lines(a, min(stop, a + CHUNK), now) for a in range(start, stop, CHUNK)),
        )

        def contracts() -> Iterator[str]:
            for a in range(start, stop, CHUNK):
                yield "".join(
                    f"ctr_{i * packages + j:016x}\tpkg_{i * packages + j:016x}\t{BULK_BASE + i}\t"
                    f"{PRODUCTS[(i + j) % 3]}\t{today - timedelta(days=30 + (i * 7 + j * 13) % 900)}\t12\tactive\t{now}\n"
                    for i in range(a, min(stop, a + CHUNK))
                    for j in range(packages)
                )

        _copy(
            conn,
            "COPY contracts (id, package_id, customer_number, product, start_date, term_months, status, "
            "created_at) FROM STDIN",
            contracts(),
        )
        # Invoice numbers come from the "invoice" sequence row, as the service takes them: the
        # values for this load are taken in one step, so later invoices of the API go on after them.
        count = (stop - start) * invoices
        first = conn.execute(
            "UPDATE sequences SET next_value = next_value + %s WHERE name = 'invoice' RETURNING next_value - %s",
            (count, count),
        ).fetchone()[0]

        def invoice_lines() -> Iterator[str]:
            for a in range(start, stop, CHUNK):
                out = []
                for i in range(a, min(stop, a + CHUNK)):
                    currency = CURRENCY[market_of(i)]
                    for j in range(invoices):
                        seq = first + (i - start) * invoices + j
                        status = "open" if j == 0 else "paid"
                        out.append(
                            f"RE{seq:08d}\t{seq}\t{BULK_BASE + i}\t{today - timedelta(days=30 * j)}\t"
                            f"{999 + (i + j) % 4000}\t{currency}\t{status}\t{now}\n"
                        )
                yield "".join(out)

        _copy(
            conn,
            "COPY invoices (number, seq, customer_number, date, amount_cents, currency, status, created_at) "
            "FROM STDIN",
            invoice_lines(),
        )
        if debit_every and invoices:
            # A repeat debit requested for the open invoice (the first) of every `debit_every`-th
            # customer; such a request stays `requested` (what happens next is outside the suite).
            def debit_lines() -> Iterator[str]:
                for a in range(start, stop, CHUNK):
                    yield "".join(
                        f"RE{first + (i - start) * invoices:08d}\t{now}\trequested\n"
                        for i in range(a, min(stop, a + CHUNK))
                        if i % debit_every == 0
                    )

            _copy(
                conn, "COPY debit_requests (invoice_number, requested_at, status) FROM STDIN", debit_lines()
            )
        conn.commit()
        for table in ("customers", "contracts", "invoices", "sequences", "debit_requests"):
            conn.execute(f"ANALYZE {table}")
        conn.commit()


def load_package(dsn: str, start: int, stop: int, packages: int, now: str) -> None:
    with psycopg.connect(dsn) as conn:

        def package_lines() -> Iterator[str]:
            for a in range(start, stop, CHUNK):
                yield "".join(
                    f"pkg_{i * packages + j:016x}\t{BULK_BASE + i}\t{PRODUCTS[(i + j) % 3]}\tactive\t{now}\t"
                    f"{(i + j) % 7}\t{(i + j) % 5}\t{(i + j) % 3}\n"
                    for i in range(a, min(stop, a + CHUNK))
                    for j in range(packages)
                )

        def domain_lines() -> Iterator[str]:
            for a in range(start, stop, CHUNK):
                yield "".join(
                    f"c{i:07d}-p{j}.example\tpkg_{i * packages + j:016x}\t0\n"
                    for i in range(a, min(stop, a + CHUNK))
                    for j in range(packages)
                )

        _copy(
            conn,
            "COPY packages (id, customer_number, product, status, created_at, storage_used_gb, "
            "mailboxes_used, databases_used) FROM STDIN",
            package_lines(),
        )
        _copy(conn, "COPY domains (name, package_id, position) FROM STDIN", domain_lines())
        conn.commit()
        conn.execute("ANALYZE packages")
        conn.execute("ANALYZE domains")
        conn.commit()


def bulk_load(
    dbs: Databases, start: int, stop: int, hashed: str, packages: int, invoices: int, debit_every: int
) -> float:
    """Customers start..stop-1 into the three databases (in parallel); returns the seconds."""
    now = datetime.now(UTC).isoformat()
    began = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(load_identity, dbs.dsn("identity"), start, stop, hashed, now),
            pool.submit(
                load_contract, dbs.dsn("contract"), start, stop, packages, invoices, debit_every, now
            ),
            pool.submit(load_package, dbs.dsn("package"), start, stop, packages, now),
        ]
        for future in futures:
            future.result()
    return time.perf_counter() - began


# --- measuring -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Probe:
    """Requests through the gateway, one at a time, timed."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.http = requests.Session()
        self.steps: dict[str, list[float]] = {}  # merge saga step -> seconds (the merges' audit)

    def timed(
        self, method: str, path: str, *, token: str | None = None, expect: int = 200, json: dict | None = None
    ) -> tuple[float, requests.Response]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.perf_counter()
        reply = self.http.request(method, self.suite.url(path), headers=headers, json=json, timeout=60)
        elapsed = time.perf_counter() - started
        if reply.status_code != expect:
            raise RuntimeError(
                f"{method} {path}: expected {expect}, got {reply.status_code}: {reply.text[:500]}"
            )
        return elapsed, reply

    def login(self, i: int) -> tuple[float, str]:
        seconds, reply = self.timed(
            "POST",
            "/api/v1/auth/customer-login",
            json={"customer_number": number_of(i), "password": BULK_PASSWORD},
        )
        return seconds, reply.json()["access_token"]

    def merge(self, target: int, source: int) -> tuple[float, float]:
        """(seconds of the whole flow, seconds from the approval to `completed`)."""
        _, token = self.login(target)
        staff = self.suite.staff_token()
        began = time.perf_counter()
        _, reply = self.timed(
            "POST",
            "/api/v1/merges",
            token=token,
            expect=201,
            json={"source_customer_number": number_of(source), "source_password": BULK_PASSWORD},
        )
        merge_id = reply.json()["id"]
        self.timed("POST", f"/api/v1/merges/{merge_id}/take-over-data", token=token)
        self.timed("POST", f"/api/v1/merges/{merge_id}/submit", token=token, expect=202)
        approved = time.perf_counter()
        self.timed("POST", f"/api/v1/admin/merges/{merge_id}/approve", token=staff, expect=202)
        deadline = approved + 120
        while True:
            status = self.timed("GET", f"/api/v1/merges/{merge_id}", token=token)[1].json()["status"]
            if status in ("completed", "failed"):
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"merge {merge_id} still {status} after 120 s")
            time.sleep(0.005)
        done = time.perf_counter()
        if status != "completed":
            raise RuntimeError(f"merge {merge_id} ended {status}")
        audit = self.timed("GET", f"/api/v1/admin/merges/{merge_id}", token=staff)[1].json()
        for step in audit.get("steps", []):
            if step.get("started_at") and step.get("finished_at"):
                seconds = (
                    datetime.fromisoformat(step["finished_at"]) - datetime.fromisoformat(step["started_at"])
                ).total_seconds()
                self.steps.setdefault(step["name"], []).append(seconds)
        return done - began, done - approved


OPERATIONS = ("login", "packages", "invoices", "merge", "merge-approved")


class Target:
    """A suite with its databases and bulk customers, and what has been measured on it."""

    def __init__(self, name: str, suite: Suite, dbs: Databases) -> None:
        self.name, self.suite, self.dbs = name, suite, dbs
        self.probe = Probe(suite)
        self.size = 0
        self.merged: set[int] = set()  # pairs (2k, 2k+1) merged already: k

    def pick(self, rng) -> int:
        while True:
            i = rng.randrange(self.size)
            if i // 2 not in self.merged:
                return i

    def pick_pair(self, rng) -> int:
        while True:
            pair = rng.randrange(self.size // 2)
            if pair not in self.merged:
                self.merged.add(pair)
                return pair


def sample(targets: list[Target], samples: int, merges: int, rng) -> list[dict[str, list[float]]]:
    """The samples of every operation on every target; the targets take turns request by
    request, so that whatever else the machine does hits them alike."""
    results = [{op: [] for op in OPERATIONS} for _ in targets]
    for _ in range(5):  # warm-up: connections, the gateway's workers, caches
        for t in targets:
            _, token = t.probe.login(t.pick(rng))
            t.probe.timed("GET", "/api/v1/packages", token=token)
            t.probe.timed("GET", "/api/v1/invoices", token=token)
    tokens: list[list[str]] = [[] for _ in targets]
    for _ in range(samples):
        for k, t in enumerate(targets):
            seconds, token = t.probe.login(t.pick(rng))
            results[k]["login"].append(seconds)
            tokens[k].append(token)
    for path, op in (("/api/v1/packages", "packages"), ("/api/v1/invoices", "invoices")):
        for _ in range(samples):
            for k, t in enumerate(targets):
                results[k][op].append(t.probe.timed("GET", path, token=rng.choice(tokens[k]))[0])
    for t in targets:
        t.probe.steps.clear()
    for _ in range(merges):
        for k, t in enumerate(targets):
            pair = t.pick_pair(rng)
            whole, approved = t.probe.merge(2 * pair, 2 * pair + 1)
            results[k]["merge"].append(whole)
            results[k]["merge-approved"].append(approved)
    return results


def print_table(
    sizes: list[int],
    figures: dict[int, dict[str, list[float]]],
    reference: dict[int, dict[str, list[float]]] | None,
) -> tuple[bool, bool | None]:
    """The table; returns whether the goal is met against the first size and (with a
    reference) against the reference measured at the same time."""
    base = figures[sizes[0]]
    head = (
        f"{'operation':<15} {'customers':>10} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p50 ratio':>9} {'p99 ratio':>9}"
    )
    if reference:
        head += f" | {'ref p50':>8} {'ref p99':>8} {'p50 /ref':>8} {'p99 /ref':>8}"
    print()
    print(head)
    met, met_ref = True, (True if reference else None)
    last = sizes[-1] if len(sizes) > 1 else None
    for op in OPERATIONS:
        b50, b99 = percentile(base[op], 0.5), percentile(base[op], 0.99)
        for size in sizes:
            values = figures[size][op]
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            r50, r99 = p50 / b50, p99 / b99
            line = (
                f"{op:<15} {size:>10,} {len(values):>4} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f} "
                f"{r50:>9.2f} {r99:>9.2f}"
            )
            flags = []
            if size == last:
                flags.append("ok" if max(r50, r99) <= GOAL else f"> {GOAL}")
                met &= max(r50, r99) <= GOAL
            if reference:
                ref = reference[size][op]
                q50, q99 = percentile(ref, 0.5), percentile(ref, 0.99)
                s50, s99 = p50 / q50, p99 / q99
                line += f" | {q50 * 1000:>8.1f} {q99 * 1000:>8.1f} {s50:>8.2f} {s99:>8.2f}"
                if size == last:
                    flags.append("ok" if max(s50, s99) <= GOAL else f"> {GOAL}")
                    met_ref &= max(s50, s99) <= GOAL
            print(line + ("  " + " / ".join(flags) if flags else ""))
    return met, met_ref


def scan_counts(dbs: Databases) -> dict[str, tuple[int, int]]:
    """service.table -> (sequential scans, rows they read) so far."""
    counts = {}
    for service in SERVICES:
        with psycopg.connect(dbs.dsn(service)) as conn:
            for table, scans, rows in conn.execute(
                "SELECT relname, coalesce(seq_scan, 0), coalesce(seq_tup_read, 0) FROM pg_stat_user_tables"
            ):
                counts[f"{service}.{table}"] = (scans, rows)
    return counts


def report_scans(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> None:
    """Sequential scans during the measurement that read over 1,000 rows each (a large table
    scanned where an index should have been used; a small table is scanned, rightly, anyway)."""
    found = []
    for table, (scans, rows) in sorted(after.items()):
        s0, r0 = before.get(table, (0, 0))
        if scans > s0 and (rows - r0) / (scans - s0) > 1000:
            found.append(f"{table}: {scans - s0} scans read {rows - r0:,} rows")
    print(
        "  sequential scans of over 1,000 rows each while measuring: " + ("; ".join(found) or "none"),
        flush=True,
    )


def explain(dbs: Databases, i: int) -> None:
    """The plans of the hot queries for bulk customer i (to see an index is used)."""
    number = number_of(i)
    queries = {
        "identity": [f"SELECT * FROM customer_credentials WHERE customer_number = '{number}'"],
        "package": [
            "SELECT p.id, d.name FROM packages p LEFT OUTER JOIN domains d ON d.package_id = p.id "
            f"WHERE p.customer_number = '{number}' ORDER BY p.created_at, p.id, d.position",
        ],
        "contract": [
            "SELECT i.*, (SELECT max(r.requested_at) FROM debit_requests r WHERE r.invoice_number = i.number "
            f"AND r.status = 'requested') AS at FROM invoices i WHERE i.customer_number = '{number}' "
            "ORDER BY i.date DESC, i.seq DESC",
        ],
    }
    for service, sqls in queries.items():
        with psycopg.connect(dbs.dsn(service)) as conn:
            for sql in sqls:
                plan = conn.execute(f"EXPLAIN ANALYZE {sql}").fetchall()
                print(f"  [{service}] " + "\n  ".join(row[0] for row in plan))


# --- make cluster against make run -----------------------------------------------------------


def load_cluster_module():
    name = "cc_cluster_script"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "cluster.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def packages_workload(api: ApiClient, packages: int = 3) -> dict[str, str]:
    customer = api.create_customer(market="de")
    for _ in range(packages):
        api.create_package(customer.number)
    token = api.login_customer(customer.number, customer.password)
    api.api("GET", "/api/v1/packages", token=token, expect=200)
    return {"Authorization": f"Bearer {token}"}


def cluster_against_run(args, workdir: Path, host: str, port: int, tag: str) -> None:
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk") is not None)
    print(
        f"\nmake cluster against make run: GET /api/v1/packages, {args.connections} connections, "
        f"{args.seconds:g} s per run, {args.rounds} round(s), load: {'wrk' if use_wrk else 'Python client'}"
    )
    script = load_cluster_module()
    run = Suite(
        workdir / "run", env=SUITE_ENV, staff_username=STAFF[0], staff_password=STAFF[1], mail_sink=False
    )
    ports = free_ports(1 + 5 * args.cluster_copies)
    c = args.cluster_copies
    layout = script.Layout(
        workdir=workdir / "cluster",
        var_dir=workdir / "cluster-var",
        gateway_port=ports[0],
        copies=c,
        ports={name: ports[1 + k * c : 1 + (k + 1) * c] for k, name in enumerate((*SERVICES, "gateway"))},
        database_host=host,
        database_port=port,
        database_prefix=f"cc_scale_{tag}_cluster_",
        env={
            "STAFF_USERNAME": STAFF[0],
            "STAFF_PASSWORD": STAFF[1],
            "APP_ENV": "development",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[0]}",
            "GATEWAY_REUSE_PORT": "1",
            **SUITE_ENV,
        },
    )
    try:
        run.start_all()
        run_load = Load(run.ports["gateway"], "GET", "/api/v1/packages", packages_workload(run))
        try:
            with _output_to(workdir / "cluster-up.log"):  # the migrations' log lines
                script.up(layout, timeout=120)
        except Exception as error:  # noqa: BLE001 - reported, the rest of the figures stand
            print(f"the cluster with {c} copies did not start: {str(error)[:3000]}")
            print("(--cluster-copies 1 runs one copy of each process behind haproxy)")
            return
        api = ApiClient(layout.base_url, staff_username=STAFF[0], staff_password=STAFF[1])
        cluster_load = Load(layout.gateway_port, "GET", "/api/v1/packages", packages_workload(api))
        runs: dict[str, list[tuple[float, int]]] = {"run": [], "cluster": []}
        for _ in range(args.rounds):
            runs["run"].append(measure(run_load, args.seconds, args.connections, use_wrk, args.warmup))
            runs["cluster"].append(
                measure(cluster_load, args.seconds, args.connections, use_wrk, args.warmup)
            )
        run_rps, run_failed = max(runs["run"])
        cluster_rps, cluster_failed = max(runs["cluster"])
        print(
            "runs (req/s): make run "
            + ", ".join(f"{r:.0f}" for r, _ in runs["run"])
            + "; make cluster "
            + ", ".join(f"{r:.0f}" for r, _ in runs["cluster"])
        )
        print(f"make run (1 copy each, SQLite):                  {run_rps:8.0f} req/s" + _failed(run_failed))
        print(
            f"make cluster ({c} copies each, PostgreSQL, haproxy): {cluster_rps:8.0f} req/s"
            + _failed(cluster_failed)
        )
        print(f"ratio cluster / run: {cluster_rps / run_rps:.2f}")
    finally:
        try:
            script.down(layout)
        finally:
            script.drop_databases(layout)
            run.close()


@contextlib.contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """stdout and stderr of this process and its children go to `path` meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _failed(count: int) -> str:
    return f"  ({count} failed responses)" if count else ""


# --- the run ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000", help="customer counts, ascending")
    parser.add_argument("--samples", type=int, default=200, help="logins and GETs per size")
    parser.add_argument("--merges", type=int, default=5, help="merges per size")
    parser.add_argument("--packages-per-customer", type=int, default=2)
    parser.add_argument("--invoices-per-customer", type=int, default=3)
    parser.add_argument(
        "--debit-every",
        type=int,
        default=20,
        help="a pending repeat-debit request for every n-th customer's open invoice (0: none)",
    )
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="without the second suite that keeps the first size and is measured alongside",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1,000 and 5,000 customers, few samples"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the hot queries at each size"
    )
    parser.add_argument("--pg", default="127.0.0.1:5432", help="PostgreSQL host:port (user postgres)")
    parser.add_argument("--seed", type=int, default=1)
    cluster = parser.add_argument_group("make cluster against make run")
    cluster.add_argument("--no-cluster", action="store_true", help="leave out the comparison")
    cluster.add_argument("--cluster-copies", type=int, default=2)
    cluster.add_argument("--seconds", type=float, default=10, help="length of each throughput run")
    cluster.add_argument("--warmup", type=float, default=2)
    cluster.add_argument(
        "--rounds", type=int, default=2, help="runs of each side, alternating; the best counts"
    )
    cluster.add_argument("--connections", type=int, default=16)
    cluster.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args(argv)
    if args.quick:
        if args.sizes == parser.get_default("sizes"):
            args.sizes = "1000,5000"
        args.samples, args.merges = min(args.samples, 50), min(args.merges, 3)
        args.seconds, args.warmup, args.rounds = min(args.seconds, 3), min(args.warmup, 1), 1
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if sizes[-1] > 10_000_000 - 1:
        parser.error("at most 9,999,999 customers")
    host, _, port = args.pg.partition(":")
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(args.seed)
    print(
        f"sizes {', '.join(f'{s:,}' for s in sizes)}; {args.packages_per_customer} packages (1 domain, 1 "
        f"contract each) and {args.invoices_per_customer} invoices per customer, a pending repeat debit for every "
        f"{args.debit_every}th; {args.samples} samples and "
        f"{args.merges} merges per size; cores: {os.cpu_count()}"
    )
    with tempfile.TemporaryDirectory(prefix="cc-scale-") as tmp:
        workdir = Path(tmp)
        targets: list[Target] = []
        try:
            for name in ("main", *(() if args.no_reference else ("reference",))):
                dbs = Databases(host, int(port or 5432), f"cc_scale_{tag}_{name[:3]}_")
                urls = dbs.create()
                suite = Suite(
                    workdir / name,
                    database_urls=urls,
                    env=SUITE_ENV,
                    staff_username=STAFF[0],
                    staff_password=STAFF[1],
                )
                targets.append(Target(name, suite, dbs))
                suite.start_all()
            hashed = password_hash()
            figures: dict[int, dict[str, list[float]]] = {}
            reference: dict[int, dict[str, list[float]]] = {}
            for size in sizes:
                for t in targets if size == sizes[0] else targets[:1]:
                    seconds = bulk_load(
                        t.dbs,
                        t.size,
                        size,
                        hashed,
                        args.packages_per_customer,
                        args.invoices_per_customer,
                        args.debit_every,
                    )
                    print(
                        f"{t.name}: loaded customers {t.size:,}..{size - 1:,} ({size - t.size:,}) in "
                        f"{seconds:.1f} s ({(size - t.size) / seconds:,.0f} customers/s)",
                        flush=True,
                    )
                    t.size = size
                before = scan_counts(targets[0].dbs)
                began = time.perf_counter()
                results = sample(targets, args.samples, args.merges, rng)
                figures[size] = results[0]
                if len(results) > 1:
                    reference[size] = results[1]
                print(f"measured at {size:,} customers in {time.perf_counter() - began:.1f} s", flush=True)
                if args.merges:
                    print(
                        "  merge saga steps, p50 ms"
                        + (" (reference)" if len(targets) > 1 else "")
                        + ": "
                        + ", ".join(
                            f"{name} {percentile(values, 0.5) * 1000:.0f}"
                            + (
                                f" ({percentile(targets[1].probe.steps[name], 0.5) * 1000:.0f})"
                                if len(targets) > 1 and targets[1].probe.steps.get(name)
                                else ""
                            )
                            for name, values in targets[0].probe.steps.items()
                        )
                    )
                time.sleep(1.5)  # the servers' table statistics reach pg_stat_user_tables within a second
                report_scans(before, scan_counts(targets[0].dbs))
                if args.explain:
                    explain(targets[0].dbs, rng.randrange(size))
            met, met_ref = print_table(sizes, figures, reference or None)
            if len(sizes) > 1:
                print(
                    f"goal (every ratio <= {GOAL} at {sizes[-1]:,} customers): against the {sizes[0]:,} run "
                    f"{'met' if met else 'NOT met'}"
                    + (
                        ""
                        if met_ref is None
                        else f"; against the {sizes[0]:,} reference measured alongside {'met' if met_ref else 'NOT met'}"
                    )
                )
        except Exception:
            for t in targets:
                print(t.suite.log_report(lines=30), file=sys.stderr)
            raise
        finally:
            for t in targets:
                try:
                    t.suite.close()
                finally:
                    t.dbs.drop()
        if not args.no_cluster:
            cluster_against_run(args, workdir, host, int(port or 5432), tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
