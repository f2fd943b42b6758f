"""Customers, payment data and invoices: plain classes and rules, no SQLAlchemy, no gRPC.

Every check raises `InvalidInput` with the name of the field at fault and a message a person
can act on. The same functions serve staff's CreateCustomer now and the customer's own
changes (PATCH /customer, PUT /customer/payment) later.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from calendar import monthrange
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

import phonenumbers
from cc_common import i18n
from cc_common.errors import Conflict, InvalidInput
from cc_common.rules import ids, markets
from cc_common.rules.cards import field_with_card_number
from cc_common.rules.customers import check_customer_number
from cc_common.rules.written_only import refuse_written_only
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
    vat_percent: int = 0  # the standard VAT rate on invoices (amounts are gross)


# The currencies are shared with the gateway, which documents them (cc_common/rules/markets.py).
MARKETS: dict[str, Market] = {
    "de": Market("de", country="DE", phone_region="DE", currency=markets.CURRENCY_OF["de"], vat_percent=19),
    "nl": Market("nl", country="NL", phone_region="NL", currency=markets.CURRENCY_OF["nl"], vat_percent=21),
    "uk": Market("uk", country="GB", phone_region="GB", currency=markets.CURRENCY_OF["uk"], vat_percent=20),
}

CUSTOMER_STATUSES = ("active", "frozen", "retired")
CURRENCIES = markets.CURRENCIES
# The statuses an invoice is created with; it can also be debit_requested (domain/direct_debit.py).
INVOICE_STATUSES = ("open", "paid")
MAX_AMOUNT_CENTS = 10**9  # exclusive

# The fields a customer's master data consists of, in the order they are checked.
MASTER_DATA_FIELDS = (
    "company", "first_name", "last_name", "street", "zip", "city", "country",
    "phone", "mobile", "fax", "email",
)  # fmt: skip

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


_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{4,200}$")
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/([0-9]{2})$")


def check_card_expiry(raw: str, *, today: date) -> str:
    text = (raw or "").replace(" ", "")
    match = _EXPIRY.match(text)
    if not match:
        raise InvalidInput("Enter the card's expiry date as MM/YY, e.g. 09/28.", field="card_expiry")
    month, year = int(match.group(1)), 2000 + int(match.group(2))
    if (year, month) < (today.year, today.month):
        # Well-formed, but over by today's date: a conflict (409), as no schema can say it.
        raise Conflict("This card has expired.", code="card_expired", field="card_expiry")
    return text


def check_payment(data: PaymentInput, *, today: date) -> Payment | None:
    """Validates payment data as entered. Exactly one method: SEPA (iban, bic: the BIC may
    be left empty when it can be derived from the IBAN) or card (token, last4, expiry).
    All empty: None. The card token is checked first so a card number is never echoed."""
    if data.is_empty():
        return None
    iban_given = bool(data.iban.strip() or data.bic.strip())
    card_given = bool(data.card_token.strip() or data.card_last4.strip() or data.card_expiry.strip())
    refused = field_with_card_number({f.name: getattr(data, f.name) for f in fields(data)})
    if refused is not None:
        raise InvalidInput(
            "Card numbers are not accepted here; enter the token from the payment provider.",
            code="card_number_refused",
            field=refused,
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
    merged_into: str = ""
    # The language the customer chose for mails and PDFs (one of i18n.LANGUAGES); "" = the
    # language of its market.
    language: str = ""

    @property
    def effective_language(self) -> str:
        """The language every mail and PDF to this customer is written in."""
        return i18n.customer_language(self.market, self.language)

    def master_data(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in MASTER_DATA_FIELDS}

    def with_master_data(self, data: dict[str, str]) -> Customer:
        changes: dict[str, Any] = {name: data[name] for name in MASTER_DATA_FIELDS}
        return replace(self, **changes)


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
    # When a repeat debit requested by the customer is pending; None when none is.
    debit_requested_at: datetime | None = None
    # Why the bank returned the last direct debit of this invoice ("" when none was returned).
    return_reason: str = ""


# --- online changes of master data ---------------------------------------------------------

# The fields a customer may change online (PATCH /customer).
ONLINE_FIELDS = ("street", "zip", "city", "country", "phone", "mobile", "fax", "email")


def apply_master_data_change(customer: Customer, changes: dict[str, str]) -> dict[str, str]:
    """The complete, normalised master data after a partial change.

    `changes` holds only the fields that were given ("" clears phone, mobile or fax). A given
    company, first or last name, even the stored one, needs the signed form: FAILED_PRECONDITION
    written_form_required (cc_common/rules/written_only.py). The result is checked as a whole
    by the market's rules (a new country re-checks the postcode), so nothing is half-saved; a
    postcode that does not fit the stored country, or a country the stored postcode does not
    fit, is FAILED_PRECONDITION postcode_not_in_country.
    """
    refuse_written_only(changes)
    unknown = set(changes) - set(MASTER_DATA_FIELDS)
    if unknown:  # pragma: no cover - the entrypoint only passes known fields
        raise InvalidInput(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    merged = {**customer.master_data(), **changes}
    market = MARKETS[customer.market]
    if ("zip" in changes) != ("country" in changes):
        _refuse_postcode_of_stored_country(merged, market=market)
    return normalise_master_data(market, merged)


def _refuse_postcode_of_stored_country(data: dict[str, str], *, market: Market) -> None:
    """A well-formed postcode that does not fit the country when one of them is the stored
    value: FAILED_PRECONDITION postcode_not_in_country (409), as no schema of the request can know
    the stored one; a malformed postcode or country stays INVALID_ARGUMENT (422)."""
    country = normalise_country(data.get("country", ""), market=market)
    try:
        normalise_zip(data.get("zip", ""), country=country)
    except InvalidInput:
        normalise_zip(data.get("zip", ""), country="")  # the shape of any country's, else 422
        raise Conflict(
            f"This postcode does not fit the country of the address ({country}); change both together.",
            code="postcode_not_in_country",
            field="zip",
        ) from None


def check_language(raw: str) -> str:
    """A language preference: one of en, de, nl (INVALID_ARGUMENT field language otherwise)."""
    language = (raw or "").strip().lower()
    if language not in i18n.LANGUAGES:
        raise InvalidInput(
            f"Choose a language: one of {', '.join(sorted(i18n.LANGUAGES))}.", field="language"
        )
    return language


# --- merge status ----------------------------------------------------------------------------


def check_status_change(status: str, merged_into: str, numbers: list[str]) -> tuple[str, str, list[str]]:
    """Checks a merge's status change: status frozen, active or retired; retired names the
    number it was merged into (not one of the listed ones); other statuses clear it."""
    checked_status = (status or "").strip().lower()
    if checked_status not in CUSTOMER_STATUSES:
        raise InvalidInput(f"The status is one of {', '.join(CUSTOMER_STATUSES)}.", field="status")
    checked = sorted({check_customer_number(n, field_name="customer_numbers") for n in numbers})
    if not checked:
        raise InvalidInput("Name at least one customer number.", field="customer_numbers")
    if checked_status == "retired":
        into = check_customer_number(merged_into, field_name="merged_into")
        if into in checked:
            raise InvalidInput("A number cannot be merged into itself.", field="merged_into")
        return checked_status, into, checked
    return checked_status, "", checked


# --- invoices: VAT -------------------------------------------------------------------------


@dataclass(frozen=True)
class VatSplit:
    net_cents: int
    vat_cents: int
    gross_cents: int
    vat_percent: int


def split_gross(gross_cents: int, *, vat_percent: int) -> VatSplit:
    """Splits a gross amount into net and VAT: net rounded half up to the cent, VAT the rest
    (so net + VAT is always exactly the gross amount)."""
    divisor = 100 + vat_percent
    net = (2 * gross_cents * 100 + divisor) // (2 * divisor)
    return VatSplit(
        net_cents=net, vat_cents=gross_cents - net, gross_cents=gross_cents, vat_percent=vat_percent
    )


@dataclass
class DebitRequest:
    """A repeat debit the customer asked for: requested (waiting for a collection), collected,
    paid or returned (contract_service/domain/direct_debit.py)."""

    invoice_number: str
    requested_at: datetime
    status: str = "requested"
    collection_id: str | None = None


def check_invoice_ref(raw: str) -> str:
    text = (raw or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,20}", text):
        raise InvalidInput("Name the invoice by its number, e.g. RE00000001.", field="number")
    return text


# --- contracts -------------------------------------------------------------------------------

CONTRACT_STATUSES = ("active", "terminated")
DEFAULT_TERM_MONTHS = 12
_OPAQUE_ID = re.compile(f"^{ids.OPAQUE_ID}$")  # shared with the gateway: cc_common/rules/ids.py
_PRODUCT = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def new_contract_id() -> str:
    return "ctr_" + secrets.token_hex(8)


def new_termination_id() -> str:
    return "trm_" + secrets.token_hex(8)


def check_opaque_id(raw: str, *, field_name: str, label: str) -> str:
    text = (raw or "").strip()
    if not _OPAQUE_ID.match(text):
        raise InvalidInput(f"Name the {label} by its id, e.g. pkg_3f2a9c.", field=field_name)
    return text


def check_product(raw: str) -> str:
    text = (raw or "").strip().lower()
    if not _PRODUCT.match(text):
        raise InvalidInput("Name the product by its code, e.g. hosting-basic.", field="product")
    return text


def check_term_months(raw: int) -> int:
    if raw == 0:
        return DEFAULT_TERM_MONTHS
    if not 1 <= raw <= 120:
        raise InvalidInput("A contract term is 1 to 120 months.", field="term_months")
    return raw


def check_start_date(raw: str, *, today: date) -> date:
    text = (raw or "").strip()
    if not text:
        return today
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput("Enter the start date as YYYY-MM-DD, e.g. 2026-01-31.", field="start_date")


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month does not have becomes its last day
    (31 January + 1 month = 28/29 February)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def current_term_end(start: date, term_months: int, *, today: date) -> date:
    """The last day of the contract's current term.

    The terms run from start_date for term_months each; a term ends on the day before the
    next anniversary start_date + k * term_months (k >= 1) that lies after today. So a
    termination made today takes effect at the end of that day: on the last day of a term it
    is today itself; a contract that has not begun yet ends after its first term.
    """
    elapsed = (today.year - start.year) * 12 + (today.month - start.month)
    k = max(1, elapsed // term_months)
    while k > 1 and add_months(start, (k - 1) * term_months) > today:
        k -= 1
    while add_months(start, k * term_months) <= today:
        k += 1
    return add_months(start, k * term_months) - timedelta(days=1)


class ContractTaken(Exception):
    """A contract for the package was stored by a concurrent call."""


class TerminationTaken(Exception):
    """An open termination of the same package and domain was stored by a concurrent call."""


@dataclass
class Contract:
    id: str
    package_id: str
    customer_number: str
    product: str
    start_date: date
    term_months: int = DEFAULT_TERM_MONTHS
    status: str = "active"
    created_at: datetime | None = None


def check_product_change(contract: Contract) -> None:
    """A product change (upgrade, downgrade of the package) follows only an active contract."""
    if contract.status != "active":
        raise Conflict("This contract has already ended.", code="contract_not_active")


# --- terminations ------------------------------------------------------------------------------


@dataclass
class Termination:
    id: str
    customer_number: str
    contract_id: str
    package_id: str
    domain: str  # "" = the whole package (unless an add-on is named)
    effective_date: date
    status: str = "open"  # open, retracted, done (carried out) as stored
    created_at: datetime | None = None
    retracted_at: datetime | None = None
    product: str = ""
    carried_out_at: datetime | None = None
    addon_id: str = ""  # one add-on of the package (never with a domain)

    @property
    def whole_package(self) -> bool:
        return not self.domain and not self.addon_id

    def shown_status(self, *, today: date) -> str:
        """open, effective (from the effective date on, and once carried out) or retracted."""
        if self.status == "done" or (self.status == "open" and today >= self.effective_date):
            return "effective"
        return self.status


def check_new_termination(
    contract: Contract, domain: str, open_ones: list[Termination], addon_id: str = ""
) -> None:
    """A contract that is not active cannot be terminated; nor can a package (or a domain or
    an add-on of it) that already has an open termination: the whole package's covers every
    domain and add-on. A termination names one target: a domain or an add-on, not both."""
    if domain and addon_id:
        raise InvalidInput("Terminate either a domain or an add-on, not both at once.", field="addon_id")
    if contract.status != "active":
        raise Conflict("This contract has already ended.", code="contract_not_active")
    for t in open_ones:
        same = t.domain == domain and t.addon_id == addon_id
        if t.whole_package or same:
            what = (
                "this package"
                if t.whole_package
                else f"the add-on {t.addon_id}"
                if t.addon_id
                else f"the domain {t.domain}"
            )
            raise Conflict(
                f"A termination of {what} is already in place (effective {t.effective_date.isoformat()}); "
                "retract it first to change it.",
                code="already_terminated",
            )


def check_retraction(termination: Termination, *, today: date) -> bool:
    """True when the termination is to be retracted now; False when it already is.
    From the effective date on: FAILED_PRECONDITION termination_effective."""
    if termination.status == "retracted":
        return False
    if today >= termination.effective_date:
        raise Conflict(
            f"This termination took effect on {termination.effective_date.isoformat()}; it can no "
            "longer be retracted. Please contact customer service.",
            code="termination_effective",
        )
    return True
