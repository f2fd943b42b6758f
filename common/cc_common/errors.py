"""Domain errors and the one table that maps them to gRPC codes and HTTP statuses.

Every layer raises these; the gRPC entrypoints turn them into a status with trailing metadata
(`error-code`, `error-field`, `retry-after`, ...), and the gateway turns an RpcError back into
the same DomainError and then into a JSON error (after googleapis python-api-core
`exceptions.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast
from urllib.parse import quote, unquote

import grpc


class DomainError(Exception):
    """A failure a caller can act on. `code` is the API's snake_case error code (docs/architecture.md)."""

    grpc_status: grpc.StatusCode = grpc.StatusCode.INTERNAL
    http_status: int = 500
    default_code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        # Additional string details that travel as trailers, e.g. {"merged_into": "123"}.
        self.extra: dict[str, str] = dict(extra or {})

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, field={self.field!r})"


class InvalidInput(DomainError):
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    http_status = 422
    default_code = "invalid_input"


class Unauthenticated(DomainError):
    grpc_status = grpc.StatusCode.UNAUTHENTICATED
    http_status = 401
    default_code = "unauthenticated"


class Forbidden(DomainError):
    grpc_status = grpc.StatusCode.PERMISSION_DENIED
    http_status = 403
    default_code = "forbidden"


class NotFound(DomainError):
    grpc_status = grpc.StatusCode.NOT_FOUND
    http_status = 404
    default_code = "not_found"


class Conflict(DomainError):
    """A state conflict: 409."""

    grpc_status = grpc.StatusCode.FAILED_PRECONDITION
    http_status = 409
    default_code = "conflict"


class AlreadyExists(Conflict):
    grpc_status = grpc.StatusCode.ALREADY_EXISTS


class TooManyAttempts(DomainError):
    grpc_status = grpc.StatusCode.RESOURCE_EXHAUSTED
    http_status = 429
    default_code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]  # the base class's keywords, passed through
        self.retry_after = max(1, int(retry_after))
        self.extra["retry_after"] = str(self.retry_after)


class InvalidToken(DomainError):
    """A single-use link's token that is unknown, used or expired: 400 invalid_token."""

    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    http_status = 400
    default_code = "invalid_token"


class PayloadTooLarge(DomainError):
    """A request (or a file in it) over its size limit: 413. The message states the limit.
    gRPC's own refusal of a message over `grpc.max_receive_message_length` arrives as
    RESOURCE_EXHAUSTED without an error-code trailer and comes back as this too, never as
    TooManyAttempts (that one always carries its code and retry-after)."""

    grpc_status = grpc.StatusCode.RESOURCE_EXHAUSTED
    http_status = 413
    default_code = "payload_too_large"


class ServiceUnavailable(DomainError):
    grpc_status = grpc.StatusCode.UNAVAILABLE
    http_status = 503
    default_code = "service_unavailable"


# gRPC status -> error class, for the way back (client side).
_BY_GRPC_STATUS: dict[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidInput,
    grpc.StatusCode.OUT_OF_RANGE: InvalidInput,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: Forbidden,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: Conflict,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.RESOURCE_EXHAUSTED: TooManyAttempts,
    grpc.StatusCode.UNAVAILABLE: ServiceUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: ServiceUnavailable,
}

TRAILER_CODE = "error-code"
TRAILER_FIELD = "error-field"
TRAILER_EXTRA_PREFIX = "error-x-"


# gRPC sends a text metadata value only if it is printable ASCII; any other character (a
# field named after a client's settings key, say "settings.\x9c") fails the whole answer and the
# caller sees INTERNAL. Such characters, and "%" itself, travel percent-encoded (UTF-8).
_TRAILER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def _encode(value: str) -> str:
    return quote(value, safe=_TRAILER_SAFE)


def to_trailers(error: DomainError) -> tuple[tuple[str, str], ...]:
    """The trailing metadata that carries a DomainError over gRPC."""
    items = [(TRAILER_CODE, _encode(error.code))]
    if error.field:
        items.append((TRAILER_FIELD, _encode(error.field)))
    for key, value in error.extra.items():
        items.append((TRAILER_EXTRA_PREFIX + key.replace("_", "-"), _encode(value)))
    return tuple(items)


def from_rpc_error(err: grpc.RpcError, *, service: str = "backend") -> DomainError:
    """Turns a failed call back into the DomainError the server raised."""
    status = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = (err.details() if hasattr(err, "details") else None) or ""
    # (key, value) pairs at runtime, sync and aio alike (the stubs type them as objects).
    pairs = (
        cast(Iterable[tuple[str, Any]], err.trailing_metadata() or ())
        if hasattr(err, "trailing_metadata")
        else ()
    )
    trailers = {k: unquote(v) if isinstance(v, str) else v for k, v in pairs}
    cls = _BY_GRPC_STATUS.get(status)
    if cls is None or cls is ServiceUnavailable:
        if status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return ServiceUnavailable(
                f"The {service} is not available at the moment. Please try again shortly.",
                extra={"service": service},
            )
        return DomainError("An internal error occurred. Please try again later.")
    extra = {
        k[len(TRAILER_EXTRA_PREFIX) :].replace("-", "_"): str(v)
        for k, v in trailers.items()
        if k.startswith(TRAILER_EXTRA_PREFIX)
    }
    code = str(trailers.get(TRAILER_CODE) or cls.default_code)
    if cls is InvalidInput and code == InvalidToken.default_code:
        cls = InvalidToken
    field = trailers.get(TRAILER_FIELD)
    if cls is TooManyAttempts and (TRAILER_CODE not in trailers or code == PayloadTooLarge.default_code):
        # Without a code of ours, gRPC itself refused a message over its size limit.
        message = details if TRAILER_CODE in trailers else "The request is larger than the service accepts."
        return PayloadTooLarge(message, field=str(field) if field else None, extra=extra)
    if cls is TooManyAttempts:
        retry_after = int(extra.pop("retry_after", "60") or 60)
        return TooManyAttempts(details, retry_after=retry_after, code=code, field=field, extra=extra)
    return cls(details, code=code, field=str(field) if field else None, extra=extra)
