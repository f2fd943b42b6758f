"""The cluster of `make cluster` for the tests: two copies of every service and of the gateway
on PostgreSQL, under supervisord, behind haproxy, started by the same code as the make target
(scripts/cluster.py) with this run's own directory, free ports and throw-away databases.

One cluster per pytest-xdist worker that runs these tests; the test modules put themselves into
one xdist group ("cluster"), so under `make test` (`--dist loadgroup`) a single worker starts it.
Needs PostgreSQL, haproxy and supervisor: without them the tests skip with the reason, except
under CI=true, where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import REPO, ApiClient, MailSink, free_ports

STAFF_USERNAME = "staff"
STAFF_PASSWORD = "Staff-cluster-Passw0rd!"


def load_cluster_module():
    """scripts/cluster.py as a module (scripts/ is not a package)."""
    name = "cc_cluster_script"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "cluster.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _missing_tools() -> list[str]:
    missing = []
    if not any(
        Path(p).exists() for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")
    ) and not shutil.which("haproxy"):
        missing.append("haproxy (apt-get install haproxy; `make test` installs it)")
    if importlib.util.find_spec("supervisor") is None:
        missing.append("supervisor (pip install -r requirements-dev.txt)")
    return missing


@dataclass
class Cluster:
    layout: object
    script: object
    api: ApiClient
    mails: MailSink
    fault_file: Path

    def supervisorctl(self, *args: str, check: bool = True) -> str:
        return self.script.supervisorctl(self.layout, *args, check=check).stdout

    def pid(self, program: str) -> int:
        return int(self.supervisorctl("pid", program).strip())

    def log(self, program: str) -> str:
        return (self.layout.log_dir / f"{program}.log").read_text(errors="replace")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    from tests.conftest import require_postgres

    require_postgres()
    missing = _missing_tools()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the cluster tests need {', '.join(missing)} under CI=true")
        pytest.skip(f"the cluster tests need {', '.join(missing)}")
    script = load_cluster_module()
    work = tmp_path_factory.mktemp("cluster")
    mails = MailSink()
    ports = free_ports(21)
    fault_file = work / "faults"
    layout = script.Layout(
        workdir=work / "cluster",
        var_dir=work,
        gateway_port=ports[0],
        ports={
            "identity": ports[1:3],
            "contract": ports[3:5],
            "package": ports[5:7],
            "merge": ports[7:9],
            "gateway": ports[9:11],
        },
        # /metrics of every copy: free ports too (the defaults, 9100-9114, may be taken).
        metrics_ports={
            "identity": ports[11:13],
            "contract": ports[13:15],
            "package": ports[15:17],
            "merge": ports[17:19],
            "gateway": ports[19:21],
        },
        database_prefix=f"cc_t{uuid.uuid4().hex[:8]}_",
        env={
            "STAFF_USERNAME": STAFF_USERNAME,
            "STAFF_PASSWORD": STAFF_PASSWORD,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mails.port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[0]}",
            "APP_ENV": "development",
            # A port another test's gateway holds fails loudly instead of being shared.
            "GATEWAY_REUSE_PORT": "0",
            "MERGE_LEASE_SECONDS": "5",
            "MERGE_POLL_SECONDS": "0.5",
            "FAULT_INJECT_FILE": str(fault_file),
        },
    )
    try:
        script.up(layout, timeout=120)
    except BaseException:
        script.down(layout)
        script.drop_databases(layout)
        mails.stop()
        raise
    api = ApiClient(layout.base_url, staff_username=STAFF_USERNAME, staff_password=STAFF_PASSWORD)
    try:
        yield Cluster(layout, script, api, mails, fault_file)
    finally:
        script.down(layout)
        script.drop_databases(layout)
        mails.stop()
