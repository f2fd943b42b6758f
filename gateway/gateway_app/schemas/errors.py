"""The error envelope every failure answers: `{"error": {"code", "message", "field"?}}`."""

from __future__ import annotations

from typing import ClassVar

from gateway_app.schemas import Answer, omitted


class ErrorDetail(Answer):
    code: str
    message: str
    field: str = omitted()
    # Extras some errors carry: customer_number_merged, too_many_attempts (also the Retry-After
    # header), service_unavailable, objection_period_running.
    merged_into: str = omitted()
    retry_after: str = omitted()
    service: str = omitted()
    objection_period_ends_at: str = omitted()


class Error(Answer):
    """An error: a snake_case code, a message a person can act on, and the field at fault"""

    error: ErrorDetail
    EXAMPLE: ClassVar = {"error": {"code": "invalid_input", "message": "password is required.", "field": "password"}}  # fmt: skip


# What each status means wherever an operation does not say more.
DESCRIPTIONS = {
    400: "The body is not valid JSON (invalid_json)",
    401: "No, bad, expired or revoked token (unauthenticated)",
    403: "A token of the wrong kind (forbidden)",
    404: "Unknown, or not the caller's (not_found)",
    409: "The state does not allow this",
    413: "The body is larger than 1 MB (payload_too_large, the message states the limit); "
    "the connection is closed after this answer",
    414: "The request line is longer than 4094 bytes (uri_too_long), answered before any route",
    422: "Invalid input (invalid_input, with field)",
    429: "Too many attempts (too_many_attempts), with Retry-After",
    431: "More than 100 header fields, or one over 8190 bytes (request_header_fields_too_large)",
    503: "A service needed for this call is down (service_unavailable, with service)",
}
