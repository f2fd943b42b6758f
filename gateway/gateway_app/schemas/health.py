"""The gateway's liveness and readiness answers (/livez, /healthz)."""

from __future__ import annotations

from typing import ClassVar, Literal

from gateway_app.schemas import Answer, omitted
from gateway_app.schemas.errors import ErrorDetail

State = Literal["SERVING", "NOT_SERVING"]


class Live(Answer):
    """The process answers"""

    status: Literal["ok"]
    EXAMPLE: ClassVar = {"status": "ok"}


class Health(Answer):
    """The state of every service; 503 names those that do not serve"""

    status: Literal["ok", "unavailable"]
    services: dict[str, State]
    error: ErrorDetail = omitted()
    EXAMPLE: ClassVar = {
        "status": "ok",
        "services": {"identity": "SERVING", "contract": "SERVING", "package": "SERVING", "merge": "SERVING"},
    }
