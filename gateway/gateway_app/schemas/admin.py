"""The service team's request bodies (/api/v1/admin/...): customers, packages, usage, invoices."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from cc_common.errors import InvalidInput
from cc_common.rules import addresses
from pydantic import AfterValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from gateway_app.schemas import (
    MAX_DOMAINS,
    AmountCents,
    Answer,
    Body,
    Currency,
    CustomerNumber,
    Domain,
    Market,
    NewPassword,
    Product,
    choice,
    omitted,
    text,
    whole,
)
from gateway_app.schemas.customers import (
    CARD_FIELDS,
    FILLED_LINE,
    SEPA_FIELDS,
    Bic,
    CardExpiry,
    CardLast4,
    CardToken,
    City,
    Country,
    Email,
    FilledLine,
    Iban,
    Phone,
    Postcode,
    TextLine,
    check_postcode_of_country,
    postcode_rules,
    refuse_card_numbers,
)

Figure = whole(0, 10_000_000)  # package-service's limit of a usage figure (check_usage)


def _distinct(domains: list[str]) -> list[str]:
    if len(set(domains)) != len(domains):
        raise PydanticCustomError("duplicate", "{field} names a domain twice.")
    return domains


Domains = Annotated[
    list[Domain],
    Field(min_length=1, max_length=MAX_DOMAINS, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct),
]


def _payment_rules() -> dict[str, Any]:
    """JSON schema: no payment data, or all of one method's fields (as in PUT
    /api/v1/customer/payment) and none of the other's."""
    both = {"allOf": [{"anyOf": [{"required": [n]} for n in group]} for group in (SEPA_FIELDS, CARD_FIELDS)]}
    return {
        "dependentRequired": {
            n: [m for m in group if m != n] for group in (SEPA_FIELDS, CARD_FIELDS) for n in group
        },
        "not": both,
    }


class CustomerCreate(Body):
    """A customer with its customer password and master data: a last_name or a company (not blank),
    street, zip, country (ISO 3166-1 alpha-2), city and email; the zip has the shape of the
    country. Payment data are optional, and then one method's fields all, as
    in PUT /api/v1/customer/payment (every market takes either method)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"pattern": "^(?:" + FILLED_LINE + ")$"}}}
                for name in ("last_name", "company")
            ],
            "allOf": postcode_rules(),
            **_payment_rules(),
        }
    )
    market: Market
    password: NewPassword
    street: FilledLine
    zip: Postcode
    city: City
    email: Email
    country: Country
    customer_number: CustomerNumber = omitted()
    company: TextLine = omitted()
    first_name: TextLine = omitted()
    last_name: TextLine = omitted()
    phone: Phone = omitted()
    mobile: Phone = omitted()
    fax: Phone = omitted()
    iban: Iban = omitted()
    bic: Bic = omitted()
    card_token: CardToken = omitted()
    card_last4: CardLast4 = omitted()
    card_expiry: CardExpiry = omitted()
    EXAMPLE: ClassVar = {
        "market": "de", "password": "a long first password", "first_name": "Max", "last_name": "Mustermann",
        "street": "Hauptstraße 1", "zip": "10115", "city": "Berlin", "country": "DE", "email": "max@example.com",
        "iban": "DE89370400440532013000", "bic": "COBADEFFXXX",
    }  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _no_card_number(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # Said first, before any field's shape: a card number is never echoed or forwarded.
            payment = {
                k: v for k, v in data.items() if k in (*SEPA_FIELDS, *CARD_FIELDS) and isinstance(v, str)
            }
            refuse_card_numbers(payment)
        return data

    @model_validator(mode="after")
    def _whole(self) -> CustomerCreate:
        if not (self.last_name or "").split() and not (self.company or "").split():
            raise InvalidInput("Please enter a last name (or a company).", field="last_name")
        check_postcode_of_country(self.zip, addresses.country_code(self.country))
        given = set(self.given())
        groups = [group for group in (SEPA_FIELDS, CARD_FIELDS) if given & set(group)]
        if len(groups) > 1:
            raise InvalidInput(
                "Give either a bank account (iban and bic) or a card, not both.", field="payment"
            )
        for group in groups:
            missing = [name for name in group if name not in given]
            if missing:
                raise InvalidInput(f"Give {', '.join(group)} together.", field=missing[0])
        return self


class CustomerCreated(Answer):
    """The new customer's number"""

    customer_number: str


class PackageCreate(Body):
    product: Product
    domains: Domains
    package_password: NewPassword = omitted()
    EXAMPLE: ClassVar = {"product": "hosting-basic", "domains": ["example.com"]}


class UsageUpdate(Body):
    """The usage figures the hosting platform would report; a figure left out keeps its value."""

    model_config = {"json_schema_extra": {"minProperties": 1}}
    storage_used_gb: Figure = omitted()
    mailboxes_used: Figure = omitted()
    databases_used: Figure = omitted()
    EXAMPLE: ClassVar = {"storage_used_gb": 3}

    @model_validator(mode="after")
    def _at_least_one(self) -> UsageUpdate:
        if not self.given():
            raise InvalidInput("Give at least one of: storage_used_gb, mailboxes_used, databases_used.")
        return self


class InvoiceCreate(Body):
    amount: AmountCents
    currency: Currency = omitted()
    status: choice("open", "paid") = omitted()
    date: text(max_len=10, format="date") = omitted()
    EXAMPLE: ClassVar = {"amount": 12.5, "currency": "EUR", "status": "open", "date": "2026-01-31"}
