"""Conversions between the protos' types and the domain's values, for the transport layers.

The protos (customercenter.v2) carry closed sets as enums and instants as
google.protobuf.Timestamp; the domains, databases and the HTTP API keep lower-case names
("needs_legal_proof", "de") and aware datetimes / ISO 8601 strings. Each servicer and the
gateway convert at their edge with these helpers, so both sides of a call agree on one rule.

Enums follow buf's STANDARD style: values are prefixed with the enum's name in upper case and
the zero value is `<ENUM>_UNSPECIFIED`, which stands for "" (not set).
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

# An enum's number type (mypy-protobuf types each enum's numbers apart).
V = TypeVar("V", bound=int)

_UNSPECIFIED = "UNSPECIFIED"


@functools.cache
def _table(descriptor: Any) -> tuple[dict[str, int], dict[int, str]]:
    """(lower-case name -> number, number -> lower-case name) of an enum, without its zero value.

    Built once per enum: the gateway converts every field of every answer it shows."""
    zero = descriptor.values_by_number[0].name
    if not zero.endswith(_UNSPECIFIED):
        raise ValueError(f"{descriptor.full_name}: the zero value must be <ENUM>_UNSPECIFIED")
    prefix = zero[: -len(_UNSPECIFIED)]
    names = {v.number: v.name[len(prefix) :].lower() for v in descriptor.values if v.number != 0}
    return {name: number for number, name in names.items()}, names


def enum_value(enum: _EnumTypeWrapper[V], name: str) -> V:
    """The number of a lower-case name ("de" -> MARKET_DE); 0 (unspecified) for "" or an
    unknown name, which the receiving service then refuses like any missing value."""
    return cast(V, _table(enum.DESCRIPTOR)[0].get(name, 0))


def enum_name(enum: Any, number: int) -> str:
    """The lower-case name of a number (MARKET_DE -> "de"); "" for 0 or a number this build
    does not know."""
    return _table(enum.DESCRIPTOR)[1].get(number, "")


def aware(value: datetime) -> datetime:
    """In UTC; a naive datetime is taken as UTC (SQLite hands them back; they are stored in UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timestamp(value: datetime | None) -> Timestamp | None:
    """A Timestamp of a datetime; None (the field stays unset) for None."""
    if value is None:
        return None
    message = Timestamp()
    message.FromDatetime(aware(value))
    return message


def timestamp_from_unix(seconds: float) -> Timestamp:
    whole = math.floor(seconds)
    return Timestamp(seconds=whole, nanos=round((seconds - whole) * 1_000_000_000))


def unix_from_timestamp(message: Timestamp) -> float:
    return message.seconds + message.nanos / 1_000_000_000


def to_datetime(message: Message, field: str) -> datetime | None:
    """The aware (UTC) datetime of a Timestamp field; None when it is unset."""
    if not message.HasField(field):
        return None
    ts: Timestamp = getattr(message, field)
    return ts.ToDatetime(tzinfo=UTC)


def iso(message: Message, field: str) -> str:
    """A Timestamp field as ISO 8601 in UTC ("2026-12-02T09:00:00.123456+00:00"); "" when unset."""
    value = to_datetime(message, field)
    return value.isoformat() if value is not None else ""


def parse_timestamp(text: str) -> Timestamp | None:
    """ISO 8601 text ("...Z", an offset, or naive for UTC) as a Timestamp; None for ""."""
    return timestamp(datetime.fromisoformat(text)) if text else None
