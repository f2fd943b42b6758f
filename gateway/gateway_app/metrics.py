"""The gateway's request metrics, counted in each gunicorn worker and served by the master on
GATEWAY_METRICS_PORT (gateway/gateway_metrics.py), never on the public port:

- cc_http_requests_total{method, route, status}: requests answered, by URL rule
  (`/api/v1/customers/<number>`, never the raw path; `<unmatched>` for a 404 of no route);
- cc_http_request_duration_seconds{method, route}: the time to the response (its body may
  still stream afterwards);
- cc_http_requests_in_flight: requests being handled, summed over the live workers.

A WSGI middleware measures every answer (errors and 413s included); a before_request hook
registered first tells it the route. Under gunicorn the workers write to the master's files
(PROMETHEUS_MULTIPROC_DIR); elsewhere (tests) the metrics live in the process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import Flask, request
from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from types import TracebackType
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    OptExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ROUTE_KEY = "cc_metrics.route"
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "cc_http_requests",
    "HTTP requests answered by the gateway, by method, route and status.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "cc_http_request_duration_seconds",
    "Time the gateway took to answer a request, by method and route.",
    ["method", "route"],
    buckets=BUCKETS,
)
IN_FLIGHT = Gauge(
    "cc_http_requests_in_flight",
    "Requests the gateway is handling right now (all workers).",
    multiprocess_mode="livesum",
)


class _Measured:
    """WSGI middleware: times and counts every request."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def recording_start_response(
            code: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            status[:] = [code.split(" ", 1)[0]]
            return start_response(code, headers, exc_info)

        IN_FLIGHT.inc()
        try:
            return self.wsgi_app(environ, recording_start_response)
        finally:
            IN_FLIGHT.dec()
            method = environ.get("REQUEST_METHOD", "")
            method = method if method in METHODS else "other"
            route = environ.get(ROUTE_KEY) or UNMATCHED
            DURATION.labels(method, route).observe(time.perf_counter() - started)
            REQUESTS.labels(method, route, status[0] if status else "500").inc()


def init_app(app: Flask) -> None:
    """Call first in create_app: the route hook must run before any other before_request."""

    @app.before_request
    def remember_route() -> None:
        rule = request.url_rule
        request.environ[ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED

    app.wsgi_app = _Measured(app.wsgi_app)  # type: ignore[method-assign]  # Flask's documented middleware hook
