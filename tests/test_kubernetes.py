"""deploy/kubernetes agrees with Kubernetes' schemas and with the code, as test_compose.py does
for docker-compose.yml.

Every kustomization is rendered (tests/support/kustomize.py; compared with `kubectl kustomize`
where kubectl is installed) and each resource is validated offline against the OpenAPI schemas
that `kubernetes-validate` ships. Then the manifests are checked against the code: the
variables, ports, health services, key files and calls they name are the ones the code has.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from kubernetes_validate import ValidationError, validate

from tests.support.kustomize import all_containers, pod_spec, render
from tests.test_compose import (
    GRPC_SERVICES,
    OUR_SERVICES,
    REPO,
    _default_port,
    _private_key_variables,
    _python_sources,
    read_by_the_code,
)

KUBERNETES = REPO / "deploy" / "kubernetes"
BASE = KUBERNETES / "base"
KUSTOMIZATIONS = sorted(path.parent for path in KUBERNETES.rglob("kustomization.yaml"))
# The oldest Kubernetes release the manifests are written for (gRPC probes are GA from 1.27)
# and the newest whose schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.27.0", "1.37.0")
KUBERNETES_VERSION = KUBERNETES_VERSIONS[0]
GATEWAY_PORT = 8000
DATABASE_PORT = 5432
PRIVATE_KEY_SECRETS = {
    "gateway": "keys-gateway",
    "merge": "keys-merge",
    "contract": "keys-contract",
    "package": "keys-package",
}

# The calls the design has between the processes: gRPC caller -> callee.
DESIGN_CALLS = {
    ("gateway", "identity"),
    ("gateway", "contract"),
    ("gateway", "package"),
    ("gateway", "merge"),
    ("merge", "identity"),
    ("merge", "contract"),
    ("merge", "package"),
    ("contract", "identity"),
    ("contract", "package"),
    ("package", "identity"),
}


def _ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(KUBERNETES)) for path in paths]


@pytest.fixture(scope="module")
def base() -> list[dict]:
    return render(BASE)


def _one(resources: list[dict], kind: str, name: str) -> dict:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def _of_kind(resources: list[dict], kind: str) -> list[dict]:
    return [r for r in resources if r["kind"] == kind]


def _container(resources: list[dict], kind: str, name: str) -> dict:
    containers = pod_spec(_one(resources, kind, name))["containers"]
    assert len(containers) == 1, f"{kind} {name} has {len(containers)} containers"
    return containers[0]


def _env(container: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def _config_map(resources: list[dict], container: dict) -> dict[str, str]:
    """The variables a container gets through envFrom."""
    data: dict[str, str] = {}
    for source in container.get("envFrom", []):
        data.update(_one(resources, "ConfigMap", source["configMapRef"]["name"])["data"])
    return data


def _variables(resources: list[dict], container: dict) -> dict[str, str | None]:
    """Every variable of a container: its value, or None for one that comes from a Secret."""
    values: dict[str, str | None] = dict(_config_map(resources, container))
    for name, entry in _env(container).items():
        values[name] = entry.get("value")
    return values


def _secret_volumes(spec: dict) -> dict[str, str]:
    """volume name -> Secret name of a pod spec."""
    return {v["name"]: v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}


def _secret_behind(spec: dict, container: dict, path: str) -> str | None:
    """The Secret whose volume holds `path` inside the container, or None."""
    secrets = _secret_volumes(spec)
    for mount in container.get("volumeMounts", []):
        if path.startswith(mount["mountPath"].rstrip("/") + "/") and mount["name"] in secrets:
            return secrets[mount["name"]]
    return None


def _workload(resources: list[dict], name: str) -> tuple[dict, dict]:
    spec = pod_spec(_one(resources, "Deployment", name))
    return spec, _container(resources, "Deployment", name)


# --- rendered and valid ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=_ids(KUSTOMIZATIONS))
def test_every_kustomization_renders_to_resources_that_kubernetes_schemas_accept(directory, version):
    resources = render(directory)
    assert resources, directory
    for resource in resources:
        # strict: a field Kubernetes does not know (a typo) is an error too.
        validate(resource, version, strict=True)


def test_the_validator_refuses_a_misspelt_field_so_the_check_above_can_fail():
    broken = _one(render(BASE), "Deployment", "identity")
    pod_spec(broken)["containers"][0]["readinesProbe"] = pod_spec(broken)["containers"][0].pop(
        "readinessProbe"
    )
    with pytest.raises(ValidationError):
        validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=_ids(KUSTOMIZATIONS))
def test_the_renderer_of_the_tests_agrees_with_kubectl_kustomize(directory):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        # kubectl is not in Debian's packages: the renderer of the tests stands in for it.
        pytest.skip("kubectl is not installed: the manifests are rendered by tests/support/kustomize.py only")
    done = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    def keyed(resources):
        return {(r["kind"], r["metadata"]["name"]): r for r in resources}

    assert keyed(d for d in yaml.safe_load_all(done.stdout) if d) == keyed(render(directory))


# --- the workloads --------------------------------------------------------------------------------


def test_each_process_runs_as_a_deployment_of_two_copies(base):
    for name in OUR_SERVICES:
        deployment = _one(base, "Deployment", name)
        assert deployment["spec"]["replicas"] == 2, name
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, name
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items(), name
        image = _container(base, "Deployment", name)["image"]
        assert image.split(":")[0] == f"customer-center/{name if name == 'gateway' else name + '-service'}", (
            name
        )
        assert _one(base, "PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"] == selector, name
    assert {d["metadata"]["name"] for d in _of_kind(base, "Deployment")} == set(OUR_SERVICES)


def test_each_grpc_service_has_a_headless_service_and_the_gateway_an_ordinary_one(base):
    for name in GRPC_SERVICES:
        service = _one(base, "Service", name)
        assert service["spec"].get("clusterIP") == "None", (
            f"{name}: not headless, so one connection sticks to one copy"
        )
        assert (
            service["spec"]["selector"] == _one(base, "Deployment", name)["spec"]["selector"]["matchLabels"]
        )
    gateway = _one(base, "Service", "gateway")
    assert gateway["spec"].get("clusterIP") != "None"


def test_every_pod_runs_as_the_image_user_on_a_read_only_root_file_system_with_resources(base):
    uid = {int(u) for u in re.findall(r"--uid (\d+)", (REPO / "deploy" / "Dockerfile").read_text())}
    assert len(uid) == 1
    pods = [r for r in base if pod_spec(r) is not None]
    assert len(pods) == len(OUR_SERVICES) + len(GRPC_SERVICES)
    for resource in pods:
        name = f"{resource['kind']} {resource['metadata']['name']}"
        spec = pod_spec(resource)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] in uid, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec.get("automountServiceAccountToken") is False, name
        empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, f"{name}: {kind}"
            writable = {m["mountPath"] for m in container["volumeMounts"] if m["name"] in empty_dirs}
            assert "/tmp" in writable, f"{name}: /tmp is not writable"


def test_identity_hashes_passwords_in_as_many_threads_as_its_cpu_limit_has_cores(base):
    container = _workload(base, "identity")[1]
    assert _env(container)["HASH_THREADS"]["value"] == container["resources"]["limits"]["cpu"]


def test_every_variable_a_container_gets_is_read_by_the_code(base):
    sources = _python_sources()
    unread = {}
    for container in all_containers(base):
        for variable in _variables(base, container):
            if not read_by_the_code(variable, sources):
                unread.setdefault(variable, []).append(container["name"])
    assert not unread, f"variables set in deploy/kubernetes that no Python source reads: {unread}"


def test_ports_and_addresses_match_the_defaults_of_config(base):
    namespace = _one(base, "Namespace", "customer-center")["metadata"]["name"]
    for name in GRPC_SERVICES:
        port = _default_port(name)
        spec, container = _workload(base, name)
        assert [p["containerPort"] for p in container["ports"]] == [port, _metrics_port(name)], name
        assert _env(container)["LISTEN_ADDR"]["value"] == f"0.0.0.0:{port}", name
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == port, f"{name}: {probe}"
        service = _one(base, "Service", name)
        assert [p["port"] for p in service["spec"]["ports"]] == [port], name
        assert service["metadata"]["namespace"] == namespace
        for other in OUR_SERVICES:
            _, caller = _workload(base, other)
            address = _variables(base, caller)[f"{name.upper()}_ADDR"]
            assert address == f"dns:///{name}.{namespace}.svc.cluster.local:{port}", f"{other}: {address}"
    gateway = _workload(base, "gateway")[1]
    default = re.search(r"^GATEWAY_PORT \?= (\d+)$", (REPO / "Makefile").read_text(), re.M).group(1)
    assert _env(gateway)["GATEWAY_PORT"]["value"] == default == str(GATEWAY_PORT)
    assert [p["containerPort"] for p in gateway["ports"]] == [GATEWAY_PORT, _metrics_port("gateway")]
    assert [p["port"] for p in _one(base, "Service", "gateway")["spec"]["ports"]] == [GATEWAY_PORT]


def test_probes_ask_the_health_service_for_the_grpc_service_each_server_registers(base):
    import importlib

    for name in GRPC_SERVICES:
        registered = importlib.import_module(f"{name}_service.bootstrap").SERVICE_NAME
        container = _workload(base, name)[1]
        assert container["readinessProbe"]["grpc"]["service"] == registered, name
        assert container["startupProbe"]["grpc"]["service"] == registered, name
        # Liveness asks for the server as a whole ("" is set with the services: set_serving).
        assert container["livenessProbe"]["grpc"].get("service", "") == "", name


def test_the_gateway_is_ready_on_healthz_and_alive_on_livez(base):
    from flask import Flask
    from gateway_app.blueprints.health import bp

    container = _workload(base, "gateway")[1]
    app = Flask(__name__)
    app.register_blueprint(bp)
    urls = app.url_map.bind("localhost")
    readiness = container["readinessProbe"]["httpGet"]
    assert readiness["port"] == "http" and readiness["path"] == "/healthz"
    assert urls.match(readiness["path"], method="GET")[0] == "health.healthz"
    # Not /healthz: it is 503 while a service is down, and liveness would restart the gateways.
    liveness = container["livenessProbe"]["httpGet"]
    assert liveness["port"] == "http" and liveness["path"] == "/livez"
    assert urls.match(liveness["path"], method="GET")[0] == "health.livez"
    assert "tcpSocket" not in container["livenessProbe"]


# --- metrics --------------------------------------------------------------------------------------


def _metrics_port(name: str) -> int:
    from cc_common.metrics import DEFAULT_PORTS

    return DEFAULT_PORTS[name]


def test_every_pod_is_annotated_for_scraping_on_the_metrics_port_its_process_serves(base):
    assert _variables(base, _workload(base, "identity")[1])["METRICS_HOST"] == "0.0.0.0"
    for name in OUR_SERVICES:
        deployment = _one(base, "Deployment", name)
        container = _workload(base, name)[1]
        variables = _variables(base, container)
        # No METRICS_PORT / GATEWAY_METRICS_PORT: each process serves on its default.
        assert not {"METRICS_PORT", "GATEWAY_METRICS_PORT"} & set(variables), name
        assert variables["METRICS_HOST"] == "0.0.0.0", name
        port = _metrics_port(name)
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port),
            "prometheus.io/path": "/metrics",
        }, name
        assert {"name": "metrics", "containerPort": port} in container["ports"], name
        # Not on a Service: Prometheus scrapes each pod, not one copy behind a name.
        assert port not in [p["port"] for p in _one(base, "Service", name)["spec"]["ports"]], name


def test_the_network_policy_lets_the_monitoring_namespace_scrape_the_metrics_ports(base):
    policy = _one(base, "NetworkPolicy", "metrics")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "customer-center"}}
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    assert sorted(p["port"] for p in rule["ports"]) == sorted(_metrics_port(n) for n in OUR_SERVICES)


# --- keys and secrets -----------------------------------------------------------------------------


def test_every_key_file_a_process_reads_lies_on_a_mounted_secret(base):
    from cc_common import config

    for name in OUR_SERVICES:
        spec, container = _workload(base, name)
        variables = _variables(base, container)
        for variable, _ in config.TokenSettings.in_directory(Path("/unused")).files_needed_by(name):
            assert variables.get(variable), f"{name} does not set {variable}"
            secret = _secret_behind(spec, container, variables[variable])
            assert secret is not None, f"{name}: {variable} ({variables[variable]}) is on no Secret volume"
            if variable in _private_key_variables(name):
                assert secret == PRIVATE_KEY_SECRETS[name], f"{name}: {variable} is in {secret}"
            else:
                assert secret == "keys-public", f"{name}: {variable} is in {secret}"


def test_each_private_key_secret_is_mounted_only_into_the_process_that_signs_with_it(base):
    for name in OUR_SERVICES:
        spec, _ = _workload(base, name)
        mounted = set(_secret_volumes(spec).values())
        private = {s for s in mounted if s in PRIVATE_KEY_SECRETS.values()}
        assert private == ({PRIVATE_KEY_SECRETS[name]} if name in PRIVATE_KEY_SECRETS else set()), name
    for job in _of_kind(base, "Job"):
        assert not _secret_volumes(pod_spec(job)), f"{job['metadata']['name']} mounts a Secret"


def test_every_secret_the_manifests_name_is_described_in_the_docs(base):
    named = set()
    for resource in base:
        spec = pod_spec(resource)
        if spec is None:
            continue
        named |= set(_secret_volumes(spec).values())
        for container in spec["containers"]:
            named |= {
                e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "valueFrom" in e
            }
    for ingress in _of_kind(base, "Ingress"):
        named |= {tls["secretName"] for tls in ingress["spec"]["tls"]}
    docs = (REPO / "docs" / "kubernetes.md").read_text()
    assert named >= {"keys-public", *PRIVATE_KEY_SECRETS.values(), "identity-staff", "gateway-tls"}
    assert not {s for s in named if f"`{s}`" not in docs}, "Secrets the docs do not describe"


# Stand-ins for the values that come from Secrets, as an operator would set them.
SECRET_VALUES = {
    "DATABASE_URL": "postgresql+psycopg://{name}:a-real-secret@db.example.net:5432/{name}",
    "STAFF_PASSWORD": "a long secret of the service team",
    "STAFF_TOTP_SECRET": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
}


def test_production_refuses_none_of_the_settings_the_manifests_give(base, monkeypatch):
    """With the manifests' variables (Secret values stood in), APP_ENV=production finds nothing
    unsafe in any process except key files absent from this machine: the test above shows those
    lie on mounted Secrets."""
    from cc_common import config

    watched = {"APP_ENV", "VAR_DIR", "FAULT_INJECT", *config.TLS_VARIABLES, *SECRET_VALUES}
    for name in OUR_SERVICES:
        _, container = _workload(base, name)
        variables = _variables(base, container)
        for variable in watched | set(variables):
            monkeypatch.delenv(variable, raising=False)
        for variable, value in variables.items():
            monkeypatch.setenv(
                variable, value if value is not None else SECRET_VALUES[variable].format(name=name)
            )
        assert variables["APP_ENV"] == "production"
        key_variables = {v for v, _ in config.TokenSettings.from_env().files_needed_by(name)}
        problems = [
            p for p in config.unsafe_production_settings(name) if p.split(":", 1)[0] not in key_variables
        ]
        assert problems == [], name


# --- migrations -----------------------------------------------------------------------------------


def test_each_database_has_a_migrate_job_with_the_image_and_database_of_its_service(base):
    for name in GRPC_SERVICES:
        job = _container(base, "Job", f"migrate-{name}")
        service = _workload(base, name)[1]
        assert job["command"] == ["python", "-m", "cc_common.migrate", name]
        assert job["image"] == service["image"]
        assert _env(job)["DATABASE_URL"] == _env(service)["DATABASE_URL"]
        assert set(_env(job)) == {"DATABASE_URL"} and not job.get("envFrom"), (
            "a migrate Job needs only its database"
        )
    assert len(_of_kind(base, "Job")) == len(GRPC_SERVICES)


def test_the_migrate_command_of_the_jobs_exists():
    import importlib.util

    if importlib.util.find_spec("cc_common.migrate") is None:
        pytest.skip("cc_common.migrate is not in this tree yet (it comes with the migrations-once change)")
    from cc_common import migrate

    assert callable(getattr(migrate, "main", None))


# --- network policy -------------------------------------------------------------------------------


def _label(selector: dict) -> str | None:
    return selector.get("matchLabels", {}).get("app.kubernetes.io/name")


def _allowed(base: list[dict]) -> tuple[set, set, dict[str, set[int]]]:
    """(caller, callee) pairs allowed in by ingress rules, and out by egress rules among our pods,
    and the ports each workload may reach outside them (egress rules without a destination)."""
    inbound, outbound, outside = set(), set(), {}
    for policy in _of_kind(base, "NetworkPolicy"):
        target = _label(policy["spec"]["podSelector"]) or policy["spec"]["podSelector"].get(
            "matchLabels", {}
        ).get("app.kubernetes.io/component")
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    inbound.add((_label(peer["podSelector"]), target))
        for rule in policy["spec"].get("egress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            peers = rule.get("to")
            if peers is None:
                outside.setdefault(target, set()).update(ports)
            for peer in peers or []:
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    callee = _label(peer["podSelector"])
                    assert ports == {_default_port(callee)}, f"{target} -> {callee}: ports {ports}"
                    outbound.add((target, callee))
    return inbound, outbound, outside


def _calls_in_the_code() -> set[tuple[str, str]]:
    """Which process dials which service, read off the code: the `addresses.<service>` each
    process's sources use (a PlainService dials what cc_common/service.py dials)."""
    pattern = re.compile(r"(?:addresses|from_env\(\))\.(identity|contract|package|merge)\b")
    shared = set(pattern.findall((REPO / "common" / "cc_common" / "service.py").read_text()))
    calls = set()
    for name in OUR_SERVICES:
        package = (
            REPO / "gateway" / "gateway_app"
            if name == "gateway"
            else REPO / f"{name}-service" / f"{name}_service"
        )
        text = "\n".join(p.read_text() for p in package.rglob("*.py") if "migrations" not in p.parts)
        dialled = set(pattern.findall(text)) | (shared if "PlainService(" in text else set())
        calls |= {(name, callee) for callee in dialled if callee != name}
    return calls


def test_the_design_calls_are_the_calls_the_code_makes():
    assert _calls_in_the_code() == DESIGN_CALLS


def test_the_network_policy_denies_everything_but_the_calls_of_the_design(base):
    deny = _one(base, "NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress")
    inbound, outbound, _ = _allowed(base)
    assert inbound == DESIGN_CALLS
    assert outbound == DESIGN_CALLS
    gateway = _one(base, "NetworkPolicy", "gateway")["spec"]["ingress"]
    assert [p["port"] for rule in gateway for p in rule["ports"]] == [GATEWAY_PORT]
    assert all(
        "namespaceSelector" in peer and "podSelector" not in peer for rule in gateway for peer in rule["from"]
    )


def test_only_the_services_reach_postgresql_and_only_those_with_an_outbox_reach_smtp(base):
    _, _, outside = _allowed(base)
    smtp = int(_one(base, "ConfigMap", "customer-center")["data"]["SMTP_PORT"])
    with_outbox = {
        name
        for name in GRPC_SERVICES
        if "outbox" in (REPO / f"{name}-service" / f"{name}_service" / "bootstrap.py").read_text()
    }
    assert with_outbox == {"identity", "contract", "merge"}
    for name in GRPC_SERVICES:
        assert outside[name] == {DATABASE_PORT} | ({smtp} if name in with_outbox else set()), name
    assert outside["migrate"] == {DATABASE_PORT}
    assert "gateway" not in outside


# --- ingress --------------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=_ids(KUSTOMIZATIONS))
def test_the_ingress_serves_the_host_of_public_base_url_from_the_gateway_service(directory):
    resources = render(directory)
    ingress = _one(resources, "Ingress", "gateway")["spec"]
    host = urlsplit(_one(resources, "ConfigMap", "customer-center")["data"]["PUBLIC_BASE_URL"]).hostname
    assert [rule["host"] for rule in ingress["rules"]] == [host]
    assert [tls["hosts"] for tls in ingress["tls"]] == [[host]]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = _one(resources, "Service", backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert service["spec"]["selector"]["app.kubernetes.io/name"] == "gateway"
