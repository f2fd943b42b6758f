"""Type aliases for the grpc.aio server side (the interceptors and `@rpc`), for mypy: the
handlers and contexts carry every service's messages, so their message types are `Any`.
Strings: grpc's classes are not subscriptable at runtime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import grpc
import grpc.aio

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Continuation: TypeAlias = (
    "Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]]"
)
Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
