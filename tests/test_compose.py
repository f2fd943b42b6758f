"""docker-compose.yml, deploy/Dockerfile and the Procfile agree with the code.

`docker-compose config -q` validates the file without a Docker engine (Debian's
docker-compose 1.29). Where the binary is missing the validation is skipped with a reason,
except under CI=true, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
GRPC_SERVICES = ("identity", "contract", "package", "merge")
OUR_SERVICES = (*GRPC_SERVICES, "gateway")
MIGRATE_JOBS = tuple(f"migrate-{s}" for s in GRPC_SERVICES)
CODE_DIRS = [
    REPO / "common",
    REPO / "gateway",
    REPO / "deploy",
    *(REPO / f"{s}-service" for s in GRPC_SERVICES),
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true (make test installs it with apt-get)")
    pytest.skip(f"{what} is not installed (make test installs it with apt-get where it can)")


def _compose_binary() -> str:
    binary = shutil.which("docker-compose")
    if binary is None:
        _missing("docker-compose")
    return binary


def _clean_env() -> dict[str, str]:
    """The environment without this suite's settings, so the file's own defaults are checked."""
    names = (
        "GATEWAY_PORT",
        "STAFF_USERNAME",
        "STAFF_PASSWORD",
        "STAFF_TOTP_SECRET",
        "MERGE_REVIEW",
        "POSTGRES_PASSWORD",
    )
    return {k: v for k, v in os.environ.items() if k not in names}


def _load_compose() -> dict:
    """The compose file as data: PyYAML if the venv has it, else the YAML library that
    docker-compose itself runs on (its interpreter is named in its first line)."""
    text = COMPOSE.read_text()
    try:
        import yaml  # type: ignore[import-untyped]

        return yaml.safe_load(text)
    except ImportError:
        pass
    binary = _compose_binary()
    first = Path(binary).read_text(errors="replace").splitlines()[0]
    interpreter = first[2:].strip().split()[0] if first.startswith("#!") else sys.executable
    script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"
    done = subprocess.run([interpreter, "-c", script], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def compose() -> dict:
    return _load_compose()


def _python_sources() -> str:
    chunks = []
    for directory in CODE_DIRS:
        for path in directory.rglob("*.py"):
            if "migrations" not in path.parts:
                chunks.append(path.read_text(errors="replace"))
    return "\n".join(chunks)


def read_by_the_code(variable: str, sources: str) -> bool:
    """A field of the settings classes (cc_common.settings), or a name a source reads itself."""
    from cc_common import settings

    known = variable in settings.variables() or variable in settings.TEST_HOOKS
    return known or bool(re.search(rf"[\"']{re.escape(variable)}[\"']", sources))


def _default_port(service: str) -> int:
    from cc_common import config

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.endswith("_ADDR")}
    try:
        address = getattr(config.ServiceAddresses.from_env(), service)
    finally:
        os.environ.update(saved)
    return int(address.rsplit(":", 1)[1])


def _metrics_port(process: str) -> int:
    from cc_common.metrics import DEFAULT_PORTS

    return DEFAULT_PORTS[process]


def _port_of(address: str) -> int:
    return int(str(address).rsplit(":", 1)[1])


def test_docker_compose_validates_the_file():
    binary = _compose_binary()
    done = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"docker-compose config -q failed:\n{done.stdout}\n{done.stderr}"


DOCKERFILE = REPO / "deploy" / "Dockerfile"


def _stages(text: str) -> dict[str, str]:
    """The stages of a Dockerfile by name, each with its instructions."""
    parts = re.split(r"^FROM \S+(?: AS (\S+))?\s*$", text, flags=re.M)
    return {name: body for name, body in zip(parts[1::2], parts[2::2], strict=True) if name}


def test_every_process_is_built_from_the_one_dockerfile_with_its_own_service_argument(compose):
    services = compose["services"]
    text = DOCKERFILE.read_text()
    stages = _stages(text)
    assert re.search(r"^USER (?!root\b|0\b)\S+", stages["runtime"], re.M), "the runtime stage runs as root"
    assert "COPY --from=builder /opt/venv /opt/venv" in stages["runtime"]
    assert "COPY common" not in stages["runtime"], (
        "the runtime stage copies sources instead of installing them"
    )
    assert "PYTHONPATH" not in text, "the images install their packages: no PYTHONPATH"
    for name in OUR_SERVICES:
        assert name in services, f"docker-compose.yml has no service {name}"
        build = services[name]["build"]
        assert REPO / build.get("context", ".") / build["dockerfile"] == DOCKERFILE, name
        assert build["args"]["SERVICE"] == name
        assert (REPO / "deploy" / "locks" / f"{name}.txt").is_file(), f"{name}: no lock file of its image"
        target = stages[build["target"]]
        assert "HEALTHCHECK" in target and "CMD" in target, f"{build['target']}: no HEALTHCHECK or CMD"
    copies = [p for p in REPO.glob("*/Dockerfile") if p != DOCKERFILE]
    assert not copies, f"one Dockerfile (deploy/Dockerfile), no copies next to the code: {copies}"
    assert "postgres" in services


def test_every_variable_the_compose_file_sets_is_read_by_the_code(compose):
    sources = _python_sources()
    unread = {}
    for name in (*OUR_SERVICES, *MIGRATE_JOBS):
        for variable in compose["services"][name].get("environment", {}):
            if not read_by_the_code(variable, sources):
                unread.setdefault(variable, []).append(name)
    assert not unread, f"variables set in docker-compose.yml that no Python source reads: {unread}"


def test_each_service_listens_on_the_default_port_of_config(compose):
    services = compose["services"]
    for name in GRPC_SERVICES:
        port = _default_port(name)
        service = services[name]
        assert _port_of(service["environment"]["LISTEN_ADDR"]) == port, name
        # The gRPC port, and the /metrics port (METRICS_PORT's default) for Prometheus.
        assert [int(p) for p in service.get("expose", [])] == [port, _metrics_port(name)], name
        assert service["healthcheck"]["test"][-1].endswith(f":{port}"), name
        assert "cc_common.healthcheck" in service["healthcheck"]["test"], name
        for other in OUR_SERVICES:
            address = services[other].get("environment", {}).get(f"{name.upper()}_ADDR")
            assert address == f"dns:///{name}:{port}", f"{other}: {name.upper()}_ADDR is {address!r}"
        build = service["build"]
        assert build["target"] == "grpc-service" and build["args"]["PORT"] == str(port), name
    grpc_stage = _stages(DOCKERFILE.read_text())["grpc-service"]
    for line in (
        "EXPOSE ${PORT}",
        "LISTEN_ADDR=0.0.0.0:${PORT}",
        "HEALTH_ADDR=127.0.0.1:${PORT}",
        "cc_common.healthcheck",
    ):
        assert line in grpc_stage, f"the grpc-service stage lacks {line!r}"
    gateway_stage = _stages(DOCKERFILE.read_text())["gateway"]
    assert services["gateway"]["build"]["target"] == "gateway"
    assert f"EXPOSE {services['gateway']['environment']['GATEWAY_PORT']}" in gateway_stage


def test_each_database_is_migrated_by_a_one_shot_job_before_any_copy_of_its_service_starts(compose):
    services = compose["services"]
    for name in GRPC_SERVICES:
        job = services[f"migrate-{name}"]
        assert job["command"] == ["python", "-m", "cc_common.migrate", name]
        assert job["build"] == services[name]["build"], f"migrate-{name} is not built from {name}'s image"
        assert job["environment"] == {"DATABASE_URL": services[name]["environment"]["DATABASE_URL"]}
        assert not job.get("volumes"), f"migrate-{name} mounts keys it does not need"
        assert job["restart"] == "no"
        assert job["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["depends_on"][f"migrate-{name}"] == {
            "condition": "service_completed_successfully"
        }
        others = [s for s in services if s.startswith("migrate-") and s != f"migrate-{name}"]
        assert not set(others) & set(services[name]["depends_on"]), name
    assert {s for s in services if s.startswith("migrate-")} == set(MIGRATE_JOBS)


def test_the_grpc_services_run_two_copies_and_the_gateway_with_its_fixed_host_port_one(compose):
    services = compose["services"]
    for name in GRPC_SERVICES:
        assert services[name]["deploy"]["replicas"] == 2, name
        assert not services[name].get("ports"), f"{name}: a published host port allows one copy only"
        assert "container_name" not in services[name], name
    assert services["gateway"].get("deploy", {}).get("replicas", 1) == 1


def test_the_gateway_port_matches_the_default_of_make_run(compose):
    default = re.search(r"^GATEWAY_PORT \?= (\d+)$", (REPO / "Makefile").read_text(), re.M)
    assert default, "Makefile does not set GATEWAY_PORT's default"
    gateway = compose["services"]["gateway"]
    assert str(gateway["environment"]["GATEWAY_PORT"]) == default.group(1)
    assert any(str(p).endswith(f":{default.group(1)}") for p in gateway["ports"])
    # Docker's health acts as liveness (Swarm replaces unhealthy tasks): /livez, never /healthz,
    # which is 503 while any service is down.
    check = " ".join(gateway["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/livez" in check and "/healthz" not in check


def test_the_procfile_starts_the_five_processes():
    lines = [line for line in (REPO / "Procfile").read_text().splitlines() if line.strip()]
    names = {line.split(":", 1)[0] for line in lines}
    assert names == set(OUR_SERVICES)
    text = "\n".join(lines)
    for name in GRPC_SERVICES:
        assert f"-m {name}_service" in text
    assert "gthread" in (REPO / "deploy" / "gunicorn.conf.py").read_text()
    assert "--preload" not in text


def test_the_health_check_command_reports_a_serving_server_and_a_missing_one(tmp_path):
    from cc_common import healthcheck
    from cc_common.testing import ServerThread, token_settings_in
    from package_service.bootstrap import Settings, create_server

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'package.db'}",
        listen="127.0.0.1:0",
        tokens=token_settings_in(tmp_path),
    )
    thread = ServerThread(lambda: create_server("127.0.0.1:0", settings)).start()
    try:
        # create_server leaves the health status to run_until_terminated: set it as it does.
        from cc_common.grpc_server import set_serving

        thread.run(set_serving(thread.extra[0], [], True))
        assert healthcheck.main([thread.address]) == 0
        address = thread.address
    finally:
        thread.stop()
    assert healthcheck.main([address, "--timeout", "1"]) == 1


# --- keys: a private key only in the container that signs with it -------------------------------


def _mounts(service: dict) -> list[tuple[str, str]]:
    """(volume, target) of every named-volume mount of a compose service."""
    mounts = []
    for entry in service.get("volumes", []):
        source, target = str(entry).split(":")[:2]
        if not source.startswith((".", "/")):
            mounts.append((source, target))
    return mounts


def _on_volume(service: dict, path: str) -> tuple[str, str] | None:
    """(volume, path inside the volume) where `path` of the container lies, or None."""
    for volume, target in _mounts(service):
        if path.startswith(target.rstrip("/") + "/"):
            return volume, path[len(target.rstrip("/")) + 1 :]
    return None


def _private_key_variables(process: str) -> set[str]:
    from cc_common import config

    names = set()
    for key in config.SIGNING_KEYS[process]:
        names.add("JWT_SIGNING_KEY_FILE" if key == "user" else config.SERVICE_KEY_VARIABLES[key][0])
    return names


def _all_private_key_variables() -> set[str]:
    from cc_common import config

    return {"JWT_SIGNING_KEY_FILE"} | {private for private, _ in config.SERVICE_KEY_VARIABLES.values()}


def test_each_process_names_exactly_the_private_keys_it_signs_with(compose):
    for name in OUR_SERVICES:
        environment = compose["services"][name].get("environment", {})
        named = {v for v in environment if v in _all_private_key_variables()}
        assert named == _private_key_variables(name), name


def test_a_private_key_lies_on_a_volume_mounted_only_into_the_container_that_signs_with_it(compose):
    services = compose["services"]
    for name in OUR_SERVICES:
        for variable in _private_key_variables(name):
            place = _on_volume(services[name], services[name]["environment"][variable])
            assert place is not None, f"{name}: {variable} is on no volume"
            volume = place[0]
            mounted_by = {other for other in OUR_SERVICES if volume in dict(_mounts(services[other]))}
            assert mounted_by == {name}, f"{volume} (holding {variable}) is mounted by {sorted(mounted_by)}"


def test_the_keys_job_writes_every_key_file_where_its_readers_find_it(compose):
    """Each key file a process needs (TokenSettings.files_needed_by) is, through the volumes,
    the very file the keys job makes, and no private key lands on a volume shared by others."""
    from cc_common import config

    services = compose["services"]
    job = services["keys"]
    made = {variable: _on_volume(job, path) for variable, path in job["environment"].items()}
    assert set(made) >= _all_private_key_variables()
    for name in OUR_SERVICES:
        environment = services[name]["environment"]
        for variable, _ in config.TokenSettings.in_directory(Path("/unused")).files_needed_by(name):
            assert variable in environment, f"{name} does not set {variable}"
            assert _on_volume(services[name], environment[variable]) == made[variable], f"{name}: {variable}"
    public_volumes = {made[v][0] for v in made if v not in _all_private_key_variables()}
    assert public_volumes == {"keys-public"}
    assert not {made[v][0] for v in _all_private_key_variables()} & public_volumes


def test_only_the_keys_job_makes_keys_and_every_process_runs_in_production_by_default(compose):
    job = compose["services"]["keys"]
    assert "APP_ENV" not in job.get("environment", {})
    assert "ensure_all_keys" in " ".join(job["command"])
    for name in OUR_SERVICES:
        assert compose["services"][name]["environment"]["APP_ENV"].endswith("production}")


def test_production_refuses_the_compose_files_default_database_password():
    from cc_common import config

    defaults = set(re.findall(r"\$\{POSTGRES_PASSWORD:-([^}]*)\}", COMPOSE.read_text()))
    assert defaults == {config.COMPOSE_DEFAULT_DATABASE_PASSWORD}
