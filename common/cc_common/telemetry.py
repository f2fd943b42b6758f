"""Traces with OpenTelemetry (docs/observability.md, "Traces"): set up once per process, and
the instrumentation of the gateway (Flask), of every gRPC server and client, and of the
SQLAlchemy engines.

Three modes, from the standard OpenTelemetry variables:

* `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set: the SDK's
  TracerProvider (resource `service.name` = the process's name unless `OTEL_SERVICE_NAME` or
  `OTEL_RESOURCE_ATTRIBUTES` name it; the sampler of `OTEL_TRACES_SAMPLER`, by default every
  trace), a BatchSpanProcessor (`OTEL_BSP_*`) and the OTLP/HTTP exporter
  (`OTEL_EXPORTER_OTLP_*`). Spans of HTTP requests, RPCs (both sides), SQL statements and the
  merge saga's steps are exported.
* nothing set (the default): no SDK, no span is recorded, no id is made. The Flask and gRPC
  instrumentation still runs with OpenTelemetry's no-op tracer, which hands the incoming
  context on unchanged: a `traceparent` sent by a client reaches every service a request
  touches, so their log lines carry the client's trace id. SQL is not instrumented.
* `OTEL_SDK_DISABLED=true`: nothing is instrumented at all (no propagation either).
  `OTEL_TRACES_EXPORTER=none` keeps the no-op mode even with an endpoint set.

Propagation is W3C Trace Context (`traceparent`/`tracestate`) unless `OTEL_PROPAGATORS` says
otherwise; baggage sent by a client is not passed on by default.

`setup(name)` must run in the process that serves: for the gateway in each gunicorn worker
after the fork (create_app; never in the master, the BatchSpanProcessor's thread does not
survive a fork), for a service in its `serve()`. Spans still queued are flushed at exit
(`shutdown()`, also called by gunicorn's worker_exit hook).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanContext, TraceFlags

if TYPE_CHECKING:
    import grpc
    import grpc.aio
    from opentelemetry.instrumentation.grpc.filters import Condition
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

_lock = threading.Lock()
_configured = False
_exporting = False
_provider: Any = None

# RPCs without spans: health checks and reflection (probes, client-side health checking) and
# the revocation watch stream, which lasts as long as the process.
_UNTRACED_METHODS = ("WatchRevocations",)


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def disabled() -> bool:
    """OTEL_SDK_DISABLED=true: no instrumentation at all."""
    return _env("OTEL_SDK_DISABLED").lower() == "true"


def export_configured() -> bool:
    """Whether the environment asks for spans to be exported (an OTLP endpoint is set)."""
    if disabled() or _env("OTEL_TRACES_EXPORTER").lower() == "none":
        return False
    return bool(_env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or _env("OTEL_EXPORTER_OTLP_ENDPOINT"))


def exporting() -> bool:
    """Whether this process records and exports spans (setup() found an endpoint)."""
    return _exporting


def _names_service_in_resource_attributes() -> bool:
    for item in _env("OTEL_RESOURCE_ATTRIBUTES").split(","):
        if item.partition("=")[0].strip() == "service.name":
            return True
    return False


def setup(service_name: str) -> bool:
    """Sets up tracing for this process once (later calls change nothing); returns whether
    spans are exported. `service_name` ("gateway", "identity", ...) is the resource's
    `service.name` unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES give one."""
    global _configured, _exporting, _provider
    with _lock:
        if _configured:
            return _exporting
        _configured = True
        if disabled():
            return False
        if not _env("OTEL_PROPAGATORS"):
            from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

            propagate.set_global_textmap(TraceContextTextMapPropagator())
        if not export_configured():
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        named = _env("OTEL_SERVICE_NAME") or _names_service_in_resource_attributes()
        resource = Resource.create({} if named else {SERVICE_NAME: service_name})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _provider = provider
        _exporting = True
        log.info("traces exported over OTLP/HTTP as service %s", resource.attributes.get(SERVICE_NAME))
        return True


def shutdown() -> None:
    """Flushes and stops the exporter (at exit; the SDK also does it with atexit)."""
    provider = _provider
    if provider is not None:
        try:
            provider.shutdown()
        except Exception:  # pragma: no cover - never fail an exit over traces
            log.warning("flushing the traces failed", exc_info=True)


# --- instrumentation ------------------------------------------------------------------------


def _rpc_filter() -> Condition[Any]:
    from opentelemetry.instrumentation.grpc import filters

    untraced = [filters.health_check(), filters.service_prefix("grpc.reflection.")]
    untraced += [filters.method_name(name) for name in _UNTRACED_METHODS]
    return filters.negate(filters.any_of(*untraced))


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """The interceptors a grpc.aio server puts first (cc_common.grpc_server.create_server): the
    server span of every call, a child of the caller's context from the metadata."""
    if disabled():
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(filter_=_rpc_filter())]


def instrument_channel(channel: grpc.Channel) -> grpc.Channel:
    """A sync channel whose calls have client spans and carry the current context in their
    metadata (cc_common.grpc_client.make_channel)."""
    if disabled():
        return channel
    from opentelemetry.instrumentation.grpc import client_interceptor, grpcext

    traced: grpc.Channel = grpcext.intercept_channel(channel, client_interceptor(filter_=_rpc_filter()))
    return traced


def instrument_engine(engine: Engine) -> None:
    """Spans for the SQL statements of `engine`, only while exporting (cc_common.db.make_engine)."""
    if not _exporting or getattr(engine, "_cc_traced", False):
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__ as version
    from opentelemetry.metrics import get_meter

    name = "opentelemetry.instrumentation.sqlalchemy"
    usage = get_meter(name, version).create_up_down_counter(
        name="db.client.connections.usage",
        unit="connections",
        description="The number of connections that are currently in state described by the state attribute.",
    )
    EngineTracer(trace.get_tracer(name, version), engine, usage)
    engine._cc_traced = True  # type: ignore[attr-defined]  # a mark of our own on the engine


# The pages of links that carry a secret in their query string (a password reset, an e-mail
# restore, an objection to a merge, a "Start" sign-on) are never traced: a server span records
# the full URL (http.url, http.target), and the token would end up in the trace collector.
SECRET_LINK_PAGES = ("/password-reset", "/email-restore", "/merge-objection", "/packages/sso")


def excluded_flask_urls() -> str:
    """The URLs without a server span: OTEL_PYTHON_FLASK_EXCLUDED_URLS (else the health probe
    and static files), and always the pages of links with a secret."""
    chosen = _env("OTEL_PYTHON_FLASK_EXCLUDED_URLS") or "/healthz$,/static/"
    return ",".join([chosen, *(page + r"(\?|$)" for page in SECRET_LINK_PAGES)])


def instrument_flask(app: Any) -> None:  # a Flask app (cc_common does not depend on flask)
    """The server span of every request (continuing a client's `traceparent`), except the URLs
    of excluded_flask_urls()."""
    if disabled():
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor.instrument_app(app, excluded_urls=excluded_flask_urls(), enable_commenter=False)


# --- the merge saga's own trace -------------------------------------------------------------


def current_traceparent() -> str:
    """The W3C traceparent of the current span ("" when there is none)."""
    carrier: dict[str, str] = {}
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent", "")


def new_trace(
    name: str, attributes: Mapping[str, Any] | None = None, *, tracer: trace.Tracer | None = None
) -> str:
    """Starts a trace of its own (e.g. a merge's saga), with a root span named `name` linked to
    the current span (the request that started it), and returns its W3C traceparent for later
    spans (`context_of`), in any process. Without an exporter no span is recorded, but the
    trace still gets random ids, so that log lines of its work share one trace id."""
    tracer = tracer or trace.get_tracer(__name__)
    current = trace.get_current_span().get_span_context()
    links = [Link(current)] if current.is_valid else None
    span = tracer.start_span(name, context=otel_context.Context(), links=links, attributes=attributes)
    try:
        ctx = span.get_span_context()
        if not ctx.is_valid:  # the no-op tracer: ids of its own, not sampled
            ctx = SpanContext(
                trace_id=secrets.randbits(128) or 1,
                span_id=secrets.randbits(64) or 1,
                is_remote=False,
                trace_flags=TraceFlags(TraceFlags.DEFAULT),
            )
        return format_traceparent(ctx)
    finally:
        span.end()


def format_traceparent(ctx: SpanContext) -> str:
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def context_of(traceparent: str | None) -> otel_context.Context:
    """The context whose parent span is `traceparent` (a fresh root context when empty or
    invalid): spans started with it belong to that trace."""
    if not traceparent:
        return otel_context.Context()
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    ctx = TraceContextTextMapPropagator().extract(
        {"traceparent": traceparent}, context=otel_context.Context()
    )
    if not trace.get_current_span(ctx).get_span_context().is_valid:
        return otel_context.Context()
    return ctx
