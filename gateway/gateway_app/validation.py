"""A small validation layer for JSON bodies and path values.

Every failure is a DomainError with a 4xx status and, where one input is at fault, its `field`:
unparsable JSON is 400 invalid_json; a body that is not an object, a string that is no valid
Unicode (a lone surrogate), a missing, unknown or mistyped field, an overlong string, a bad
customer number or domain is 422 invalid_input.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cc_common.errors import DomainError, InvalidInput
from cc_common.rules.customers import MAX_DIGITS, is_customer_number
from cc_common.rules.domains import normalise_domain
from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

MAX_TEXT = 200
PASSWORD_MIN = 8
PASSWORD_MAX = 128
MAX_DOMAINS = 100
MAX_AMOUNT_CENTS = 999_999_999

_AMOUNT = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?\Z")
_CURRENCY = re.compile(r"[A-Za-z]{3}\Z")


class InvalidJson(DomainError):
    http_status = 400
    default_code = "invalid_json"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_object() -> dict[str, Any]:
    """The request body as a JSON object. Reading it enforces MAX_CONTENT_LENGTH (413)."""
    raw = request.get_data(cache=True)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and request.content_length is None and len(raw) >= limit:
        # A body without Content-Length (chunked) is cut at the limit by werkzeug, silently.
        raise RequestEntityTooLarge()
    if not raw.strip():
        raise InvalidJson("The request body must be a JSON object.")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidJson("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.")
    _check_encodable(body)
    return body


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\udfff", valid JSON but no text
        return False
    return True


def _check_encodable(body: dict[str, Any]) -> None:
    """Every string of the body (keys too, at any depth) is valid Unicode, or 422 naming the
    top-level field it is in: a lone surrogate would otherwise fail only when the protobuf
    request is built (500)."""
    for name, value in body.items():
        field = name[:50] if _encodable(name) else "body"
        pending: list[Any] = [name, value]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                if not _encodable(item):
                    raise InvalidInput(f"{field} must be valid Unicode text.", field=field)
            elif isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)


# --- fields ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One body field: `convert(name, value)` checks and returns the value to use."""

    convert: Callable[[str, Any], Any]
    required: bool = True


def validate(body: Mapping[str, Any], fields: Mapping[str, Field]) -> dict[str, Any]:
    """Checks `body` against `fields`; an optional field that is absent or null is left out."""
    for name in body:
        if name not in fields:
            raise InvalidInput(f"Unknown field: {name[:50]}.", field=name[:50])
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        value = body.get(name)
        if value is None:
            if spec.required:
                raise InvalidInput(f"{name} is required.", field=name)
            continue
        out[name] = spec.convert(name, value)
    return out


def text(*, min_len: int = 0, max_len: int = MAX_TEXT, required: bool = True) -> Field:
    def convert(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string.", field=name)
        if "\x00" in value:
            raise InvalidInput(f"{name} must not contain NUL characters.", field=name)
        if len(value) > max_len:
            raise InvalidInput(f"{name} must be at most {max_len} characters long.", field=name)
        if len(value) < min_len:
            if min_len == 1:
                raise InvalidInput(f"{name} must not be empty.", field=name)
            raise InvalidInput(f"{name} must be at least {min_len} characters long.", field=name)
        return value

    return Field(convert, required)


def password(*, required: bool = True, new: bool = False) -> Field:
    """A password: 1..128 characters to log in, 8..128 characters when it is set."""
    return text(min_len=PASSWORD_MIN if new else 1, max_len=PASSWORD_MAX, required=required)


def choice(*options: str, required: bool = True, aliases: dict[str, str] | None = None) -> Field:
    """One of `options`, case-insensitive; `aliases` maps other spellings to an option."""
    known = {o.lower(): o for o in options} | {k.lower(): v for k, v in (aliases or {}).items()}

    def convert(name: str, value: Any) -> str:
        found = known.get(value.strip().lower()) if isinstance(value, str) else None
        if found is None:
            raise InvalidInput(f"{name} must be one of: {', '.join(options)}.", field=name)
        return found

    return Field(convert, required)


def customer_number(name: str, value: Any) -> str:
    """Exactly 1 to 20 ASCII digits (cc_common/rules/customers.py); no surrounding space."""
    if not is_customer_number(value):
        raise InvalidInput(f"A customer number is 1 to {MAX_DIGITS} digits.", field=name)
    return value


def customer_number_field(*, required: bool = True) -> Field:
    return Field(customer_number, required)


def domain_field(*, required: bool = True) -> Field:
    """A domain name in the form every service stores (cc_common/rules/domains.py)."""
    return Field(lambda name, value: normalise_domain(value, field_name=name), required)


def domain_list(*, required: bool = True) -> Field:
    def convert(name: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise InvalidInput(f"{name} must be a non-empty list of domain names.", field=name)
        if len(value) > MAX_DOMAINS:
            raise InvalidInput(f"{name} may hold at most {MAX_DOMAINS} domains.", field=name)
        domains = [normalise_domain(item, field_name=name) for item in value]
        if len(set(domains)) != len(domains):
            raise InvalidInput(f"{name} names a domain twice.", field=name)
        return domains

    return Field(convert, required)


def amount_cents(name: str, value: Any) -> int:
    """A JSON number or a decimal string, > 0, at most two decimals -> cents."""
    bad = InvalidInput(f"{name} must be a positive amount with at most two decimals.", field=name)
    if isinstance(value, bool):
        raise bad
    if isinstance(value, int):
        literal = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise bad
        literal = repr(value)
    elif isinstance(value, str):
        literal = value.strip()
    else:
        raise bad
    if not _AMOUNT.match(literal):
        raise bad
    cents = int(Decimal(literal) * 100)
    if cents <= 0:
        raise bad
    if cents > MAX_AMOUNT_CENTS:
        raise InvalidInput(f"{name} must be below 10,000,000.00.", field=name)
    return cents


def currency(*, required: bool = True) -> Field:
    def convert(name: str, value: Any) -> str:
        if not isinstance(value, str) or not _CURRENCY.match(value):
            raise InvalidInput(f"{name} must be an ISO 4217 code such as EUR.", field=name)
        return value.upper()

    return Field(convert, required)


def whole_number(*, minimum: int = 0, maximum: int = 10_000_000, required: bool = True) -> Field:
    """A JSON integer (not a boolean, not a float) from `minimum` to `maximum`."""

    def convert(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise InvalidInput(f"{name} must be a whole number from {minimum} to {maximum}.", field=name)
        return value

    return Field(convert, required)


MAX_OPAQUE_ID = 100


def opaque_id(*, required: bool = True) -> Field:
    """An opaque id (package, termination): a non-empty string of at most 100 characters."""
    return text(min_len=1, max_len=MAX_OPAQUE_ID, required=required)
