"""Prometheus metrics of the gRPC services (prometheus_client), served on a port of their own.

Every service serves `/metrics` on METRICS_PORT (defaults: identity 9101, contract 9102,
package 9103, merge 9104; 0 or empty: off) at METRICS_HOST (default 127.0.0.1; 0.0.0.0 in the
containers), never on its gRPC port. The gateway's metrics (several gunicorn workers, hence
prometheus_client's multiprocess mode) are in gateway/gateway_metrics.py and
gateway/gateway_app/metrics.py. docs/observability.md lists every metric.

What is here:

- the RPCs of every server (`MetricsInterceptor`, put first on the server by
  cc_common.grpc_server): calls by service, method and status code, their duration, and the
  calls in flight;
- the mail outbox (messages waiting, age of the oldest), the merges by status and the
  SQLAlchemy connection pool, read at scrape time by one collector (`watch_database`): the
  numbers are those of the database, the same whichever copy is scraped;
- the domain metrics that the service layers count where the events happen (logins and
  lockouts in identity-service, sagas in merge-service, revocation replication everywhere).

Importing this module defines the metrics and registers the collector with prometheus_client's
default registry; nothing listens until `start_metrics_server`.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import grpc
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from cc_common.grpc_access import status_of
from cc_common.grpc_types import Context, Continuation, Handler
from cc_common.settings import ServiceSettings, SharedSettings

if TYPE_CHECKING:
    from sqlalchemy import Engine, Table

log = logging.getLogger(__name__)

# METRICS_PORT's default of each process (the gateway's, GATEWAY_METRICS_PORT, is 9100).
DEFAULT_PORTS = {"gateway": 9100, "identity": 9101, "contract": 9102, "package": 9103, "merge": 9104}

# Seconds: a login hashes a password (~0.1 s), a saga step calls another service.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# --- gRPC server ---------------------------------------------------------------------------
GRPC_HANDLED = Counter(
    "cc_grpc_server_handled",
    "RPCs completed by the server, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_SECONDS = Histogram(
    "cc_grpc_server_handling_seconds",
    "Time from the start of an RPC to its end (a stream: its whole life).",
    ["grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)
GRPC_IN_FLIGHT = Gauge(
    "cc_grpc_server_in_flight",
    "RPCs being handled right now (long-lived streams included).",
    ["grpc_service", "grpc_method"],
    multiprocess_mode="livesum",
)

# --- identity-service: logins and lockouts (identity_service/service_layer/services.py) -------
LOGINS = Counter(
    "cc_logins",
    "Login attempts by kind (customer, package, staff) and result (success, failure, locked, refused).",
    ["kind", "result"],
)
LOCKOUTS = Counter(
    "cc_login_lockouts",
    "Lockouts begun: a throttling key reached its failure limit (scope: the kind of account, or address).",
    ["scope"],
)

# --- revocation replication (cc_common/revocation.py, identity's hubs) ------------------------
REVOCATION_ACK_SECONDS = Histogram(
    "cc_revocation_ack_seconds",
    "identity: time from publishing a revocation until every watcher (and every other identity "
    "copy) applied it, or the ack timeout passed (result).",
    ["result"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REVOCATION_PUBLISHED = Gauge(
    "cc_revocation_published_sequence",
    "identity: the sequence number of the last revocation this copy published.",
    multiprocess_mode="livemax",
)
REVOCATION_WATCHER_LAG = Gauge(
    "cc_revocation_watcher_lag",
    "identity: revocations published but not yet acknowledged by the slowest connected watcher.",
    multiprocess_mode="livemax",
)
REVOCATION_WATCHERS = Gauge(
    "cc_revocation_watchers",
    "identity: the revocation streams (replicas of other processes) connected to this copy.",
    multiprocess_mode="livesum",
)
REPLICA_SEQUENCE = Gauge(
    "cc_revocation_replica_sequence",
    "A replica of the revocation state: the sequence number it applied last.",
    multiprocess_mode="livemin",
)
REPLICA_SYNCED = Gauge(
    "cc_revocation_replica_synced",
    "A replica of the revocation state: 1 while its stream from identity is up, else 0.",
    multiprocess_mode="livemin",
)
REPLICA_APPLIED_AGE = Gauge(
    "cc_revocation_replica_last_event_timestamp_seconds",
    "A replica of the revocation state: when it last applied an event from identity (Unix time).",
    multiprocess_mode="livemin",
)

# --- merge-service: sagas (merge_service/service_layer/saga.py) -------------------------------
SAGA_STEP_SECONDS = Histogram(
    "cc_saga_step_seconds",
    "Duration of one saga step (retries of an unavailable service included), by saga, step and outcome.",
    ["saga", "step", "outcome"],
    buckets=LATENCY_BUCKETS,
)
SAGA_COMPENSATIONS = Counter(
    "cc_saga_compensations",
    "Steps undone after a later step failed for good, by saga, step and outcome (done, failed).",
    ["saga", "step", "outcome"],
)
MERGE_TRANSITIONS = Counter(
    "cc_merge_transitions",
    "Merges that entered a status through this copy's saga runner (completed, reversed, failed).",
    ["status"],
)

# --- mail outbox dispatcher (cc_common/outbox.py) ---------------------------------------------
OUTBOX_DELIVERIES = Counter(
    "cc_outbox_deliveries",
    "Delivery attempts of this process's outbox dispatcher, by result (sent, retry, failed).",
    ["result"],
)


# --- collectors read at scrape time --------------------------------------------------------
class _DatabaseCollector(Collector):
    """The outbox, merges by status and the connection pool of every engine a service watches
    (`watch_database`). Engines are held weakly: one that is gone is forgotten."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watched: weakref.WeakKeyDictionary[Engine, tuple[str, Table | None, Table | None]] = (
            weakref.WeakKeyDictionary()
        )

    def watch(
        self, engine: Engine, service: str, outbox: Table | None = None, merges: Table | None = None
    ) -> None:
        with self._lock:
            self._watched[engine] = (service, outbox, merges)

    def describe(self) -> list[Metric]:  # no samples at registration: collect() queries the databases
        return []

    def collect(self) -> Iterable[Metric]:
        pool_out = GaugeMetricFamily(
            "cc_db_pool_checked_out",
            "Database connections in use (checked out of the pool).",
            labels=["service"],
        )
        pool_size = GaugeMetricFamily(
            "cc_db_pool_size", "Connections the pool keeps (its size; more may overflow).", labels=["service"]
        )
        pool_overflow = GaugeMetricFamily(
            "cc_db_pool_overflow",
            "Connections open beyond the pool's size (negative: not all opened yet).",
            labels=["service"],
        )
        waiting = GaugeMetricFamily(
            "cc_outbox_messages",
            "Mails in the outbox by status (pending, sending, failed; sent ones not counted).",
            labels=["service", "status"],
        )
        oldest = GaugeMetricFamily(
            "cc_outbox_oldest_waiting_age_seconds",
            "Age of the oldest mail not delivered yet (pending or sending); 0 when none waits.",
            labels=["service"],
        )
        merges = GaugeMetricFamily(
            "cc_merges", "Merges by status (in merge-service's database).", labels=["status"]
        )
        with self._lock:
            watched = list(self._watched.items())
        for engine, (service, outbox, merge_table) in watched:
            pool = engine.pool
            for family, attribute in (
                (pool_out, "checkedout"),
                (pool_size, "size"),
                (pool_overflow, "overflow"),
            ):
                read = getattr(pool, attribute, None)
                if callable(read):
                    try:
                        family.add_metric([service], float(read()))
                    except Exception:  # noqa: BLE001 - a pool without this number
                        pass
            try:
                if outbox is not None:
                    self._outbox(engine, service, outbox, waiting, oldest)
                if merge_table is not None:
                    self._merges(engine, merge_table, merges)
            except Exception as exc:  # noqa: BLE001 - a scrape never fails for a busy database
                log.warning("metrics: could not read %s's database: %s", service, exc)
        yield from (pool_out, pool_size, pool_overflow, waiting, oldest, merges)

    @staticmethod
    def _outbox(
        engine: Engine, service: str, table: Table, waiting: GaugeMetricFamily, oldest: GaugeMetricFamily
    ) -> None:
        from sqlalchemy import func, select

        query = (
            select(table.c.status, func.count(), func.min(table.c.created_at))
            .where(table.c.status != "sent")
            .group_by(table.c.status)
        )
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        counts = {"pending": 0, "sending": 0, "failed": 0}
        first: datetime | None = None
        for status, count, created in rows:
            counts[status] = int(count)
            if status in ("pending", "sending") and created is not None:
                if created.tzinfo is None:  # SQLite hands back naive datetimes (stored in UTC)
                    created = created.replace(tzinfo=UTC)
                first = created if first is None or created < first else first
        for status, count in counts.items():
            waiting.add_metric([service, status], count)
        age = (datetime.now(UTC) - first).total_seconds() if first is not None else 0.0
        oldest.add_metric([service], max(age, 0.0))

    @staticmethod
    def _merges(engine: Engine, table: Table, family: GaugeMetricFamily) -> None:
        from sqlalchemy import func, select

        with engine.connect() as conn:
            rows = conn.execute(select(table.c.status, func.count()).group_by(table.c.status)).all()
        for status, count in rows:
            family.add_metric([status], int(count))


_DATABASES = _DatabaseCollector()
REGISTRY.register(_DATABASES)


def watch_database(
    engine: Engine, service: str, *, outbox: Table | None = None, merges: Table | None = None
) -> None:
    """Reports `engine`'s connection pool, and at every scrape the mails waiting in the `outbox`
    table and the merges by status of the `merges` table (each when given)."""
    _DATABASES.watch(engine, service, outbox, merges)


# --- the gRPC interceptor --------------------------------------------------------------------
def _split(method: str) -> tuple[str, str]:
    """ "/customercenter.v2.IdentityService/Login" -> ("customercenter.v2.IdentityService", "Login")."""
    service, _, name = method.lstrip("/").rpartition("/")
    return service or "unknown", name or "unknown"


class _Call:
    """The metric children of one method, made once."""

    __slots__ = ("service", "method", "seconds", "in_flight")

    def __init__(self, service: str, method: str) -> None:
        self.service, self.method = service, method
        self.seconds = GRPC_SECONDS.labels(service, method)
        self.in_flight = GRPC_IN_FLIGHT.labels(service, method)

    def done(self, started: float, code: str) -> None:
        self.in_flight.dec()
        self.seconds.observe(time.perf_counter() - started)
        GRPC_HANDLED.labels(self.service, self.method, code).inc()


def _measured(handler: Handler, call: _Call) -> Handler:
    """`handler` with its behaviour timed and counted (same kind, same codec)."""
    codec = (handler.request_deserializer, handler.response_serializer)
    if handler.unary_unary or handler.stream_unary:
        # A grpc.aio behaviour (aio context, may return an awaitable); the stubs type the sync one.
        behaviour = cast("Callable[[Any, Context], Any]", handler.unary_unary or handler.stream_unary)

        async def unary(request: Any, context: Context) -> Any:
            started = time.perf_counter()
            call.in_flight.inc()
            error: BaseException | None = None
            try:
                result = behaviour(request, context)
                if inspect.isawaitable(result):
                    result = await result
                return result
            except BaseException as exc:
                error = exc
                raise
            finally:
                call.done(started, status_of(context, error).name)

        make = (
            grpc.unary_unary_rpc_method_handler
            if handler.unary_unary
            else grpc.stream_unary_rpc_method_handler
        )
        return make(unary, *codec)

    behaviour = cast("Callable[[Any, Context], Any]", handler.unary_stream or handler.stream_stream)

    async def stream(request: Any, context: Context) -> AsyncIterator[Any]:
        started = time.perf_counter()
        call.in_flight.inc()
        error: BaseException | None = None
        try:
            result = behaviour(request, context)
            if hasattr(result, "__aiter__"):
                async for item in result:
                    yield item
            else:  # a handler that writes with context.write and returns
                if inspect.isawaitable(result):
                    await result
        except BaseException as exc:
            error = exc
            raise
        finally:
            call.done(started, status_of(context, error).name)

    make = (
        grpc.unary_stream_rpc_method_handler
        if handler.unary_stream
        else grpc.stream_stream_rpc_method_handler
    )
    return make(stream, *codec)


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts and times every RPC of a server: cc_grpc_server_handled_total (by status code),
    cc_grpc_server_handling_seconds and cc_grpc_server_in_flight. The first interceptor of
    the server, so calls refused by the authentication interceptor are counted too. The
    measured handler of a method is made once and reused (a refusal's handler is new each
    time and is measured without being kept)."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[Handler, Handler]] = {}
        self._calls: dict[str, _Call] = {}

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # an unknown method: gRPC answers UNIMPLEMENTED itself
            return None
        method = handler_call_details.method
        cached = self._handlers.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        call = self._calls.get(method)
        if call is None:
            call = _Call(*_split(method))
            if len(self._calls) < 1000:  # the methods of the server: a small, fixed set
                self._calls[method] = call
        measured = _measured(handler, call)
        if cached is None and method in self._calls:
            self._handlers[method] = (handler, measured)
        return measured


# --- the /metrics endpoint -------------------------------------------------------------------
def metrics_port(process: str) -> int:
    """The port of a service's /metrics from METRICS_PORT (default DEFAULT_PORTS[process]); 0: off."""
    raw = ServiceSettings.load().metrics_port or str(DEFAULT_PORTS[process])
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise RuntimeError(f"METRICS_PORT must be a port number (0: no metrics), not {raw!r}")
    return port


def metrics_host() -> str:
    """METRICS_HOST: the address /metrics listens on (default 127.0.0.1; 0.0.0.0 in containers)."""
    return SharedSettings.load().metrics_host


def start_metrics_server(
    port: int, host: str | None = None, registry: CollectorRegistry = REGISTRY
) -> int | None:
    """Serves `registry` as /metrics on host:port in a daemon thread (prometheus_client's
    server); port 0: nothing. A port that cannot be bound is logged as an error and the
    process goes on without metrics (it never stops a service). Returns the port served."""
    if not port:
        return None
    from prometheus_client import start_http_server

    host = host or metrics_host()
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.error("metrics: could not serve /metrics on %s:%d: %s", host, port, exc)
        return None
    log.info("metrics: /metrics on %s:%d", host, port)
    return port


def serve_metrics(process: str) -> int | None:
    """A service's start-up: /metrics on METRICS_HOST:METRICS_PORT (default per process)."""
    return start_metrics_server(metrics_port(process))


def observe_duration(histogram_child: Histogram) -> Callable[[], None]:
    """A stopwatch: call the returned function to observe the seconds since this call."""
    started = time.perf_counter()
    return lambda: histogram_child.observe(time.perf_counter() - started)
