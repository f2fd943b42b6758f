"""The customer's own record and payment data, contracts and forms (/api/v1/customer, ...)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from cc_common import i18n
from cc_common.errors import InvalidInput
from cc_common.protoconv import enum_name
from cc_common.rules import addresses
from cc_common.rules.cards import field_with_card_number
from cc_common.rules.written_only import refuse_written_only
from customercenter.v2 import common_pb2
from pydantic import ConfigDict, model_validator

from gateway_app.schemas import Answer, Body, exactly_one_of, fields, omitted

# The language of mails, PDFs and (after login) the pages: the customer's preference, else its
# market's (cc_common.i18n.customer_language).
LANGUAGE = Literal["en", "de", "nl"]
# Master data a customer may change online; company and name need the signed contract
# handover form (common/cc_common/rules/written_only.py; docs/architecture.md).
ONLINE_FIELDS = ("street", "zip", "city", "country", "phone", "mobile", "fax", "email")
CUSTOMER_FIELDS = ("company", "first_name", "last_name", *ONLINE_FIELDS)
SEPA_FIELDS = ("iban", "bic")
CARD_FIELDS = ("card_token", "card_last4", "card_expiry")


def postcode_rules() -> Any:
    """JSON schema: the zip in the shape of the body's country (addresses.POSTCODE_OF_COUNTRY)."""
    return [
        {
            "if": {"properties": {"country": {"pattern": fields.choice_pattern(country.lower())}}, "required": ["country"]},
            "then": {"properties": {"zip": {"pattern": f"^(?:{pattern})$"}}},
        }
        for country, pattern in addresses.POSTCODE_OF_COUNTRY.items()
    ]  # fmt: skip


def check_postcode_of_country(zip_: str | None, country: str | None) -> None:
    """422 on field zip for a postcode (already of POSTCODE's shape) that does not fit `country`,
    the code of the country the same body names (or its market's)."""
    if zip_ is not None and country is not None and not addresses.postcode_fits(zip_, country):
        example = addresses.POSTCODE_EXAMPLES.get(country, "A-1234")
        raise InvalidInput(f"This postcode does not fit the country {country}; it looks like {example}.", field="zip")  # fmt: skip


def refuse_card_numbers(payment: dict[str, str]) -> None:
    """InvalidInput card_number_refused, with the field, if a card number was typed anywhere
    (cc_common/rules/cards.py, the rule contract-service applies too): it is never forwarded."""
    name = field_with_card_number(payment)
    if name is not None:
        raise InvalidInput(
            "This looks like a card number, which is never accepted: give the card_token from the "
            "payment provider.",
            code="card_number_refused",
            field=name,
        )


class Payment(Answer):
    method: Literal["sepa", "card"] | None
    iban_masked: str | None
    bic: str | None
    card_last4: str | None
    card_expiry: str | None
    EXAMPLE: ClassVar = {"method": "sepa"}


class Customer(Answer):
    """The customer's master data and masked payment data"""

    customer_number: str
    market: fields.MarketName
    company: str | None
    first_name: str | None
    last_name: str | None
    street: str | None
    zip: str | None
    city: str | None
    country: str | None
    phone: str | None
    mobile: str | None
    fax: str | None
    email: str | None
    language: LANGUAGE
    payment: Payment
    EXAMPLE: ClassVar = {"phone": "+49301234567", "language": "de"}

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> Customer:
        # contract-service sends the effective language; one that does not yet (an older
        # version during a rollout) leaves it empty, which is the market's.
        market = enum_name(common_pb2.Market, message.market)
        return super().from_proto(message, language=i18n.customer_language(market, message.language))


class CustomerUpdate(Body):
    """Any of the fields; null or "" clears phone, mobile or fax. A new email needs current_password
    (checked like a login). company, first_name or last_name: 409 written_form_required. A zip
    that does not fit the stored country, or a country the stored zip does not fit (the other
    one not in the body): 409 postcode_not_in_country.
    language (en, de, nl) is the language of mails and PDFs (and of the pages after login); null
    goes back to the market's language."""

    # At least one field to change; a new email with the current password (an email equal to
    # the current address is no change and is taken without it); a zip with a country in the
    # same body fits it (422 otherwise).
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": [name]} for name in (*ONLINE_FIELDS, "language")],
            "dependentRequired": {"email": ["current_password"]}, "allOf": postcode_rules(),
        }
    )  # fmt: skip
    street: fields.FilledLine = omitted()
    zip: fields.Postcode = omitted()
    city: fields.City = omitted()
    country: fields.Country = omitted()
    phone: fields.Phone | None = None
    mobile: fields.Phone | None = None
    fax: fields.Phone | None = None
    email: fields.Email = omitted()
    language: LANGUAGE | None = omitted()
    current_password: fields.Password = omitted()
    EXAMPLE: ClassVar = {
        "street": "Hauptstraße 2", "email": "new@example.com", "current_password": "correct horse battery"
    }  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _written_only_first(cls, data: Any) -> Any:
        # contract-service's own rule, said first: nothing is forwarded or saved, not even the
        # other fields of the request (409 written_form_required).
        if isinstance(data, dict):
            refuse_written_only(data)
        return data

    @model_validator(mode="after")
    def _postcode_of_country(self) -> CustomerUpdate:
        if self.country is not None:
            check_postcode_of_country(self.zip, addresses.country_code(self.country))
        return self

    def changes(self) -> dict[str, str]:
        """The fields given, a null phone, mobile, fax or language as "" (cleared)."""
        given = self.model_fields_set - {"current_password"}
        return {name: getattr(self, name) or "" for name in (*ONLINE_FIELDS, "language") if name in given}


class PaymentUpdate(Body):
    """Either a bank account (iban and bic) or a card (card_token from the payment provider,
    card_last4, card_expiry MM/YY); a card number is never accepted (card_number_refused), an
    expired card is 409 card_expired."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of(SEPA_FIELDS, CARD_FIELDS))
    iban: fields.Iban = omitted()
    bic: fields.Bic = omitted()
    card_token: fields.CardToken = omitted()
    card_last4: fields.CardLast4 = omitted()
    card_expiry: fields.CardExpiry = omitted()
    EXAMPLE: ClassVar = {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}

    @model_validator(mode="before")
    @classmethod
    def _no_card_number(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # Said first, before any field's shape: a card number is never echoed or forwarded.
            refuse_card_numbers({k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)})
            if "card_number" in data:
                raise InvalidInput(
                    "A card number is never accepted: give the card_token from the payment provider, "
                    "with card_last4 and card_expiry.",
                    code="card_number_refused",
                    field="card_token",
                )
        return data


class EmailRestore(Body):
    token: fields.LinkToken
    EXAMPLE: ClassVar = {"token": "r3st0r3L1nkT0k3n"}


class Contract(Answer):
    id: str
    package_id: str
    product: str
    start_date: fields.Date
    term_months: int
    current_term_end: fields.Date
    status: fields.ActiveOrTerminated
    created_at: fields.DateTime
    EXAMPLE: ClassVar = {"id": "ctr_1a2b", "start_date": "2026-01-01", "term_months": 12}


class ContractList(Answer):
    """The contracts of the customer's packages, oldest first"""

    contracts: list[Contract]


class Form(Answer):
    """A written-only form with the URL of its PDF, or an online one with its endpoint"""

    id: str
    title: str
    description: str
    mode: Literal["written", "online"]
    endpoint: str | None
    pdf_url: str | None
    EXAMPLE: ClassVar = {
        "id": "contract-handover", "title": "Contract handover", "description": "Hand a contract over.",
        "pdf_url": "/api/v1/forms/contract-handover/pdf",
    }  # fmt: skip

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> Form:
        return super().from_proto(message, pdf_url=values["pdf_url"] if message.has_pdf else None)


class FormList(Answer):
    """The forms: written-only ones with a PDF, online ones with their endpoint"""

    forms: list[Form]
