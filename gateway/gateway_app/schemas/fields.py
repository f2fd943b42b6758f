"""The field types the models share: free text, patterns, choices, whole numbers, amounts, ids,
customer numbers and domains in requests; markets, states, instants, days and money in answers."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from cc_common.errors import InvalidInput
from cc_common.rules import addresses
from cc_common.rules.customers import MAX_DIGITS
from cc_common.rules.customers import PATTERN as CUSTOMER_NUMBER_PATTERN
from cc_common.rules.domains import MAX_LENGTH as MAX_DOMAIN_LENGTH
from cc_common.rules.domains import normalise_domain
from cc_common.rules.ids import OPAQUE_ID
from cc_common.rules.markets import CURRENCIES, MARKETS
from cc_common.rules.products import CODES as PRODUCT_CODES
from pydantic import AfterValidator, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from gateway_app.schemas import MAX_OPAQUE_ID, MAX_TEXT, PASSWORD_MAX, PASSWORD_MIN

NO_NUL = "^[^\\u0000]*$"  # free text: anything but NUL (a proto string cannot hold a lone surrogate)


def _full_match(regex: str, kind: str, message: str) -> AfterValidator:
    """A check that `regex` matches a string in full, else the error `kind` with `message`."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError(kind, message)
        return value

    return AfterValidator(check)


def _documented(kind: type, check: Any, **schema: Any) -> Any:
    """`kind` checked by `check` (a validator), documented as `schema`."""
    return Annotated[kind, check, WithJsonSchema(schema)]


def text(*, min_len: int = 0, max_len: int = MAX_TEXT, **schema: Any) -> Any:
    """A string of `min_len`..`max_len` characters without NUL."""
    limits = Field(min_length=min_len or None, max_length=max_len, json_schema_extra={"pattern": NO_NUL, **schema})  # fmt: skip
    return Annotated[str, limits, _full_match("[^\\x00]*", "nul", "{field} must not contain NUL characters.")]  # fmt: skip


def matching(pattern: str, message: str, *, max_len: int = MAX_TEXT, **schema: Any) -> Any:
    """A string of at most `max_len` characters that `pattern` matches in full, checked here as
    the document says it (Python's re, the semantics schema-based clients generate with);
    `message` names the rule, with {field}."""
    limits = Field(max_length=max_len, json_schema_extra={"pattern": f"^(?:{pattern})$", **schema})
    return Annotated[str, limits, _full_match(pattern, "pattern", message)]


def whole(minimum: int, maximum: int) -> Any:
    """A whole number from `minimum` to `maximum`. JSON Schema counts 3.0 as an integer, so it
    is taken as 3 (a fraction or true/false is refused)."""

    def check(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError("int_type", "{field} must be a whole number.")
        if not minimum <= value <= maximum:
            raise PydanticCustomError("greater_than_equal", "{field} is out of range.", {"ge": minimum, "le": maximum})  # fmt: skip
        return value

    return _documented(int, PlainValidator(check), type="integer", minimum=minimum, maximum=maximum)


def choice(*options: str, aliases: dict[str, str] | None = None) -> Any:
    """One of `options`, in any case and with surrounding space; `aliases` maps other
    spellings to an option (the documented pattern says exactly that)."""
    known = {o: o for o in options} | dict(aliases or {})

    def convert(value: str) -> str:
        if value.strip().lower() not in known:
            raise PydanticCustomError("choice", "{field} must be one of: " + ", ".join(options) + ".")
        return known[value.strip().lower()]

    pattern = choice_pattern(*options, aliases=aliases)
    return _documented(str, AfterValidator(convert), type="string", pattern=pattern, examples=list(options))


def choice_pattern(*options: str, aliases: dict[str, str] | None = None) -> str:
    """The documented pattern of choice(*options, aliases=aliases): any of the spellings in any
    case, with surrounding space."""
    spellings = (*options, *(aliases or {}))
    spelt = ("".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in k) for k in spellings)
    return f"^\\s*({'|'.join(spelt)})\\s*$"


def _domain(value: str) -> str:
    try:
        return normalise_domain(value)  # cc_common/rules/domains.py, the rule every service keeps
    except InvalidInput as error:
        raise PydanticCustomError("domain", error.message.replace("{", "(").replace("}", ")")) from None


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
        raise PydanticCustomError("amount", "{field} must be a positive amount with at most two decimals.")
    return int(Decimal(literal) * 100)


Password = text(min_len=1, max_len=PASSWORD_MAX, format="password")
NewPassword = text(min_len=PASSWORD_MIN, max_len=PASSWORD_MAX, format="password")
LinkToken = text(min_len=1, max_len=512)
OpaqueId = text(min_len=1, max_len=MAX_OPAQUE_ID)
# A package named in a body: the id's shape contract-service takes (cc_common/rules/ids.py).
PackageId = _documented(
    str, _full_match(OPAQUE_ID, "package_id", "Name the package by its id, e.g. pkg_3f2a9c."),
    type="string", pattern=f"^{OPAQUE_ID}$", description="e.g. pkg_3f2a9c",
)  # fmt: skip
CustomerNumber = _documented(
    str, _full_match(CUSTOMER_NUMBER_PATTERN, "customer_number", f"A customer number is 1 to {MAX_DIGITS} digits."),
    type="string", pattern=CUSTOMER_NUMBER_PATTERN,
)  # fmt: skip
# The schema says the shape (labels without space or NUL, at least two; surrounding space and a
# final dot are dropped); the rest of the rule (IDNA, label length, no numeric TLD) is the format.
DOMAIN_PATTERN = "^\\s*[^\\s\\u0000.]+(\\.[^\\s\\u0000.]+)+\\.?\\s*$"
Domain = _documented(
    str, AfterValidator(_domain),
    type="string", format="idn-hostname", pattern=DOMAIN_PATTERN, maxLength=MAX_DOMAIN_LENGTH + 1,
)  # fmt: skip
AmountCents = _documented(
    int, PlainValidator(_amount_cents),
    description="A positive amount with at most two decimals, below 10,000,000.00 (cents are kept)",
    oneOf=[
        {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999.99, "multipleOf": 0.01},
        {"type": "string", "pattern": f"^(?:{AMOUNT_PATTERN})$"},
    ],
)  # fmt: skip
Product = Literal[PRODUCT_CODES]  # cc_common/rules/products.py, the catalogue's codes
MARKET_ALIASES = {"gb": "uk"}
Market = choice(*MARKETS, aliases=MARKET_ALIASES)  # cc_common/rules/markets.py
Currency = choice(*(code.lower() for code in CURRENCIES))  # in any case; passed on in capitals

# Master data in the shapes contract-service takes (contract_service/domain/model.py,
# normalise_master_data): a line of text has no control characters (no line break); street,
# city and a last name or company are not blank; the city has at most 100 characters.
_LINE = "[^\\u0000-\\u001f\\u007f-\\u009f]*"
FILLED_LINE = f"{_LINE}[^\\s\\u0000-\\u001f\\u007f-\\u009f]{_LINE}"
_FILL = "Please enter {field}, on one line without control characters."
TextLine = matching(_LINE, "{field} must be one line without control characters.")
FilledLine = matching(FILLED_LINE, _FILL)
City = matching(FILLED_LINE, _FILL, max_len=100)
Country = matching(
    addresses.COUNTRY, "Enter the country as a two-letter ISO code, e.g. DE, NL or GB.",
    description="ISO 3166-1 alpha-2 (any case), e.g. DE, NL or GB",
)  # fmt: skip
Postcode = matching(
    addresses.POSTCODE, "This postcode has an unexpected shape; it has letters, digits, spaces or dashes.",
    description="Letters, digits, spaces and dashes; in the country's shape where it has one: DE 10115, "
    "NL 1234 AB, GB SW1A 1AA",
)  # fmt: skip
# A phone number the phonenumbers library takes as valid, with its country prefix (+49 30 1234567)
# or without one in the customer's market; contract-service checks it (422, with the field).
Phone = text(format="phone")
# An e-mail address as email-validator takes it (contract-service checks it: 422, field email).
Email = text(max_len=254, format="email")
# Payment data in the shapes contract-service takes (contract_service/domain/model.py); an IBAN
# and a BIC also by their formats: an IBAN's check digits (ISO 13616), a BIC's country (ISO 9362).
# A card_expiry in the past is 409 card_expired (the document cannot know today).
Iban = matching(
    "\\s*[A-Za-z]{2}[0-9]{2}(?:\\s*[A-Za-z0-9]){11,30}\\s*",
    "This is not a valid IBAN; it looks like DE89 3704 0044 0532 0130 00.", max_len=64, format="iban",
)  # fmt: skip
Bic = matching(
    "\\s*[A-Za-z]{6}[A-Za-z0-9]{2}(?:[A-Za-z0-9]{3})?\\s*",
    "This is not a valid BIC; it has 8 or 11 characters, e.g. COBADEFFXXX.", max_len=64, format="bic",
)  # fmt: skip
CardToken = matching("\\s*[A-Za-z0-9_.:-]{4,64}\\s*", "This is not a card token from the payment provider.", max_len=64)  # fmt: skip
CardLast4 = matching("\\s*[0-9]{4}\\s*", "Enter the last four digits of the card.", max_len=64)
CardExpiry = matching(
    " *(?:0 *[1-9]|1 *[0-2]) */ *[0-9] *[0-9] *", "Enter the card's expiry date as MM/YY, e.g. 09/28.", max_len=64
)  # fmt: skip

# In answers: a market, the kind of a token, a package's or a contract's state, instants and days
# (null where unset), money as a JSON number (12.5 for 1250 cents; cents stay integers in every
# service).
MarketName = Literal[MARKETS]
TokenKind = Literal["customer", "package", "staff"]
ActiveOrTerminated = Literal["active", "terminated"]
DateTime = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]
Date = Annotated[str | None, Field(json_schema_extra={"format": "date"})]
Money = Annotated[float, Field(json_schema_extra={"multipleOf": 0.01})]
