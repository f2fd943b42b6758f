"""The configuration `make cluster` writes (scripts/cluster.py), checked without running it:
haproxy accepts its file, supervisord's parser reads every program with its settings, and
every copy gets its own port, database and the addresses of all copies of each service."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cluster.conftest import load_cluster_module

cluster = load_cluster_module()


@pytest.fixture
def layout(tmp_path):
    return cluster.Layout(workdir=tmp_path / "cluster", var_dir=tmp_path, gateway_port=18000)


def test_every_copy_has_its_own_port_and_every_caller_knows_all_copies(layout):
    assert layout.programs("merge") == ["merge-1", "merge-2"]
    assert layout.addresses("identity") == ["127.0.0.1:50051", "127.0.0.1:50061"]
    assert layout.ports["gateway"] == [18001, 18002]
    all_ports = [p for ports in layout.ports.values() for p in ports] + [layout.gateway_port]
    assert len(all_ports) == len(set(all_ports))
    env = layout.program_env("contract", 1)
    assert env["LISTEN_ADDR"] == "127.0.0.1:50062"
    assert env["DATABASE_URL"].endswith("/cc_cluster_contract")
    assert env["IDENTITY_ADDR"] == "127.0.0.1:50051,127.0.0.1:50061"
    assert env["TRUSTED_PROXIES"] == "127.0.0.1/32"
    gateway = layout.program_env("gateway", 0)
    assert gateway["GATEWAY_PORT"] == "18001" and "DATABASE_URL" not in gateway


def test_every_copy_serves_its_metrics_on_a_port_of_its_own(layout):
    from cc_common.metrics import DEFAULT_PORTS

    # The first copy on its process's default METRICS_PORT, the second 10 above it.
    assert {name: ports[0] for name, ports in layout.metrics_ports.items()} == DEFAULT_PORTS
    assert layout.metrics_ports["identity"] == [9101, 9111]
    assert layout.metrics_ports["gateway"] == [9100, 9110]
    assert layout.program_env("identity", 1)["METRICS_PORT"] == "9111"
    assert layout.program_env("merge", 0)["METRICS_PORT"] == "9104"
    assert layout.program_env("gateway", 1)["GATEWAY_METRICS_PORT"] == "9110"
    assert "METRICS_PORT" not in layout.program_env("gateway", 0)
    metrics = [p for ports in layout.metrics_ports.values() for p in ports]
    others = [p for ports in layout.ports.values() for p in ports] + [layout.gateway_port]
    assert len(metrics) == len(set(metrics)) and not set(metrics) & set(others)


def test_supervisord_reads_every_program(layout, tmp_path):
    from supervisor.options import ServerOptions

    layout.workdir.mkdir(parents=True)
    layout.log_dir.mkdir()
    path = tmp_path / "supervisord.conf"
    path.write_text(cluster.supervisor_config(layout))
    options = ServerOptions()
    options.realize(args=["-c", str(path)])
    programs = {group.name: group.process_configs[0] for group in options.process_group_configs}
    assert sorted(programs) == sorted(
        [f"{n}-{i}" for n in ("identity", "contract", "package", "merge", "gateway") for i in (1, 2)]
        + ["haproxy"]
    )
    merge = programs["merge-2"]
    from supervisor.datatypes import RestartUnconditionally

    assert merge.autorestart is RestartUnconditionally and merge.stopsignal == 15  # restarted; drains on TERM
    assert merge.environment["LISTEN_ADDR"] == "127.0.0.1:50064"
    assert merge.environment["MERGE_ADDR"] == "127.0.0.1:50054,127.0.0.1:50064"
    assert "gunicorn" in programs["gateway-1"].command and "127.0.0.1:18001" in programs["gateway-1"].command


def test_haproxy_accepts_the_balancer_configuration(layout, tmp_path):
    binary = cluster.haproxy_binary()
    if not Path(binary).exists() and shutil.which(binary) is None:
        pytest.skip("haproxy is not installed (make test installs it)")
    text = cluster.haproxy_config(layout)
    assert (
        "server gateway-1 127.0.0.1:18001 check" in text and "server gateway-2 127.0.0.1:18002 check" in text
    )
    assert "option forwardfor" in text and "http-request del-header X-Forwarded-For" in text
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    result = subprocess.run([binary, "-c", "-f", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
