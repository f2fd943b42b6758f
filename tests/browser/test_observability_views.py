"""The README's two observability screenshots, made from a real run of the suite:

- a merge's trace, from the spans the five processes exported over OTLP to a receiver this test
  runs (tests/support/otlp_receiver.py), drawn as Jaeger's timeline draws it;
- the provisioned Grafana dashboard (deploy/observability/grafana/dashboards/), every panel
  with what its own PromQL queries return from a real Prometheus (Debian's package) that
  scraped the processes' /metrics ports during the run.

Jaeger and Grafana themselves do not run here: both views are rendered by
tests/support/observability_views.py and photographed by chromium. The screenshots land in
test-results/browser/ (copied to docs/screenshots/ for the README).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import SCREENSHOTS
from tests.e2e.harness import PROCESSES, REPO, free_ports
from tests.e2e.test_merges import pair, start, wait_status
from tests.support import observability_views as views
from tests.support.otlp_receiver import OtlpReceiver

DASHBOARD = REPO / "deploy" / "observability" / "grafana" / "dashboards" / "customer-center.json"
STEPS = ["freeze", "move_packages", "move_contracts", "retire_contract", "retire_credentials", "unfreeze"]


def prometheus_binary() -> str | None:
    for candidate in (shutil.which("prometheus"), "/usr/bin/prometheus", "/usr/sbin/prometheus"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture
def receiver():
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture
def observed(suite_factory, receiver):
    return suite_factory(
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "MERGE_REVIEW": "auto",
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": "3",
        }
    )


@pytest.fixture
def prometheus(observed, tmp_path):
    binary = prometheus_binary()
    if binary is None:
        message = "prometheus is not installed (`make test` installs Debian's package)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    port = free_ports(1)[0]
    jobs = "\n".join(
        f"  - job_name: {name}\n    static_configs:\n      - targets: ['127.0.0.1:{observed.metrics_ports[name]}']"
        for name in PROCESSES
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{jobs}\n")
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"prometheus did not start: {(tmp_path / 'prometheus.log').read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def query_range(url: str, expr: str, start: float, end: float) -> list[dict]:
    reply = requests.get(
        f"{url}/api/v1/query_range",
        params={"query": expr, "start": start, "end": end, "step": 1},
        timeout=10,
    )
    assert reply.status_code == 200, f"{expr}: {reply.text}"
    return reply.json()["data"]["result"]


def legend(fmt: str, metric: dict) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(metric.get(m.group(1), "")), fmt or "") or "value"


def test_the_readmes_trace_and_dashboard_come_from_a_run_of_the_suite(
    observed, receiver, prometheus, open_browser
):
    suite = observed
    began = time.time()
    # Traffic for every row of the dashboard: reads, logins, lockouts and merges. A counter
    # that Prometheus first sees with its value already counted shows no increase, so each kind
    # of event happens once before and once after the first scrapes of its series.
    reader = suite.create_customer("de")
    suite.create_package(reader.number)
    suite.create_invoice(reader.number)
    token = suite.login_customer(reader.number, reader.password)

    def lock_out() -> None:
        victim = suite.create_customer("nl")
        for _ in range(4):
            suite.api(
                "POST",
                "/api/v1/auth/customer-login",
                json={"customer_number": victim.number, "password": "wrong-Pw-1"},
            )

    def merge_two() -> tuple[str, str]:
        target, source, _ = pair(suite, "de", packages=2, invoices=2)
        merge_token = suite.login_customer(target.number, target.password)
        merge = start(suite, merge_token, source).json()
        suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=merge_token, expect=200)
        suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=merge_token, expect=202)
        assert wait_status(suite, merge_token, merge["id"], {"completed", "failed"}) == "completed"
        return merge["id"], merge_token

    lock_out()
    merge_two()
    later = {12: lock_out, 14: merge_two}
    merge = None
    while time.time() - began < 28:  # a steady trickle for the rates
        for path in ("/api/v1/packages", "/api/v1/invoices", "/api/v1/customer"):
            suite.api("GET", path, token=token, expect=200)
        suite.login_customer(reader.number, reader.password)
        for at in [at for at in later if time.time() - began >= at]:
            result = later.pop(at)()
            merge = {"id": result[0]} if result else merge
        time.sleep(0.2)
    assert merge is not None
    time.sleep(3)  # the last scrapes
    end = time.time()

    # The dashboard: every panel's own queries against the real Prometheus.
    dashboard = json.loads(DASHBOARD.read_text())
    series_by_panel = {}
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            continue
        series = []
        for target_ in panel.get("targets", []):
            for item in query_range(prometheus, target_["expr"], began, end):
                metric = item.get("metric", {})
                points = [(float(t), float(v)) for t, v in item["values"] if v not in ("NaN", "+Inf", "-Inf")]
                if points:
                    series.append(views.Series(legend(target_.get("legendFormat", ""), metric), points))
        series_by_panel[panel["title"]] = series
    for title in (
        "Requests per second",
        "Latency p95",
        "Logins by kind and result",
        "Lockouts",
        "Merges by status",
        "Merges ending (completed, failed, reversed)",
        "Saga step duration p95 and compensations",
    ):
        assert series_by_panel.get(title), f"the panel {title!r} got no data from Prometheus"
    assert any(s.legend.startswith("gateway") for s in series_by_panel["Requests per second"])
    assert max(v for s in series_by_panel["Lockouts"] for _, v in s.points) > 0
    assert (
        max(v for s in series_by_panel["Merges ending (completed, failed, reversed)"] for _, v in s.points)
        > 0
    )

    # The merge's own trace: its root, every step, and the services the steps called.
    def complete(spans):
        roots = [
            s for s in spans if s.name == "merge execute" and s.attributes.get("merge.id") == merge["id"]
        ]
        return (
            roots
            and {s.service for s in receiver.trace(roots[0].trace_id)}
            >= {"merge", "contract", "package", "identity"}
            and any(s.name == "merge execute finish" for s in receiver.trace(roots[0].trace_id))
        )

    spans = receiver.wait_for(complete)
    root = next(s for s in spans if s.name == "merge execute" and s.attributes.get("merge.id") == merge["id"])
    trace = receiver.trace(root.trace_id)
    names = {s.name for s in trace}
    assert {f"merge execute {step}" for step in STEPS} <= names
    # The SQL statements (a span each) are folded into the row of the span that ran them.
    sql = [s for s in trace if "db.system" in s.attributes]
    folded: dict[str, int] = {}
    for s in sql:
        folded[s.parent_id] = folded.get(s.parent_id, 0) + 1
    drawn = [
        views.Span(s.service, s.name, s.trace_id, s.span_id, s.parent_id, s.start_ns, s.end_ns)
        for s in trace
        if s not in sql
    ]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "observability-merge-trace": views.trace_html(drawn, f"merge: merge execute {merge['id']}", folded),
        "observability-dashboard": views.dashboard_html(
            dashboard,
            series_by_panel,
            f"from Prometheus {time.strftime('%H:%M:%S', time.localtime(began))}-"
            f"{time.strftime('%H:%M:%S', time.localtime(end))}, scraping the five processes every second",
        ),
    }
    viewer = open_browser()
    viewer.page.set_viewport_size({"width": 1400, "height": 900})
    for name, text in pages.items():
        path = SCREENSHOTS / f"{name}.html"
        path.write_text(text, encoding="utf-8")
        viewer.page.goto("file://" + urllib.parse.quote(str(path)))
        shot = SCREENSHOTS / f"{name}.png"
        viewer.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
