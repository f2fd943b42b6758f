"""How long a merge takes, from approval to `completed`, as the number of records grows.

For each backend (SQLite, and PostgreSQL when reachable) and each size (100 and 10,000
packages plus as many invoices), the five real processes are started (tests/e2e/harness.py),
two customers are created through the API, the absorbed one gets its packages and invoices by
a bulk insert straight into package- and contract-service's databases (set-up, not measured),
and then the merge runs through the gateway: start, take over data, submit, and the staff
approval. The clock runs from the approval request until GET /api/v1/admin/merges/{id}
reports `completed`; it prints seconds and records/s.

Goal (issue 4): 10,000 packages + 10,000 invoices in under 1 second.

    .venv/bin/python bench/merge.py [--sizes 100 10000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the tests' harness; the packages are installed in the venv
    sys.path.insert(0, str(REPO))

from cc_common.db import make_engine  # noqa: E402
from contract_service.adapters.orm import InvoiceRow  # noqa: E402
from package_service.adapters.orm import DomainRow, PackageRow  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from tests.e2e.harness import Suite  # noqa: E402

VERBOSE = False
_NEXT_SEQ = 50_000_000  # far above the invoice numbers the API hands out


def seed(suite: Suite, owner: str, count: int) -> None:
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    packages = [
        {
            "id": f"pkg_b{tag}{i:07d}",
            "customer_number": owner,
            "product": "hosting-basic",
            "status": "active",
            "created_at": now,
        }
        for i in range(count)
    ]
    domains = [
        {"name": f"bench-{tag}-{i}.example", "package_id": p["id"], "position": 0}
        for i, p in enumerate(packages)
    ]
    engine = make_engine(suite.database_urls["package"])
    with engine.begin() as conn:
        conn.execute(insert(PackageRow), packages)
        conn.execute(insert(DomainRow), domains)
    engine.dispose()
    global _NEXT_SEQ
    base, _NEXT_SEQ = _NEXT_SEQ, _NEXT_SEQ + count
    invoices = [
        {
            "number": f"BX{base + i}",
            "seq": base + i,
            "customer_number": owner,
            "date": date.today(),
            "amount_cents": 999,
            "currency": "EUR",
            "status": "paid",
            "created_at": now,
        }
        for i in range(count)
    ]
    engine = make_engine(suite.database_urls["contract"])
    with engine.begin() as conn:
        conn.execute(insert(InvoiceRow), invoices)
    engine.dispose()


def one_merge(suite: Suite, count: int) -> float:
    target = suite.create_customer("de")
    source = suite.create_customer(
        "de", first_name=target.fields["first_name"], last_name=target.fields["last_name"]
    )
    seed(suite, source.number, count)
    token = suite.login_customer(target.number, target.password)
    merge = suite.api(
        "POST",
        "/api/v1/merges",
        token=token,
        expect=201,
        json={"source_customer_number": source.number, "source_password": source.password},
    ).json()
    suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)
    staff = suite.staff_token()
    started = time.perf_counter()
    suite.api("POST", f"/api/v1/admin/merges/{merge['id']}/approve", token=staff, expect=202)
    while True:
        status = suite.api("GET", f"/api/v1/merges/{merge['id']}", token=token, expect=200).json()["status"]
        if status in ("completed", "failed"):
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if status != "completed":
        raise SystemExit(f"the merge ended {status}")
    moved = suite.api("GET", f"/api/v1/admin/merges/{merge['id']}", token=staff, expect=200).json()["moved"]
    if VERBOSE:
        audit = suite.api("GET", f"/api/v1/admin/merges/{merge['id']}", token=staff, expect=200).json()
        for step in audit["steps"]:
            t0 = datetime.fromisoformat(step["started_at"])
            t1 = datetime.fromisoformat(step["finished_at"])
            print(f"    {step['name']:<30} {(t1 - t0).total_seconds():.3f} s")
    assert len(moved["packages"]) == count and len(moved["invoices"]) == count, {
        k: len(v) for k, v in moved.items()
    }
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--steps", action="store_true", help="print the time of each saga step")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.steps
    print(f"{'backend':<11} {'packages':>9} {'invoices':>9} {'seconds':>8} {'records/s':>11}")
    for backend in args.backends:
        urls = None
        databases = None
        if backend == "postgresql":
            from tests.conftest import PgDatabases, pg_problem

            problem = pg_problem()
            if problem:
                print(f"{backend:<11} skipped: PostgreSQL not reachable ({problem})")
                continue
            databases = PgDatabases()
            urls = {name: databases.create(name) for name in ("identity", "contract", "package", "merge")}
        with (
            tempfile.TemporaryDirectory() as tmp,
            Suite(Path(tmp), database_urls=urls, mail_sink=False) as suite,
        ):
            for count in args.sizes:
                seconds = one_merge(suite, count)
                print(
                    f"{backend:<11} {count:>9} {count:>9} {seconds:>8.3f} {2 * count / seconds:>11,.0f}",
                    flush=True,
                )
        if databases is not None:
            databases.drop_all()


if __name__ == "__main__":
    main()
