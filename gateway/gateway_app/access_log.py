"""The gateway's access log: one line per request, written when the answer is ready.

Fields (besides those of every line, cc_common.logs): `access` ("http"), `method`, `route`
(the URL rule that matched, "/api/v1/merges/<merge_id>"; null when none did), `path` (never
the query string: reset and restore links carry their tokens there), `status`,
`duration_ms`, `client_address` (after the TRUSTED_PROXIES rule, gateway_app.proxy) and
`user_agent`. Never a body, a header with credentials or a cookie.

Written from Flask's hooks rather than a WSGI middleware: the request's span (when traces are
on) is still current then, so the line carries its trace id. The timer starts in the first
`before_request` hook, so it measures the application, not the time the request spent in
gunicorn's queue.

A probe that answers 200 (GET /livez, GET /healthz) is written at DEBUG: the orchestrator
calls them every few seconds on every copy, and a failing one (a 503 of /healthz, at INFO)
is what matters. Other 5xx answers are written at WARNING, everything else at INFO.
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
    elif status >= 500:
        level = logging.WARNING
    else:
        level = logging.INFO
    if not log.isEnabledFor(level):
        return response
    started = g.get("access_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    rule = request.url_rule
    log.log(
        level,
        "%s %s %d %s ms %s",
        request.method,
        path,
        status,
        duration_ms,
        client_address() or "-",
        extra={
            "access": "http",
            "method": request.method,
            "route": rule.rule if rule is not None else None,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client_address": client_address() or None,
            "user_agent": (request.user_agent.string or "")[:USER_AGENT_CHARS] or None,
        },
    )
    return response


def init_app(app: Flask) -> None:
    """The timer starts before any other hook (one that refuses a request ends the hooks), and
    the line is written after every other `after_request` hook (Flask runs them in the reverse
    order of registration, so `_write` goes first in the list), with the final status."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _write)
