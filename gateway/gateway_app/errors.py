"""JSON errors: `{"error": {"code", "message", "field"?, ...extra}}` for every failure
(Flask docs, "Returning API Errors as JSON"). Never a stack trace in a body."""

from __future__ import annotations

import re
from typing import Any

from cc_common.errors import DomainError, ServiceUnavailable, TooManyAttempts
from flask import Flask, Response, current_app, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

# Codes whose HTTP status at the gateway differs from the gRPC mapping of their class.
# identity ends a login of a merged number with FAILED_PRECONDITION; the API answers 403.
STATUS_BY_CODE = {"customer_number_merged": 403}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "too_many_attempts",
    431: "request_header_fields_too_large",
}


def size_text(size: int) -> str:
    """1048576 -> "1 MB (1048576 bytes)"; a size that is no whole number of MB in bytes."""
    mib = 1024 * 1024
    if size >= mib and size % mib == 0:
        return f"{size // mib} MB ({size} bytes)"
    return f"{size} bytes"


def payload_too_large_message() -> str:
    """The 413 message with the limit of this request (1 MB of JSON unless a view raised it)."""
    limit = request.max_content_length if has_request_context() else None
    if limit is None:
        return "The request body is too large."
    return f"The request body is larger than {size_text(limit)}, the limit for this request."


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify({"error": body})
    response.status_code = status
    return response


def handle_domain_error(error: DomainError) -> Response:
    status = STATUS_BY_CODE.get(error.code, error.http_status)
    message = error.message
    if isinstance(error, ServiceUnavailable) and error.extra.get("service"):
        message = (
            f"The {error.extra['service']} service is not available at the moment. Please try again shortly."
        )
    if status >= 500 and not isinstance(error, ServiceUnavailable):
        current_app.logger.error("backend error %r", error)
        message = "An internal error occurred. Please try again later."
    extra = {k: v for k, v in error.extra.items() if k not in ("code", "message", "field")}
    response = error_response(status, error.code, message, field=error.field, **extra)
    if isinstance(error, TooManyAttempts):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code = HTTP_CODES.get(status) or re.sub(r"[^a-z0-9]+", "_", (error.name or "error").lower()).strip("_")
    message = error.description or error.name
    if isinstance(error, RequestEntityTooLarge) and message == RequestEntityTooLarge.description:
        message = payload_too_large_message()  # werkzeug's own text does not say the limit
    response = error_response(status, code, message)
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]  # MethodNotAllowed's, typed as HTTPException
    return response


def handle_unexpected(error: Exception) -> Response:
    current_app.logger.exception("unhandled error")
    return error_response(500, "internal_error", "An internal error occurred. Please try again later.")


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
