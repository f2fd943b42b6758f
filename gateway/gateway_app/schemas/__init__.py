"""The HTTP contract as pydantic models, one module per resource (auth, customers, invoices,
packages, terminations, merges, billing, account, admin, health, errors).

Request models (`Body`) validate JSON bodies strictly: no unknown field, no type coercion, and
the limits below; `gateway_app.api` turns a refusal into 422 invalid_input naming the field.
Answer models (`Answer`) are built from protobuf messages by `Answer.from_proto`: the one place
where a proto becomes JSON. The OpenAPI document is generated from both, so a documented shape
and what is validated or answered cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from cc_common.errors import InvalidInput
from cc_common.protoconv import enum_name, iso
from cc_common.rules.customers import MAX_DIGITS
from cc_common.rules.customers import PATTERN as CUSTOMER_NUMBER_PATTERN
from cc_common.rules.domains import MAX_LENGTH as MAX_DOMAIN_LENGTH
from cc_common.rules.domains import normalise_domain
from cc_common.rules.ids import OPAQUE_ID
from cc_common.rules.markets import CURRENCIES, MARKETS
from cc_common.rules.products import CODES as PRODUCT_CODES
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

MAX_TEXT = 200
PASSWORD_MIN = 8
PASSWORD_MAX = 128
MAX_OPAQUE_ID = 100
MAX_DOMAINS = 100
NO_NUL = "^[^\\u0000]*$"  # free text: anything but NUL (a proto string cannot hold a lone surrogate)
# The document's example value of an answer field of this name, or of this format.
SAMPLES: dict[str, Any] = {
    "customer_number": "10001", "package_id": "pkg_3f2a9c", "product": "hosting-basic", "currency": "EUR",
    "invoice_number": "RE00000001", "client_address": "192.0.2.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "iban_masked": "DE89 **** **** **** **30 00", "date-time": "2026-03-01T09:00:00+00:00", "date": "2026-12-31",
}  # fmt: skip


class Body(BaseModel):
    """A request body: strict types, no unknown field. `EXAMPLE` goes into the document."""

    model_config = ConfigDict(extra="forbid", strict=True)
    EXAMPLE: ClassVar[dict[str, Any]] = {}

    def given(self) -> dict[str, Any]:
        """The fields the client sent, without those it left out or sent as null."""
        return self.model_dump(exclude_none=True)


class Answer(BaseModel):
    """An answer body; views dump it, so what is answered is what is documented. `EXAMPLE` (in
    the document) names the values of its fields that _sample would not give; the class gets
    the whole example."""

    model_config = ConfigDict(extra="forbid")
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

    def json(self) -> dict[str, Any]:  # type: ignore[override]
        return self.model_dump(mode="json")

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> Any:
        """The answer of a proto message: each field from the message field of its name (an enum
        as its lower-case name, a Timestamp as ISO 8601 in UTC: cc_common.protoconv; a message
        as the field's model, a map as a dict in key order, Money from <name>_cents), an unset
        one as null where the field may be null or absent; `values` give the rest."""
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
    def of(cls, message: Any) -> Any:
        return cls.from_proto(message)


def _model_of(kind: Any) -> Any:
    """The Answer model of a field of type Model or list[Model], else None."""
    inner = get_args(kind)[0] if get_origin(kind) is list else kind
    return inner if isinstance(inner, type) and issubclass(inner, Answer) else None


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
    field = descriptor.fields_by_name.get(name)
    if field is None:
        cents = descriptor.fields_by_name.get(f"{name}_cents")
        return None if cents is None else lambda message: money(getattr(message, cents.name))
    if field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp":
        return lambda message: iso(message, name)
    if get_origin(kind) is dict:
        return lambda message: dict(sorted(getattr(message, name).items()))
    model = _model_of(kind)
    if field.enum_type is not None:
        one: Callable[[Any], Any] = functools.partial(enum_name, SimpleNamespace(DESCRIPTOR=field.enum_type))
    else:
        one = model.from_proto if model is not None else _same
    if field.is_repeated:
        return lambda message: [one(v) for v in getattr(message, name)]
    return lambda message: one(getattr(message, name))


def _same(value: Any) -> Any:
    return value


def omitted() -> Any:
    """An optional field that is absent, never null: a body may leave it out (null is refused
    unless its type allows it), an answer leaves it out where it has no value.
    The document shows no default for it (gateway_app/api.py)."""
    return Field(default=None, exclude_if=lambda value: value is None)


def exactly_one_of(*groups: tuple[str, ...]) -> dict[str, Any]:
    """JSON schema: the fields of one group, all of them, and none of the others."""
    others = {group: [{"required": [n]} for g in groups if g != group for n in g] for group in groups}
    return {"oneOf": [{"required": list(group), "not": {"anyOf": others[group]}} for group in groups]}


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _full_match(pattern: str, kind: str, message: str) -> AfterValidator:
    """A check that `pattern` matches a string in full, else the error `kind` with `message`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _fail(kind, message)
        return value

    return AfterValidator(check)


def shaped(regex: str, kind: str, message: str, /, **schema: Any) -> Any:
    """A string that `regex` matches in full (else `message`), documented as `schema`."""
    return Annotated[str, _full_match(regex, kind, message), WithJsonSchema({"type": "string", **schema})]


def text(*, min_len: int = 0, max_len: int = MAX_TEXT, **schema: Any) -> Any:
    """A string of `min_len`..`max_len` characters without NUL."""
    limits = Field(
        min_length=min_len or None, max_length=max_len, json_schema_extra={"pattern": NO_NUL, **schema}
    )
    return Annotated[str, limits, _full_match("[^\\x00]*", "nul", "{field} must not contain NUL characters.")]


def matching(pattern: str, message: str, *, max_len: int = MAX_TEXT, **schema: Any) -> Any:
    """A string of at most `max_len` characters that `pattern` matches in full, checked here as
    the document says it (Python's re, the semantics schema-based clients generate with);
    `message` names the rule, with {field}."""
    limits = Field(max_length=max_len, json_schema_extra={"pattern": f"^(?:{pattern})$", **schema})
    return Annotated[str, limits, _full_match(pattern, "pattern", message)]


def whole(minimum: int, maximum: int) -> Any:
    """A whole number from `minimum` to `maximum`. JSON Schema counts 3.0 as an integer, so it
    is taken as 3 (a fraction or true/false is refused)."""
    limits = {"ge": minimum, "le": maximum}

    def check(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail("int_type", "{field} must be a whole number.")
        if not minimum <= value <= maximum:
            raise PydanticCustomError("greater_than_equal", "{field} is out of range.", limits)
        return value

    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return Annotated[int, PlainValidator(check), WithJsonSchema(schema)]


def choice(*options: str, aliases: dict[str, str] | None = None) -> Any:
    """One of `options`, in any case and with surrounding space; `aliases` maps other
    spellings to an option (the documented pattern says exactly that)."""
    known = {o: o for o in options} | dict(aliases or {})

    def convert(value: str) -> str:
        found = known.get(value.strip().lower())
        if found is None:
            raise _fail("choice", "{field} must be one of: " + ", ".join(options) + ".")
        return found

    schema = {
        "type": "string",
        "pattern": choice_pattern(*options, aliases=aliases),
        "examples": list(options),
    }
    return Annotated[str, AfterValidator(convert), WithJsonSchema(schema)]


def choice_pattern(*options: str, aliases: dict[str, str] | None = None) -> str:
    """The documented pattern of choice(*options, aliases=aliases): any of the spellings in any
    case, with surrounding space."""
    spelt = [
        "".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in k)
        for k in (*options, *(aliases or {}))
    ]
    return f"^\\s*({'|'.join(spelt)})\\s*$"


def _domain(value: str) -> str:
    try:
        return normalise_domain(value)  # cc_common/rules/domains.py, the rule every service keeps
    except InvalidInput as error:
        raise _fail("domain", error.message.replace("{", "(").replace("}", ")")) from None


# An amount as a decimal string: 1 to 10 digits (leading zeros allowed) and at most two decimals,
# more than 0 and below 10,000,000.00.
AMOUNT_PATTERN = (
    "(?:" + "|".join(f"0{{0,{10 - n}}}[1-9][0-9]{{{n - 1}}}" for n in range(1, 8)) + ")(?:\\.[0-9]{1,2})?"
    "|0{1,10}\\.(?:0[1-9]|[1-9][0-9]?)"
)


def _amount_cents(value: Any) -> int:
    """A JSON number or a decimal string that AMOUNT_PATTERN matches -> cents."""
    literal = repr(value) if isinstance(value, float) else str(value) if type(value) is int else value
    if not isinstance(literal, str) or not re.fullmatch(AMOUNT_PATTERN, literal):
        raise _fail("amount", "{field} must be a positive amount with at most two decimals.")
    return int(Decimal(literal) * 100)


def money(cents: int) -> float:
    return round(cents / 100, 2)


# --- fields of several models -----------------------------------------------------------------

Password = text(min_len=1, max_len=PASSWORD_MAX, format="password")
NewPassword = text(min_len=PASSWORD_MIN, max_len=PASSWORD_MAX, format="password")
LinkToken = text(min_len=1, max_len=512)
OpaqueId = text(min_len=1, max_len=MAX_OPAQUE_ID)
# A package named in a body: the id's shape contract-service takes (cc_common/rules/ids.py).
PackageId = shaped(
    OPAQUE_ID, "package_id", "Name the package by its id, e.g. pkg_3f2a9c.",
    pattern=f"^{OPAQUE_ID}$", description="e.g. pkg_3f2a9c",
)  # fmt: skip
CustomerNumber = shaped(
    CUSTOMER_NUMBER_PATTERN, "customer_number", f"A customer number is 1 to {MAX_DIGITS} digits.",
    pattern=CUSTOMER_NUMBER_PATTERN,
)  # fmt: skip
# The schema says the shape (labels without space or NUL, at least two; surrounding space and a
# final dot are dropped); the rest of the rule (IDNA, label length, no numeric TLD) is the format.
DOMAIN_PATTERN = "^\\s*[^\\s\\u0000.]+(\\.[^\\s\\u0000.]+)+\\.?\\s*$"
_DOMAIN = {
    "type": "string",
    "format": "idn-hostname",
    "pattern": DOMAIN_PATTERN,
    "maxLength": MAX_DOMAIN_LENGTH + 1,
}
Domain = Annotated[str, AfterValidator(_domain), WithJsonSchema(_DOMAIN)]
Product = Literal[PRODUCT_CODES]  # cc_common/rules/products.py, the catalogue's codes
MARKET_ALIASES = {"gb": "uk"}
Market = choice(*MARKETS, aliases=MARKET_ALIASES)  # cc_common/rules/markets.py
Currency = choice(*(code.lower() for code in CURRENCIES))  # in any case; passed on in capitals
_AMOUNT = {
    "description": "A positive amount with at most two decimals, below 10,000,000.00 (cents are kept)",
    "oneOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999.99, "multipleOf": 0.01},
        {"type": "string", "pattern": f"^(?:{AMOUNT_PATTERN})$"},
    ],
}
AmountCents = Annotated[int, PlainValidator(_amount_cents), WithJsonSchema(_AMOUNT)]

# In answers: a market, the kind of a token, a package's or a contract's state, instants and days
# (null where unset), money as a JSON number (12.5 for 1250 cents; cents stay integers in every
# service).
MarketName = Literal[MARKETS]
TokenKind = Literal["customer", "package", "staff"]
ActiveOrTerminated = Literal["active", "terminated"]
DateTime = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]
Date = Annotated[str | None, Field(json_schema_extra={"format": "date"})]
Money = Annotated[float, Field(json_schema_extra={"multipleOf": 0.01})]
