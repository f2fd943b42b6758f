"""Customers, payment data and invoices: plain classes and rules, no SQLAlchemy, no gRPC.

Every check raises `InvalidInput` with the name of the field at fault and a message a person
can act on. The same functions serve staff's CreateCustomer now and the customer's own
changes (PATCH /customer, PUT /customer/payment) later.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, fields, replace
from datetime import date, datetime

import phonenumbers
from cc_common.errors import InvalidInput
from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

# --- markets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    code: str
    country: str  # default country of an address (ISO 3166-1 alpha-2)
    phone_region: str  # default region for phone numbers without a country prefix
    currency: str  # default invoice currency


MARKETS: dict[str, Market] = {
    "de": Market("de", country="DE", phone_region="DE", currency="EUR"),
    "nl": Market("nl", country="NL", phone_region="NL", currency="EUR"),
    "uk": Market("uk", country="GB", phone_region="GB", currency="GBP"),
}

CUSTOMER_STATUSES = ("active", "frozen", "retired")
CURRENCIES = ("EUR", "GBP")
INVOICE_STATUSES = ("open", "paid")
MAX_AMOUNT_CENTS = 10**9  # exclusive

# The fields a customer's master data consists of, in the order they are checked.
MASTER_DATA_FIELDS = (
    "company", "first_name", "last_name", "street", "zip", "city", "country",
    "phone", "mobile", "fax", "email",
)  # fmt: skip
# The identity fields: changing them hands the contract over, which needs a signed form.
IDENTITY_FIELDS = ("company", "first_name", "last_name")

_MAX_LENGTH = {"company": 200, "first_name": 200, "last_name": 200, "street": 200, "city": 100}
_LABELS = {
    "company": "company",
    "first_name": "first name",
    "last_name": "last name",
    "street": "street and house number",
    "zip": "postcode",
    "city": "city",
    "country": "country",
    "phone": "phone number",
    "mobile": "mobile number",
    "fax": "fax number",
    "email": "e-mail address",
}


def check_market(raw: str) -> Market:
    market = MARKETS.get((raw or "").strip().lower())
    if market is None:
        raise InvalidInput(f"Choose a market: one of {', '.join(MARKETS)}.", field="market")
    return market


# --- master data -------------------------------------------------------------------------


def clean_text(value: str, *, field_name: str) -> str:
    """Surrounding space removed, inner runs of space collapsed, Unicode NFC, no control
    characters, at most the field's length."""
    text = unicodedata.normalize("NFC", value or "")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidInput(
            f"The {_LABELS.get(field_name, field_name)} contains a control character (e.g. a line break).",
            field=field_name,
        )
    text = " ".join(text.split())
    limit = _MAX_LENGTH.get(field_name, 200)
    if len(text) > limit:
        raise InvalidInput(
            f"The {_LABELS.get(field_name, field_name)} may have at most {limit} characters.",
            field=field_name,
        )
    return text


_DE_ZIP = re.compile(r"^[0-9]{5}$")
_NL_ZIP = re.compile(r"^([1-9][0-9]{3}) ?([A-Z]{2})$")
_UK_POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$")
_OTHER_ZIP = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,10}$")


def normalise_zip(raw: str, *, country: str) -> str:
    """A postcode in the shape of the address's country: DE 5 digits, NL "1234 AB", GB a UK
    postcode with its single space. Other countries: letters, digits, space and dash."""
    text = " ".join((raw or "").split()).upper()
    if not text:
        raise InvalidInput("Please enter the postcode.", field="zip")
    if country == "DE":
        if not _DE_ZIP.match(text):
            raise InvalidInput("A German postcode has five digits, e.g. 10115.", field="zip")
        return text
    if country == "NL":
        match = _NL_ZIP.match(text)
        if not match:
            raise InvalidInput("A Dutch postcode has four digits and two letters, e.g. 1234 AB.", field="zip")
        return f"{match.group(1)} {match.group(2)}"
    if country == "GB":
        compact = text.replace(" ", "")
        if not _UK_POSTCODE.match(compact):
            raise InvalidInput("This is not a UK postcode; it looks like SW1A 1AA.", field="zip")
        return f"{compact[:-3]} {compact[-3:]}"
    if not _OTHER_ZIP.match(text):
        raise InvalidInput("This postcode has an unexpected shape.", field="zip")
    return text


def normalise_country(raw: str, *, market: Market) -> str:
    code = (raw or "").strip().upper()
    if not code:
        return market.country
    # phonenumbers knows every geographic ISO 3166-1 alpha-2 region.
    if not re.fullmatch(r"[A-Z]{2}", code) or code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput("Enter the country as a two-letter ISO code, e.g. DE, NL or GB.", field="country")
    return code


def normalise_phone(raw: str, *, market: Market, field_name: str = "phone") -> str:
    """A phone number in E.164 form; numbers without a country prefix are read in the
    market's region. Empty stays empty (phone, mobile and fax are optional)."""
    text = (raw or "").strip()
    if not text:
        return ""
    label = _LABELS.get(field_name, field_name)
    try:
        number = phonenumbers.parse(text, market.phone_region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"This {label} cannot be read; e.g. +49 30 1234567.", field=field_name) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            f"This {label} is not valid; please check it and include the country code, e.g. +44.",
            field=field_name,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("Please enter an e-mail address.", field="email")
    if len(text) > 254:
        raise InvalidInput("An e-mail address has at most 254 characters.", field="email")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"This e-mail address is not valid: {exc}", field="email") from None


def normalise_master_data(market: Market, data: dict[str, str]) -> dict[str, str]:
    """Checks and normalises a complete set of master data for a market.

    `data` maps the names of MASTER_DATA_FIELDS to raw input (missing keys count as empty).
    For a partial change, merge the change into the stored record and check the result.
    Required: street, zip, city, email, and a last name or a company.
    """
    out = {name: clean_text(data.get(name, ""), field_name=name) for name in _MAX_LENGTH}
    if not out["last_name"] and not out["company"]:
        raise InvalidInput("Please enter a last name (or a company).", field="last_name")
    for name in ("street", "city"):
        if not out[name]:
            raise InvalidInput(f"Please enter the {_LABELS[name]}.", field=name)
    out["country"] = normalise_country(data.get("country", ""), market=market)
    out["zip"] = normalise_zip(data.get("zip", ""), country=out["country"])
    for name in ("phone", "mobile", "fax"):
        out[name] = normalise_phone(data.get(name, ""), market=market, field_name=name)
    out["email"] = normalise_email(data.get("email", ""))
    return {name: out[name] for name in MASTER_DATA_FIELDS}


# --- customer numbers ----------------------------------------------------------------------


def new_customer_number() -> str:
    """Eight random digits, the first not zero."""
    return str(10_000_000 + secrets.randbelow(90_000_000))


class CustomerTaken(Exception):
    """A customer number was stored by a concurrent call between the check and the insert."""


def check_customer_number(raw: str, *, field_name: str = "customer_number") -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("Please name the customer number.", field=field_name)
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        raise InvalidInput("A customer number consists of 1 to 20 digits.", field=field_name)
    return text


# --- payment data --------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentInput:
    """Payment data as entered; all empty means "none"."""

    iban: str = ""
    bic: str = ""
    card_token: str = ""
    card_last4: str = ""
    card_expiry: str = ""

    def is_empty(self) -> bool:
        return not any((getattr(self, f.name) or "").strip() for f in fields(self))


@dataclass(frozen=True)
class Payment:
    """Payment data as stored: SEPA (iban, bic) or card (token, last4, expiry)."""

    method: str  # "sepa" or "card"
    iban: str = ""
    bic: str = ""
    card_token: str = ""
    card_last4: str = ""
    card_expiry: str = ""

    @property
    def iban_masked(self) -> str:
        return mask_iban(self.iban)

    def __repr__(self) -> str:  # never put the token or the IBAN in a log line
        return (
            f"Payment(method={self.method!r}, iban={mask_iban(self.iban)!r}, card_last4={self.card_last4!r})"
        )


def mask_iban(iban: str) -> str:
    """Country and check digits and the last four characters visible, in groups of four:
    DE89370400440532013000 -> "DE89 **** **** **** **30 00"."""
    compact = (iban or "").replace(" ", "").upper()
    if not compact:
        return ""
    if len(compact) <= 8:
        masked = compact[:4] + "*" * (len(compact) - 4)
    else:
        masked = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


_CARD_CHARS = re.compile(r"^[0-9 -]+$")
_DIGIT_RUN = re.compile(r"[0-9](?:[ -]?[0-9])+")
_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{4,200}$")
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/([0-9]{2})$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def looks_like_card_number(value: str) -> bool:
    """True for 12-19 digits (spaces or dashes between them allowed), and for any run of
    12-19 digits inside the value that passes the Luhn check (a card number in a token)."""
    text = value.strip()
    if _CARD_CHARS.match(text):
        digits = re.sub(r"[ -]", "", text)
        if 12 <= len(digits) <= 19 or (len(digits) >= 8 and luhn_valid(digits)):
            return True
    for run in _DIGIT_RUN.findall(text):
        digits = re.sub(r"[ -]", "", run)
        if 12 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def check_card_expiry(raw: str, *, today: date) -> str:
    text = (raw or "").replace(" ", "")
    match = _EXPIRY.match(text)
    if not match:
        raise InvalidInput("Enter the card's expiry date as MM/YY, e.g. 09/28.", field="card_expiry")
    month, year = int(match.group(1)), 2000 + int(match.group(2))
    if (year, month) < (today.year, today.month):
        raise InvalidInput("This card has expired.", field="card_expiry")
    return text


def check_payment(data: PaymentInput, *, today: date) -> Payment | None:
    """Validates payment data as entered. Exactly one method: SEPA (iban, bic: the BIC may
    be left empty when it can be derived from the IBAN) or card (token, last4, expiry).
    All empty: None. The card token is checked first so a card number is never echoed."""
    if data.is_empty():
        return None
    iban_given = bool(data.iban.strip() or data.bic.strip())
    card_given = bool(data.card_token.strip() or data.card_last4.strip() or data.card_expiry.strip())
    if data.card_token.strip() and looks_like_card_number(data.card_token):
        raise InvalidInput(
            "Card numbers are not accepted here; enter the token from the payment provider.",
            code="card_number_refused",
            field="card_token",
        )
    if iban_given and card_given:
        raise InvalidInput("Give either a bank account (IBAN and BIC) or a card, not both.", field="payment")
    if iban_given:
        return _check_sepa(data)
    return _check_card(data, today=today)


def _check_sepa(data: PaymentInput) -> Payment:
    raw_iban = "".join(data.iban.split()).upper()
    if not raw_iban:
        raise InvalidInput("Please enter the IBAN of your bank account.", field="iban")
    try:
        iban = IBAN(raw_iban)
    except InvalidChecksumDigits:
        raise InvalidInput(
            "The IBAN's check digits do not match; please check it for a typo.", field="iban"
        ) from None
    except SchwiftyException:
        raise InvalidInput(
            "This is not a valid IBAN; it looks like DE89 3704 0044 0532 0130 00.", field="iban"
        ) from None
    raw_bic = "".join(data.bic.split()).upper()
    if raw_bic:
        try:
            bic = BIC(raw_bic).compact
        except SchwiftyException:
            raise InvalidInput(
                "This is not a valid BIC; it has 8 or 11 characters, e.g. COBADEFFXXX.", field="bic"
            ) from None
    else:
        derived = iban.bic
        if derived is None:
            raise InvalidInput("Please enter the BIC of your bank.", field="bic")
        bic = derived.compact
    return Payment(method="sepa", iban=iban.compact, bic=bic)


def _check_card(data: PaymentInput, *, today: date) -> Payment:
    token = data.card_token.strip()
    if not token:
        raise InvalidInput("Please give the card token from the payment provider.", field="card_token")
    if not _TOKEN.match(token):
        raise InvalidInput("This is not a card token from the payment provider.", field="card_token")
    last4 = data.card_last4.strip()
    if not re.fullmatch(r"[0-9]{4}", last4):
        raise InvalidInput("Enter the last four digits of the card.", field="card_last4")
    expiry = check_card_expiry(data.card_expiry, today=today)
    return Payment(method="card", card_token=token, card_last4=last4, card_expiry=expiry)


# --- customers -----------------------------------------------------------------------------


@dataclass
class Customer:
    customer_number: str
    market: str
    company: str = ""
    first_name: str = ""
    last_name: str = ""
    street: str = ""
    zip: str = ""
    city: str = ""
    country: str = ""
    phone: str = ""
    mobile: str = ""
    fax: str = ""
    email: str = ""
    status: str = "active"
    payment: Payment | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def master_data(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in MASTER_DATA_FIELDS}

    def with_master_data(self, data: dict[str, str]) -> Customer:
        return replace(self, **{name: data[name] for name in MASTER_DATA_FIELDS})


# --- invoices ------------------------------------------------------------------------------


def invoice_number(seq: int) -> str:
    return f"RE{seq:08d}"


def check_amount(amount_cents: int) -> int:
    if not 0 < amount_cents < MAX_AMOUNT_CENTS:
        raise InvalidInput(
            "The amount must be more than 0 and less than 10,000,000.00.", field="amount_cents"
        )
    return amount_cents


def check_currency(raw: str, *, market: Market) -> str:
    code = (raw or "").strip().upper() or market.currency
    if code not in CURRENCIES:
        raise InvalidInput(f"Choose a currency: one of {', '.join(CURRENCIES)}.", field="currency")
    return code


def check_invoice_status(raw: str) -> str:
    status = (raw or "").strip().lower() or "open"
    if status not in INVOICE_STATUSES:
        raise InvalidInput(f"An invoice is {' or '.join(INVOICE_STATUSES)}.", field="status")
    return status


def check_invoice_date(raw: str, *, today: date) -> date:
    text = (raw or "").strip()
    if not text:
        return today
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput("Enter the invoice date as YYYY-MM-DD, e.g. 2026-01-31.", field="date")


@dataclass
class Invoice:
    number: str
    customer_number: str
    date: date
    amount_cents: int
    currency: str
    status: str = "open"
    seq: int = 0
    created_at: datetime | None = None
