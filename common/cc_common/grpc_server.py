"""The gRPC server every service runs: asyncio server, token-verifying interceptor, standard
health and reflection (off with APP_ENV=production), optional mTLS (GRPC_TLS_*), graceful
shutdown on SIGTERM (after grpc/grpc `examples/python`).

A servicer method is declared with `@rpc("customer", "staff", "service:gateway", ...)`: user
token kinds by kind, service callers by name (a bare "service" is refused: each RPC names the
services it accepts). It receives the verified caller as a third argument, and a DomainError it
raises ends the call with the mapped status and trailers (`context.abort`, never `set_code`
and a return).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast, overload

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from cc_common import config, faults, telemetry
from cc_common.errors import DomainError, to_trailers
from cc_common.grpc_access import AccessLogInterceptor
from cc_common.grpc_types import Context, Continuation, Handler
from cc_common.metrics import MetricsInterceptor
from cc_common.settings import ServiceSettings
from cc_common.tokens import USER_KINDS, Principal, TokenVerifier

log = logging.getLogger(__name__)

_caller: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("caller", default=None)

UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def current_caller() -> Principal | None:
    return _caller.get()


def bearer_token(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization":
            value = value.decode() if isinstance(value, bytes) else str(value)
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else ""
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Verifies the caller's JWT from the `authorization` metadata of every call.

    A present but invalid token ends the call with UNAUTHENTICATED before the servicer runs.
    The verified caller is put in a context variable for the servicer (see `rpc`): grpc.aio
    runs the interceptors and then the handler in the same task, one task per call, so the
    variable set here is the one the handler reads (tests/integration prove it for every
    service). The handler itself is returned unwrapped: no per-call allocation on the hot path.
    """

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(UNAUTHENTICATED_PREFIXES):
            return handler
        token = bearer_token(handler_call_details.invocation_metadata)
        if token is None:
            _caller.set(None)
            return handler
        try:
            _caller.set(self._verifier.verify(token))
        except DomainError as exc:
            _caller.set(None)
            return _aborting(handler, exc)
        return handler


def _aborting(handler: Handler, error: DomainError) -> Handler:
    """A handler of the same kind as `handler` that ends the call with `error`."""

    async def abort_unary(request: Any, context: Context) -> None:
        await context.abort(error.grpc_status, error.message, trailing_metadata=to_trailers(error))

    async def abort_stream(request: Any, context: Context) -> AsyncIterator[None]:
        await context.abort(error.grpc_status, error.message, trailing_metadata=to_trailers(error))
        yield  # pragma: no cover - makes this an async generator

    codec = (handler.request_deserializer, handler.response_serializer)
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(abort_unary, *codec)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(abort_unary, *codec)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(abort_stream, *codec)
    return grpc.stream_stream_rpc_method_handler(abort_stream, *codec)


SERVICE_CALLERS = frozenset(f"service:{name}" for name in config.SERVICE_CALLERS)


@dataclass(frozen=True)
class Callers:
    """Who may call one RPC: user token kinds, and service subjects ("service:merge")."""

    kinds: frozenset[str]
    services: frozenset[str]

    @classmethod
    def of(cls, names: Iterable[str]) -> Callers:
        names = tuple(names)
        if not names:
            raise ValueError("@rpc needs at least one caller")
        unknown = [n for n in names if n not in USER_KINDS and n not in SERVICE_CALLERS]
        if unknown:
            raise ValueError(
                f"@rpc callers must be user kinds {sorted(USER_KINDS)} or services "
                f"{sorted(SERVICE_CALLERS)}, not {unknown!r} (a bare 'service' names no one)"
            )
        return cls(
            frozenset(n for n in names if n in USER_KINDS),
            frozenset(n for n in names if n in SERVICE_CALLERS),
        )

    def admit(self, caller: Principal) -> bool:
        if caller.kind == "service":
            return caller.subject in self.services
        return caller.kind in self.kinds


_S = TypeVar("_S")
_Req = TypeVar("_Req")
_Resp = TypeVar("_Resp")
_Msg = TypeVar("_Msg", bound=Message)  # what a sync method returns


class _Rpc(Protocol):
    """What `@rpc` makes of a servicer method `(self, request, context, caller)`: the method
    gRPC calls, `(self, request, context)`, awaitable (or an async iterator for a stream), so
    mypy checks it against the servicer base class generated from the protos."""

    @overload
    def __call__(
        self, fn: Callable[[_S, _Req, Context, Principal], AsyncIterator[_Resp]]
    ) -> Callable[[_S, _Req, Context], AsyncIterator[_Resp]]: ...
    @overload
    def __call__(
        self, fn: Callable[[_S, _Req, Context, Principal], Awaitable[_Resp]]
    ) -> Callable[[_S, _Req, Context], Awaitable[_Resp]]: ...
    @overload
    def __call__(
        self, fn: Callable[[_S, _Req, Context, Principal], _Msg]
    ) -> Callable[[_S, _Req, Context], Awaitable[_Msg]]: ...


def rpc(*callers: str, in_thread: bool = False) -> _Rpc:
    """Declares who may call a servicer method and maps its errors.

    `callers` are user token kinds ("customer", "package", "staff") and calling services by
    name ("service:gateway", "service:merge", ...); anyone else gets PERMISSION_DENIED. The
    method is `(self, request, context, caller)`; it may be sync or async. With
    `in_thread=True` a sync method runs in a worker thread (for CPU-heavy work such as
    password hashing, which releases the GIL), so the event loop stays free. The wrapper keeps
    the declaration as `.callers` (read by the tests that check every RPC names its callers).
    """

    allowed = Callers.of(callers)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        is_async = inspect.iscoroutinefunction(fn)
        is_async_gen = inspect.isasyncgenfunction(fn)

        if is_async_gen:

            @functools.wraps(fn)
            async def stream_wrapper(self: Any, request: Any, context: Context) -> AsyncIterator[Any]:
                caller = await _authorize(context, allowed)
                try:
                    async for item in fn(self, request, context, caller):
                        yield item
                except DomainError as exc:
                    await context.abort(exc.grpc_status, exc.message, trailing_metadata=to_trailers(exc))

            stream_wrapper.callers = allowed  # type: ignore[attr-defined]  # an attribute of our own on the function  # an attribute of our own on the function
            return stream_wrapper

        @functools.wraps(fn)
        async def wrapper(self: Any, request: Any, context: Context) -> Any:
            caller = _caller.get()
            if caller is None or not allowed.admit(caller):  # the rare path: ends the call
                caller = await _authorize(context, allowed)
            try:
                if delay := faults.delay_of(fn.__qualname__):  # FAULT_INJECT, tests only
                    await asyncio.sleep(delay)
                if is_async:
                    return await fn(self, request, context, caller)
                if in_thread:
                    ctx = contextvars.copy_context()
                    return await asyncio.to_thread(ctx.run, fn, self, request, context, caller)
                return fn(self, request, context, caller)
            except DomainError as exc:
                await context.abort(exc.grpc_status, exc.message, trailing_metadata=to_trailers(exc))
            except grpc.aio.AbortError:
                raise
            except Exception:  # an unexpected failure: logged here, a plain INTERNAL outside
                log.exception("unexpected error in %s", fn.__qualname__)
                await context.abort(grpc.StatusCode.INTERNAL, "An internal error occurred.")

        wrapper.callers = allowed  # type: ignore[attr-defined]  # an attribute of our own on the function
        return wrapper

    return cast(_Rpc, decorate)  # its overloads, which one function body cannot spell


async def _authorize(context: Context, allowed: Callers) -> Principal:
    caller = _caller.get()
    if caller is None:
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED,
            "A valid token is required.",
            trailing_metadata=(("error-code", "unauthenticated"),),
        )
    if not allowed.admit(caller):
        await context.abort(
            grpc.StatusCode.PERMISSION_DENIED,
            "This kind of login may not do this.",
            trailing_metadata=(("error-code", "forbidden"),),
        )
    return caller


@dataclass
class ServerSpec:
    """What a service puts on its server: `add` functions with servicers, and service names."""

    registrations: list[tuple[Callable[[Any, grpc.aio.Server], None], Any]]
    service_names: list[str]
    verifier: TokenVerifier
    extra_interceptors: list[grpc.aio.ServerInterceptor] = field(default_factory=list)
    # mTLS (GRPC_TLS_*): the server's certificate and key, and the CA of the client
    # certificates it requires. None: a plaintext port.
    tls: config.GrpcTls | None = None
    # gRPC reflection; None: on, except with APP_ENV=production.
    reflection: bool | None = None


def server_credentials(tls: config.GrpcTls) -> grpc.ServerCredentials:
    """TLS that requires a client certificate signed by the CA of `tls`."""
    cert, key, ca = tls.read()
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)


# The largest request a service accepts. gRPC's default of 4 MB is below the 5 MB of a signed
# contract-transfer form (merge-service's UploadLegalProof); a larger message is refused by
# gRPC itself (RESOURCE_EXHAUSTED, answered 413 by the gateway).
MAX_RECEIVE_MESSAGE_BYTES = 8 * 1024 * 1024


async def create_server(address: str, spec: ServerSpec) -> tuple[grpc.aio.Server, int, HealthServicer]:
    """Builds (does not start) a server bound to `address`; port 0 picks a free port. The
    tracing interceptor comes first (cc_common.telemetry): its server span, a child of the
    caller's context, also covers calls the token check refuses."""
    server = grpc.aio.server(
        # The tracing interceptor first (its span is the context of the others); then the metrics
        # (cc_common.metrics) and the access log, which count and log the calls AuthInterceptor
        # refuses too.
        interceptors=[
            *telemetry.server_interceptors(),
            MetricsInterceptor(),
            AccessLogInterceptor(),
            AuthInterceptor(spec.verifier),
            *spec.extra_interceptors,
        ],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES)],
    )
    for add, servicer in spec.registrations:
        add(servicer, server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    names = [*spec.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
    if spec.reflection if spec.reflection is not None else not config.is_production():
        reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)
    if spec.tls is not None:
        port = server.add_secure_port(address, server_credentials(spec.tls))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind {address}")
    return server, port, health


async def set_serving(health: HealthServicer, service_names: Iterable[str], serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ["", *service_names]:
        await health.set(name, status)


def drain_seconds() -> float:
    """GRPC_DRAIN_SECONDS (default 2): how long a stopping server keeps taking calls after it
    reported NOT_SERVING, so that callers and load balancers see it first."""
    raw = ServiceSettings.load().grpc_drain_seconds
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise RuntimeError(f"GRPC_DRAIN_SECONDS must be a number of seconds >= 0, not {raw!r}")
    return seconds


async def run_until_terminated(
    server: grpc.aio.Server,
    health: HealthServicer,
    service_names: list[str],
    *,
    grace: float = 5.0,
    drain: float | None = None,
    on_started: Callable[[], Awaitable[None]] | None = None,
    on_stopping: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Starts the server, reports SERVING, and on SIGTERM or SIGINT stops in three steps:

    1. health reports NOT_SERVING for the server and every service (for good: a later
       `set` changes nothing), while calls are still taken: callers that watch health
       (cc_common.grpc_client) and load balancers move to other copies;
    2. after `drain` seconds (GRPC_DRAIN_SECONDS; a second signal cuts it short) the server
       stops taking calls: new connections and calls are refused;
    3. calls in flight get up to `grace` seconds to finish (then they are cancelled), and
       the function returns, so the process exits 0.
    `on_stopping` runs between 2 and 3 (e.g. ending long-lived streams that would hold
    the graceful stop for its whole grace)."""
    drain = drain_seconds() if drain is None else drain
    stop = asyncio.Event()
    received: list[str] = []
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    # Before anything reports SERVING: a SIGTERM right after must drain, not kill.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    await server.start()
    if on_started is not None:
        await on_started()
    await set_serving(health, service_names, True)
    waiter = asyncio.create_task(server.wait_for_termination())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    cause = received[0] if received else "the server ended"
    await health.enter_graceful_shutdown()
    if drain > 0 and not waiter.done():
        log.info(
            "%s: reporting NOT_SERVING, still taking calls for %.1f s (GRPC_DRAIN_SECONDS)", cause, drain
        )
        stop.clear()
        try:
            await asyncio.wait_for(stop.wait(), drain)
            log.info("%s again: draining cut short", received[-1])
        except TimeoutError:
            pass
    else:
        log.info("%s: reporting NOT_SERVING", cause)
    log.info("taking no new calls; waiting up to %.1f s for the calls in flight", grace)
    if on_stopping is not None:
        await on_stopping()
    await server.stop(grace)
    stopper.cancel()
    waiter.cancel()
    log.info("stopped")
