"""The HTTP contract as pydantic models, one module per resource (auth, customers, invoices,
packages, terminations, merges, billing, account, admin, health, errors), with the field types
they share in `fields`.

Request models (`Body`) validate JSON bodies strictly: no unknown field, no type coercion, and
the limits of their fields; `gateway_app.api` turns a refusal into 422 invalid_input naming the
field. Answer models (`Answer`) are built from protobuf messages by `Answer.from_proto`: the one
place where a proto becomes JSON. The OpenAPI document is generated from both, so a documented
shape and what is validated or answered cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, ClassVar, Literal, Self, get_args, get_origin

from cc_common.protoconv import enum_name, iso
from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

MAX_TEXT = 200
PASSWORD_MIN = 8
PASSWORD_MAX = 128
MAX_OPAQUE_ID = 100
MAX_DOMAINS = 100
# The document's example value of a field of this name (or of this format) wherever a model's
# EXAMPLE does not name one.
SAMPLES: dict[str, Any] = {
    "customer_number": "10001", "package_id": "pkg_3f2a9c", "product": "hosting-basic", "currency": "EUR",
    "invoice_number": "RE00000001", "iban_masked": "DE89 **** **** **** **30 00", "bic": "COBADEFFXXX",
    "first_name": "Max", "last_name": "Mustermann", "street": "Hauptstraße 1", "zip": "10115", "city": "Berlin",
    "country": "DE", "email": "max@example.com", "client_address": "192.0.2.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "password": "correct horse battery", "current_password": "correct horse battery",
    "new_password": "a new long password", "code": "123456",
    "date-time": "2026-03-01T09:00:00+00:00", "date": "2026-12-31",
}  # fmt: skip


class _Model(BaseModel):
    """`EXAMPLE` (in the document) names the values of fields that _sample would not give, and
    of the optional fields it shows; the class gets the whole example (a subclass its parent's)."""

    EXAMPLE: ClassVar[dict[str, Any]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        given = {**getattr(cls.__mro__[1], "EXAMPLE", {}), **cls.__dict__.get("EXAMPLE", {})}
        cls.EXAMPLE = {
            name: given[name] if name in given else _sample(name, info)
            for name, info in cls.model_fields.items()
            if name in given or info.is_required()
        }


class Body(_Model):
    """A request body: strict types, no unknown field."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def given(self) -> dict[str, Any]:
        """The fields the client sent, without those it left out or sent as null."""
        return self.model_dump(exclude_none=True)


class Answer(_Model):
    """An answer body; views dump it, so what is answered is what is documented."""

    model_config = ConfigDict(extra="forbid")

    def json(self) -> dict[str, Any]:  # type: ignore[override]
        return self.model_dump(mode="json")

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> Self:
        """The answer of a proto message: each field from the message field of its name (an enum
        as its lower-case name, a Timestamp as ISO 8601 in UTC: cc_common.protoconv; a message as
        the field's model, a map as a dict in key order), Money from <name>_cents, a model that
        the message has no field for from the message itself; an unset field as null where it
        may be null or absent; `values` give the rest."""
        for name, read, nullable, omitted_ in _plan(cls, message.DESCRIPTOR):
            if name in values:
                continue
            value = read(message)
            if not value and (nullable or omitted_):
                if omitted_ and not nullable:
                    continue  # an omitted() field: left out
                value = None
            values[name] = value
        return cls(**values)

    @classmethod
    def of(cls, message: Any) -> Self:
        return cls.from_proto(message)


def _model_of(kind: Any) -> Any:
    """The model of a field of type Model or list[Model], else None."""
    inner = get_args(kind)[0] if get_origin(kind) is list else kind
    return inner if isinstance(inner, type) and issubclass(inner, _Model) else None


def _sample(name: str, info: FieldInfo) -> Any:
    """A field's example: SAMPLES' by its name or format, its model's EXAMPLE, a Literal's first
    value, null where it may be null, else by its type."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    for key in (name, extra.get("format")):
        if key in SAMPLES:
            return SAMPLES[key]
    kind: Any = info.annotation
    model = _model_of(kind)
    if model is not None:
        return [model.EXAMPLE] if get_origin(kind) is list else model.EXAMPLE
    if get_origin(kind) is Literal:
        return get_args(kind)[0]
    if type(None) in get_args(kind):
        return None
    return {bool: False, int: 1, float: 4.99, str: name, list: [], dict: {}}[get_origin(kind) or kind]


@functools.cache
def _plan(cls: type[Answer], descriptor: Any) -> tuple[tuple[str, Any, bool, bool], ...]:
    """(name, how to read it from a message, may be null, may be absent) of each field of `cls`
    that the message type has."""
    plan = []
    for name, info in cls.model_fields.items():
        read = _reader(name, info.annotation, descriptor)
        if read is not None:
            plan.append((name, read, type(None) in get_args(info.annotation), info.default is None))
    return tuple(plan)


def _reader(name: str, kind: Any, descriptor: Any) -> Callable[[Any], Any] | None:
    field, model = descriptor.fields_by_name.get(name), _model_of(kind)
    if field is None and model is not None and get_origin(kind) is not list:
        return model.from_proto  # a model of some of the message's own fields
    if field is None:
        cents = descriptor.fields_by_name.get(f"{name}_cents")
        return None if cents is None else lambda message: money(getattr(message, cents.name))
    if field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp":
        return lambda message: iso(message, name)
    if get_origin(kind) is dict:
        return lambda message: dict(sorted(getattr(message, name).items()))
    if field.enum_type is not None:
        one: Callable[[Any], Any] = functools.partial(enum_name, SimpleNamespace(DESCRIPTOR=field.enum_type))
    else:
        one = model.from_proto if model is not None else (lambda value: value)
    if field.is_repeated:
        return lambda message: [one(v) for v in getattr(message, name)]
    return lambda message: one(getattr(message, name))


def money(cents: int) -> float:
    return round(cents / 100, 2)


def omitted() -> Any:
    """An optional field that is absent, never null: a body may leave it out (null is refused
    unless its type allows it), an answer leaves it out where it has no value.
    The document shows no default for it (gateway_app/api.py)."""
    return Field(default=None, exclude_if=lambda value: value is None)


def exactly_one_of(*groups: tuple[str, ...]) -> dict[str, Any]:
    """JSON schema: the fields of one group, all of them, and none of the others."""
    others = {group: [{"required": [n]} for g in groups if g != group for n in g] for group in groups}
    return {"oneOf": [{"required": list(group), "not": {"anyOf": others[group]}} for group in groups]}
