"""The gateway's liveness and readiness answers (/livez, /healthz)."""

from __future__ import annotations

from typing import ClassVar, Literal

from gateway_app.schemas import Answer, omitted
from gateway_app.schemas.errors import ErrorDetail


class Live(Answer):
    """The process answers"""

    status: Literal["ok"]


class Health(Answer):
    """The state of every service; 503 names those that do not serve"""

    status: Literal["ok", "unavailable"]
    services: dict[str, Literal["SERVING", "NOT_SERVING"]]
    error: ErrorDetail = omitted()
    EXAMPLE: ClassVar = {
        "services": {name: "SERVING" for name in ("identity", "contract", "package", "merge")}
    }
