"""The gateway's /metrics under gunicorn (prometheus_client's multiprocess mode), driven from
deploy/gunicorn.conf.py: every worker writes the metrics it counts (gateway_app/metrics.py) to
files in one directory (PROMETHEUS_MULTIPROC_DIR), and the gunicorn master serves their sum on
GATEWAY_METRICS_PORT (0 or empty: no metrics) at METRICS_HOST, never on the public port.

A top-level module like gateway_worker.py, for the same reason: the master must not import
Flask or gateway_app.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any

from cc_common.settings import GatewayEnv, SharedSettings

log = logging.getLogger("gunicorn.error")

ENV_DIR = "PROMETHEUS_MULTIPROC_DIR"  # an internal hand-off to the workers, no setting


def metrics_port() -> int:
    raw = GatewayEnv.load().gateway_metrics_port
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise RuntimeError(f"GATEWAY_METRICS_PORT must be a port number (0: no metrics), not {raw!r}")
    return port


_prepared: dict[int, str] = {}  # master pid -> its directory (a reload reads the config again)


def prepare() -> str | None:
    """A fresh multiprocess directory for this master (a leftover of an earlier run would add its
    counts), in the environment of the workers to come; None when metrics are off. Runs while
    gunicorn reads its configuration, before prometheus_client is imported or a worker forked;
    the same directory when it reads it again (SIGHUP)."""
    if not metrics_port():
        os.environ.pop(ENV_DIR, None)
        return None
    directory = _prepared.get(os.getpid())
    if directory is None:
        directory = _prepared[os.getpid()] = tempfile.mkdtemp(prefix="gateway-metrics-")
    os.environ[ENV_DIR] = directory
    return directory


def when_ready(server: Any) -> None:  # gunicorn's Arbiter (untyped)
    port = metrics_port()
    directory = os.environ.get(ENV_DIR)
    if not port or not directory:
        return
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    host = SharedSettings.load().metrics_host
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:  # the gateway keeps serving; only its metrics are missing
        log.error("metrics: could not serve /metrics on %s:%d: %s", host, port, exc)
        return
    log.info("metrics: /metrics on %s:%d (workers' files in %s)", host, port, directory)


def child_exit(server: Any, worker: Any) -> None:  # gunicorn's Arbiter and Worker (untyped)
    """A dead worker's live gauges (requests in flight) stop counting."""
    directory = os.environ.get(ENV_DIR)
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, directory)


def on_exit(server: Any) -> None:
    directory = os.environ.get(ENV_DIR)
    if directory and os.path.basename(directory).startswith("gateway-metrics-"):
        shutil.rmtree(directory, ignore_errors=True)
