"""The access log of a gRPC server: one line per finished call (cc_common.grpc_server puts
`AccessLogInterceptor` on every server).

Fields: `grpc_method` ("/customercenter.v2.IdentityService/Login"), `grpc_code` ("OK",
"UNAUTHENTICATED", ...), `duration_ms`, `peer` (the caller's address as gRPC names it),
`caller` (who the verified token says called: "service:gateway", or only the kind of a user
token: "customer", "package", "staff"; null without a token). Never a request, a response or
metadata: they carry passwords, tokens and bank data.

A health check that answers OK is written at DEBUG (the probes and the channels' health
watches would otherwise be most lines of an idle service); a server fault (UNKNOWN,
INTERNAL, DATA_LOSS) at WARNING; everything else at INFO.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from cc_common.grpc_types import Context, Continuation, Handler

log = logging.getLogger("access.grpc")

QUIET_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
FAULTS = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS})


def status_of(context: Any, error: BaseException | None) -> grpc.StatusCode:
    """How a call ended: the status it set (or aborted with), else judged by its error. Shared
    by the access log and the RPC metrics (cc_common.metrics)."""
    try:
        code = context.code()
    except Exception:  # noqa: BLE001 - an old or fake context: judge by the outcome
        code = None
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):  # grpc.aio keeps the raw status of an abort
        return next((c for c in grpc.StatusCode if c.value[0] == code), grpc.StatusCode.UNKNOWN)
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, asyncio.CancelledError):  # the caller went away, or the server stops
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


def write(method: str, context: Any, started: float, error: BaseException | None) -> None:
    code = status_of(context, error)
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    if code in FAULTS:
        level = logging.WARNING
    elif code is grpc.StatusCode.OK and method.startswith(QUIET_PREFIXES):
        level = logging.DEBUG
    else:
        level = logging.INFO
    if not log.isEnabledFor(level):
        return
    try:
        peer = context.peer()
    except Exception:  # noqa: BLE001
        peer = None
    from cc_common.grpc_server import current_caller

    caller = current_caller()
    who = None if caller is None else caller.subject if caller.kind == "service" else caller.kind
    log.log(
        level,
        "%s %s %.1f ms",
        method,
        code.name,
        duration_ms,
        extra={
            "access": "grpc",
            "grpc_method": method,
            "grpc_code": code.name,
            "duration_ms": duration_ms,
            "peer": peer,
            "caller": who,
        },
    )


def _logged(handler: Handler, method: str) -> Handler:
    """`handler` with its behaviour wrapped to write the access line when the call ends;
    unchanged when its behaviour is not a coroutine or an async generator."""

    def unary(behavior: Callable[[Any, Context], Awaitable[Any]]) -> Callable[[Any, Context], Awaitable[Any]]:
        async def wrapper(request_or_iterator: Any, context: Context) -> Any:
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                return await behavior(request_or_iterator, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                write(method, context, started, error)

        return wrapper

    def streaming(
        behavior: Callable[[Any, Context], AsyncIterator[Any]],
    ) -> Callable[[Any, Context], AsyncIterator[Any]]:
        async def wrapper(request_or_iterator: Any, context: Context) -> AsyncIterator[Any]:
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                async for item in behavior(request_or_iterator, context):
                    yield item
            except BaseException as exc:
                error = exc
                raise
            finally:
                write(method, context, started, error)

        return wrapper

    codec = (handler.request_deserializer, handler.response_serializer)
    for kind, make in (
        ("unary_unary", grpc.unary_unary_rpc_method_handler),
        ("unary_stream", grpc.unary_stream_rpc_method_handler),
        ("stream_unary", grpc.stream_unary_rpc_method_handler),
        ("stream_stream", grpc.stream_stream_rpc_method_handler),
    ):
        behavior = getattr(handler, kind)
        if behavior is None:
            continue
        if inspect.isasyncgenfunction(behavior):
            return make(streaming(behavior), *codec)
        if inspect.iscoroutinefunction(behavior):
            return make(unary(behavior), *codec)
        return handler
    return handler


class AccessLogInterceptor(grpc.aio.ServerInterceptor):
    """Writes one access line per call (module docstring). First among the interceptors that
    may end a call (authentication), so that the calls they refuse are logged too; after a
    tracing interceptor, so that the line carries the call's trace id."""

    # Wrapped handlers by (method, handler): the servicers' handlers are the same objects on
    # every call, so each is wrapped once. A refusing handler is new on every call; the cap
    # keeps those from growing the cache for ever (they are then wrapped per call).
    CACHE_SIZE = 1024

    def __init__(self) -> None:
        self._wrapped: dict[tuple[str, Handler], Handler] = {}

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        key = (method, handler)
        try:
            wrapped = self._wrapped.get(key)
        except TypeError:  # an unhashable handler
            return _logged(handler, method)
        if wrapped is None:
            wrapped = _logged(handler, method)
            if len(self._wrapped) < self.CACHE_SIZE:
                self._wrapped[key] = wrapped
        return wrapped
