"""The HTTP contract as pydantic models, one module per resource (auth, customers, invoices,
packages, terminations, merges, admin, health, errors).

Request models (`Body`) validate JSON bodies strictly: no unknown field, no type coercion, and
the limits below; `gateway_app.api` turns a refusal into 422 invalid_input naming the field.
Answer models (`Answer`) are built from protobuf messages by their `from_proto` constructors:
the one place per resource where a proto becomes JSON. The OpenAPI document is generated from
both, so a documented shape and what is validated or answered cannot drift apart.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, get_args

from cc_common.errors import InvalidInput
from cc_common.protoconv import enum_name, iso
from cc_common.rules.customers import MAX_DIGITS
from cc_common.rules.customers import PATTERN as CUSTOMER_NUMBER_PATTERN
from cc_common.rules.domains import MAX_LENGTH as MAX_DOMAIN_LENGTH
from cc_common.rules.domains import normalise_domain
from cc_common.rules.ids import OPAQUE_ID
from cc_common.rules.products import CODES as PRODUCT_CODES
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

MAX_TEXT = 200
PASSWORD_MIN = 8
PASSWORD_MAX = 128
MAX_OPAQUE_ID = 100
MAX_DOMAINS = 100
MAX_AMOUNT_CENTS = 999_999_999
NO_NUL = "^[^\\u0000]*$"  # free text: anything but NUL (a proto string cannot hold a lone surrogate)


class Body(BaseModel):
    """A request body: strict types, no unknown field. `EXAMPLE` goes into the document."""

    model_config = ConfigDict(extra="forbid", strict=True)
    EXAMPLE: ClassVar[dict[str, Any]] = {}

    def given(self) -> dict[str, Any]:
        """The fields the client sent, without those it left out or sent as null."""
        return self.model_dump(exclude_none=True)


class Answer(BaseModel):
    """An answer body; views dump it, so what is answered is what is documented."""

    model_config = ConfigDict(extra="forbid")
    EXAMPLE: ClassVar[dict[str, Any]] = {}

    def json(self) -> dict[str, Any]:  # type: ignore[override]
        return self.model_dump(mode="json")

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> Any:
        """The answer of a proto message: each field from the message field of its name (an enum
        as its lower-case name, a Timestamp as ISO 8601 in UTC: cc_common.protoconv), an unset
        one as null where the field may be null or absent; `values` give the rest."""
        for name, kind, nullable, omitted_ in _plan(cls, message.DESCRIPTOR):
            if name in values:
                continue
            if kind == "time":
                value: Any = iso(message, name)
            elif kind is not None:
                value = enum_name(kind, getattr(message, name))
            else:
                value = getattr(message, name)
            if not value and (nullable or omitted_):
                if omitted_ and not nullable:
                    continue  # an omitted() field: left out
                value = None
            elif not isinstance(value, (str, int, float)):
                value = list(value)  # a repeated field
            values[name] = value
        return cls(**values)


class _Enum:
    """What cc_common.protoconv.enum_name takes: an object with the enum's DESCRIPTOR."""

    def __init__(self, descriptor: Any) -> None:
        self.DESCRIPTOR = descriptor


@functools.cache
def _plan(cls: type[Answer], descriptor: Any) -> tuple[tuple[str, Any, bool, bool], ...]:
    """(name, how to read it, may be null, may be absent) of each field of `cls` that the
    message type has; read as a Timestamp ("time"), an enum (its class) or as it is (None)."""
    plan = []
    for name, info in cls.model_fields.items():
        field = descriptor.fields_by_name.get(name)
        if field is None:
            continue
        if field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp":
            kind: Any = "time"
        else:
            kind = _Enum(field.enum_type) if field.enum_type is not None else None
        plan.append((name, kind, type(None) in get_args(info.annotation), info.default is None))
    return tuple(plan)


def omitted() -> Any:
    """An optional field that is absent, never null: a body may leave it out (null is refused
    unless its type allows it), an answer leaves it out where it has no value.
    The document shows no default for it (gateway_app/api.py)."""
    return Field(default=None, exclude_if=_is_none)


def _is_none(value: Any) -> bool:
    return value is None


def exactly_one_of(*groups: tuple[str, ...]) -> dict[str, Any]:
    """JSON schema: the fields of one group, all of them, and none of the others."""
    return {
        "oneOf": [
            {
                "required": list(group),
                "not": {"anyOf": [{"required": [n]} for g in groups if g != group for n in g]},
            }
            for group in groups
        ]
    }


def opt(value: str) -> str | None:
    """A proto string as JSON: an unset (empty) one is null."""
    return value or None


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _plain_text(value: str) -> str:
    if "\x00" in value:
        raise _fail("nul", "{field} must not contain NUL characters.")
    return value


def text(*, min_len: int = 0, max_len: int = MAX_TEXT, **schema: Any) -> Any:
    """A string of `min_len`..`max_len` characters without NUL."""
    return Annotated[
        str,
        Field(
            min_length=min_len or None, max_length=max_len, json_schema_extra={"pattern": NO_NUL, **schema}
        ),
        AfterValidator(_plain_text),
    ]


def _package_id(value: str) -> str:
    if not re.fullmatch(OPAQUE_ID, value):
        raise _fail("package_id", "Name the package by its id, e.g. pkg_3f2a9c.")
    return value


Password = text(min_len=1, max_len=PASSWORD_MAX, format="password")
NewPassword = text(min_len=PASSWORD_MIN, max_len=PASSWORD_MAX, format="password")
LinkToken = text(min_len=1, max_len=512)
OpaqueId = text(min_len=1, max_len=MAX_OPAQUE_ID)
# A package named in a body: the id's shape contract-service takes (cc_common/rules/ids.py).
PackageId = Annotated[
    str,
    AfterValidator(_package_id),
    WithJsonSchema({"type": "string", "pattern": f"^{OPAQUE_ID}$", "description": "e.g. pkg_3f2a9c"}),
]
Product = Literal[PRODUCT_CODES]  # cc_common/rules/products.py, the catalogue's codes


def matching(pattern: str, message: str, *, max_len: int = MAX_TEXT, **schema: Any) -> Any:
    """A string of at most `max_len` characters that `pattern` matches in full, checked here as
    the document says it (Python's re, the semantics schema-based clients generate with);
    `message` names the rule, with {field}."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _fail("pattern", message)
        return value

    return Annotated[
        str,
        Field(max_length=max_len, json_schema_extra={"pattern": f"^(?:{pattern})$", **schema}),
        AfterValidator(check),
    ]


def whole(minimum: int, maximum: int) -> Any:
    """A whole number from `minimum` to `maximum`. JSON Schema counts 3.0 as an integer, so it
    is taken as 3 (a fraction or true/false is refused)."""

    def check(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail("int_type", "{field} must be a whole number.")
        if not minimum <= value <= maximum:
            raise PydanticCustomError(
                "greater_than_equal", "{field} is out of range.", {"ge": minimum, "le": maximum}
            )
        return value

    return Annotated[
        int,
        PlainValidator(check),
        WithJsonSchema({"type": "integer", "minimum": minimum, "maximum": maximum}),
    ]


def _customer_number(value: str) -> str:
    if not re.fullmatch(CUSTOMER_NUMBER_PATTERN, value):
        raise _fail("customer_number", f"A customer number is 1 to {MAX_DIGITS} digits.")
    return value


CustomerNumber = Annotated[
    str,
    AfterValidator(_customer_number),
    WithJsonSchema({"type": "string", "pattern": CUSTOMER_NUMBER_PATTERN}),
]


def _domain(value: str) -> str:
    try:
        return normalise_domain(value)  # cc_common/rules/domains.py, the rule every service keeps
    except InvalidInput as error:
        raise _fail("domain", error.message.replace("{", "(").replace("}", ")")) from None


# The schema says the shape (labels without space or NUL, at least two; surrounding space and a
# final dot are dropped); the rest of the rule (IDNA, label length, no numeric TLD) is the format.
DOMAIN_PATTERN = "^\\s*[^\\s\\u0000.]+(\\.[^\\s\\u0000.]+)+\\.?\\s*$"
Domain = Annotated[
    str,
    AfterValidator(_domain),
    WithJsonSchema(
        {
            "type": "string",
            "format": "idn-hostname",
            "pattern": DOMAIN_PATTERN,
            "maxLength": MAX_DOMAIN_LENGTH + 1,
        }
    ),
]


def _amount_pattern() -> str:
    """An amount as a decimal string, exactly what _amount_cents takes: 1 to 10 digits (leading
    zeros allowed) and at most two decimals, more than 0 and below 10,000,000.00."""
    whole_part = "|".join(f"0{{0,{10 - n}}}[1-9][0-9]{{{n - 1}}}" for n in range(1, 8))
    return f"(?:{whole_part})(?:\\.[0-9]{{1,2}})?|0{{1,10}}\\.(?:0[1-9]|[1-9][0-9]?)"


AMOUNT_PATTERN = _amount_pattern()


def _amount_cents(value: Any) -> int:
    """A JSON number or a decimal string, > 0, at most two decimals -> cents."""
    bad = _fail("amount", "{field} must be a positive amount with at most two decimals.")
    if isinstance(value, bool):
        raise bad
    if isinstance(value, int):
        literal = str(value)
    elif isinstance(value, float) and math.isfinite(value):
        literal = repr(value)
    elif isinstance(value, str):
        literal = value
    else:
        raise bad
    if not re.fullmatch(AMOUNT_PATTERN, literal):
        raise bad
    cents = int(Decimal(literal) * 100)
    if cents <= 0:
        raise bad
    if cents > MAX_AMOUNT_CENTS:
        raise _fail("amount", "{field} must be below 10,000,000.00.")
    return cents


AmountCents = Annotated[
    int,
    PlainValidator(_amount_cents),
    WithJsonSchema(
        {
            "description": "A positive amount with at most two decimals, below 10,000,000.00 (cents are kept)",
            "oneOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999.99, "multipleOf": 0.01},
                {"type": "string", "pattern": f"^(?:{AMOUNT_PATTERN})$"},
            ],
        }
    ),
]
# Money in answers: a JSON number (12.5 for 1250 cents); cents stay integers in every service.
Money = Annotated[float, Field(json_schema_extra={"multipleOf": 0.01})]


def money(cents: int) -> float:
    return round(cents / 100, 2)


DateTime = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]
Date = Annotated[str | None, Field(json_schema_extra={"format": "date"})]


def choice(*options: str, aliases: dict[str, str] | None = None) -> Any:
    """One of `options`, in any case and with surrounding space; `aliases` maps other
    spellings to an option (the documented pattern says exactly that)."""
    known = {o: o for o in options} | dict(aliases or {})

    def convert(value: str) -> str:
        found = known.get(value.strip().lower())
        if found is None:
            raise _fail("choice", "{field} must be one of: " + ", ".join(options) + ".")
        return found

    return Annotated[
        str,
        AfterValidator(convert),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": choice_pattern(*options, aliases=aliases),
                "examples": list(options),
            }
        ),
    ]


def choice_pattern(*options: str, aliases: dict[str, str] | None = None) -> str:
    """The documented pattern of choice(*options, aliases=aliases): any of the spellings in any
    case, with surrounding space."""
    known = [*options, *(aliases or {})]
    spellings = "|".join(
        "".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in k) for k in known
    )
    return f"^\\s*({spellings})\\s*$"
