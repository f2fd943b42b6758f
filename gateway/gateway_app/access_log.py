"""The gateway's access log: one line per request, written when the answer is ready.

Fields (besides those of every line, cc_common.logs): `access` ("http"), `method`, `route` (the
URL rule, "/api/v1/merges/<merge_id>"; null when none matched), `path` (never the query string:
reset and restore links carry their tokens there), `status`, `duration_ms`, `client_address`
(gateway_app.proxy) and `user_agent`. Never a body, a header with credentials or a cookie.

Written from Flask's hooks rather than a WSGI middleware, so the request's span (traces) is
still current and the line carries its trace id; the timer measures the application, not the
time in gunicorn's queue. A probe answering 200 (GET /livez, /healthz: every few seconds on
every copy) is written at DEBUG, a failing one at INFO, other 5xx answers at WARNING,
everything else at INFO.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from gateway_app.proxy import client_address

log = logging.getLogger("access.http")

PROBES = frozenset({"/livez", "/healthz"})
USER_AGENT_CHARS = 200


def _start() -> None:
    g.access_started = time.perf_counter()


def _write(response: Response) -> Response:
    status = response.status_code
    path = request.path
    if path in PROBES:  # a 503 of /healthz is news, but no fault of the gateway
        level = logging.DEBUG if status == 200 else logging.INFO
    else:
        level = logging.WARNING if status >= 500 else logging.INFO
    if not log.isEnabledFor(level):
        return response
    started = g.get("access_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    rule, address = request.url_rule, client_address()
    fields = {
        "access": "http",
        "method": request.method,
        "route": rule.rule if rule is not None else None,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "client_address": address or None,
        "user_agent": (request.user_agent.string or "")[:USER_AGENT_CHARS] or None,
    }
    log.log(
        level, "%s %s %d %s ms %s", request.method, path, status, duration_ms, address or "-", extra=fields
    )
    return response


def init_app(app: Flask) -> None:
    """The timer starts before any other hook (one that refuses a request ends the hooks); the
    line is written after every other `after_request` hook (Flask runs them in reverse order)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _write)
