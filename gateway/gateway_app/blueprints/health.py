"""The gateway's two health endpoints (docs/observability.md, "Health checks"):

- GET /livez, liveness: the process answers requests. No backend is asked, so an outage of a
  service never makes an orchestrator restart healthy gateways.
- GET /healthz, readiness: the standard gRPC health check of every service, in parallel;
  503 naming those that do not serve.

Neither needs a token.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, current_app

from gateway_app.api import Api, answer
from gateway_app.backends import Backend, current_backends
from gateway_app.schemas.errors import ErrorDetail
from gateway_app.schemas.health import Health, Live

bp = Blueprint("health", __name__)
api = Api(bp, "health")


def _serving(client: Backend[Any], timeout: float) -> bool:
    try:
        return bool(client.serving(timeout))
    except Exception:  # noqa: BLE001 - a service that does not answer is not serving
        return False


@api.get("/livez", {200: Live}, backend=False)
def livez() -> Live:
    """Whether the gateway process answers (liveness; asks no service)"""
    return Live(status="ok")


@api.get("/healthz", {200: Health, 503: Health}, backend=False)
def healthz() -> Health | Response:
    """Whether every service is serving (readiness)"""
    clients = current_backends().by_name()
    timeout = current_app.config["HEALTH_TIMEOUT"]
    with ThreadPoolExecutor(max_workers=len(clients), thread_name_prefix="healthz") as pool:
        futures = {name: pool.submit(_serving, client, timeout) for name, client in clients.items()}
        states = {name: "SERVING" if future.result() else "NOT_SERVING" for name, future in futures.items()}
    down = [name for name, state in states.items() if state != "SERVING"]
    if not down:
        return Health(status="ok", services=states)
    error = ErrorDetail(code="service_unavailable", message="Not serving: " + ", ".join(down))
    return answer(Health(status="unavailable", services=states, error=error), 503)
