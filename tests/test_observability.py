"""The docker-compose `observability` profile agrees with the code: Prometheus scrapes every
process on the port its METRICS_PORT defaults to, and every metric the Grafana dashboard asks
for is one the processes serve."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from tests.test_compose import COMPOSE, OUR_SERVICES, REPO, _clean_env, _compose_binary

OBSERVABILITY = REPO / "deploy" / "observability"
DASHBOARDS = OBSERVABILITY / "grafana" / "dashboards"
PROFILE = ("otel-collector", "jaeger", "prometheus", "grafana")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _exposed_metric_names() -> set[str]:
    """Every sample name the processes can serve: the families of cc_common.metrics (the
    services) and gateway_app.metrics (the gateway), with the suffixes of their types."""
    from cc_common import metrics  # noqa: F401 - defines the services' metrics
    from gateway_app import metrics as gateway_metrics  # noqa: F401 - the gateway's
    from prometheus_client import REGISTRY

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("cc_"):
            names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
    return names


def test_the_profile_has_a_collector_jaeger_prometheus_and_grafana_with_their_files(compose):
    services = compose["services"]
    for name in PROFILE:
        assert services[name]["profiles"] == ["observability"], name
    for name in OUR_SERVICES:  # the suite itself runs without the profile
        assert "profiles" not in services[name], name
    for name in PROFILE:
        for volume in services[name].get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"


def test_docker_compose_validates_the_file_with_the_profile():
    binary = _compose_binary()
    done = subprocess.run(
        [binary, "-f", str(COMPOSE), "--profile", "observability", "config", "-q"],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"docker-compose config -q failed:\n{done.stdout}\n{done.stderr}"


def test_prometheus_scrapes_every_process_on_its_default_metrics_port(compose):
    from cc_common.metrics import DEFAULT_PORTS

    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name in OUR_SERVICES:
        (target,) = jobs[name]["dns_sd_configs"]  # every copy (deploy.replicas) by its address
        assert target["names"] == [name] and target["type"] == "A", name
        assert target["port"] == DEFAULT_PORTS[name], name
        service = compose["services"][name]
        assert str(DEFAULT_PORTS[name]) in [str(p) for p in service["expose"]], name
        assert service["environment"]["METRICS_HOST"] == "0.0.0.0", name
        assert not {"METRICS_PORT", "GATEWAY_METRICS_PORT"} & set(service["environment"]), name
        # The port is for the network only, never published on the host.
        assert not any(f":{DEFAULT_PORTS[name]}" in str(p) for p in service.get("ports", [])), name


def test_the_collector_passes_traces_to_jaeger():
    config = yaml.safe_load((OBSERVABILITY / "otel-collector.yaml").read_text())
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    (exporter,) = pipeline["exporters"]
    assert config["exporters"][exporter]["endpoint"].startswith("jaeger:")


def _dashboards() -> list[dict]:
    paths = sorted(DASHBOARDS.glob("*.json"))
    assert paths, "no dashboard"
    return [json.loads(path.read_text()) for path in paths]


def _expressions(dashboard: dict) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_every_metric_of_the_dashboard_is_served_by_the_processes():
    exposed = _exposed_metric_names()
    assert {
        "cc_grpc_server_handled_total",
        "cc_http_requests_total",
        "cc_outbox_messages",
        "cc_merges",
    } <= exposed
    for dashboard in _dashboards():
        used = {name for expr in _expressions(dashboard) for name in re.findall(r"\bcc_[a-z0-9_]+", expr)}
        assert used, dashboard["title"]
        assert not used - exposed, (
            f"{dashboard['title']}: metrics no process serves: {sorted(used - exposed)}"
        )


def test_the_dashboard_has_the_panels_the_issue_asks_for_on_the_provisioned_data_source():
    datasources = yaml.safe_load(
        (OBSERVABILITY / "grafana" / "provisioning" / "datasources" / "datasources.yaml").read_text()
    )["datasources"]
    uids = {source["uid"] for source in datasources}
    (dashboard,) = _dashboards()
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for words in (
        "requests",
        "errors",
        "latency",
        "merges by status",
        "outbox",
        "mails waiting",
        "logins",
        "lockouts",
    ):
        assert words in titles, words
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] in uids, panel["title"]
    provider = yaml.safe_load(
        (OBSERVABILITY / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml").read_text()
    )["providers"][0]
    compose = yaml.safe_load(COMPOSE.read_text())
    mounts = {
        v.split(":")[1]: v.split(":")[0]
        for v in compose["services"]["grafana"]["volumes"]
        if v.startswith("./")
    }
    assert (REPO / mounts[provider["options"]["path"]]).resolve() == DASHBOARDS.resolve()
