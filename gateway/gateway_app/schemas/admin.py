"""The service team's request bodies (/api/v1/admin/...): customers, packages, usage, invoices."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from cc_common.errors import InvalidInput
from cc_common.rules import addresses
from pydantic import AfterValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from gateway_app.schemas import MAX_DOMAINS, Answer, Body, customers, fields, omitted
from gateway_app.schemas.customers import CARD_FIELDS, SEPA_FIELDS

Figure = fields.whole(0, 10_000_000)  # package-service's limit of a usage figure (check_usage)


def _distinct(domains: list[str]) -> list[str]:
    if len(set(domains)) != len(domains):
        raise PydanticCustomError("duplicate", "{field} names a domain twice.")
    return domains


Domains = Annotated[
    list[fields.Domain],
    Field(min_length=1, max_length=MAX_DOMAINS, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct),
]


class CustomerCreate(Body):
    """A customer with its customer password and master data: a last_name or a company (not blank),
    street, zip, country (ISO 3166-1 alpha-2), city and email; the zip has the shape of the
    country. Payment data are optional, and then one method's fields all, as
    in PUT /api/v1/customer/payment (every market takes either method)."""

    # No payment data, or all of one method's fields (as in PUT /api/v1/customer/payment) and
    # none of the other's.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"pattern": f"^(?:{fields.FILLED_LINE})$"}}}
                for name in ("last_name", "company")
            ],
            "allOf": customers.postcode_rules(),
            "dependentRequired": {n: [m for m in g if m != n] for g in (SEPA_FIELDS, CARD_FIELDS) for n in g},
            "not": {"allOf": [{"anyOf": [{"required": [n]} for n in g]} for g in (SEPA_FIELDS, CARD_FIELDS)]},
        }
    )
    market: fields.Market
    password: fields.NewPassword
    street: fields.FilledLine
    zip: fields.Postcode
    city: fields.City
    email: fields.Email
    country: fields.Country
    customer_number: fields.CustomerNumber = omitted()
    company: fields.TextLine = omitted()
    first_name: fields.TextLine = omitted()
    last_name: fields.TextLine = omitted()
    phone: fields.Phone = omitted()
    mobile: fields.Phone = omitted()
    fax: fields.Phone = omitted()
    iban: fields.Iban = omitted()
    bic: fields.Bic = omitted()
    card_token: fields.CardToken = omitted()
    card_last4: fields.CardLast4 = omitted()
    card_expiry: fields.CardExpiry = omitted()
    EXAMPLE: ClassVar = {
        "market": "de", "password": "a long first password", "first_name": "Max", "last_name": "Mustermann",
        "iban": "DE89370400440532013000", "bic": "COBADEFFXXX",
    }  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _no_card_number(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # Said first, before any field's shape: a card number is never echoed or forwarded.
            payment = {k: v for k, v in data.items() if k in (*SEPA_FIELDS, *CARD_FIELDS) and isinstance(v, str)}  # fmt: skip
            customers.refuse_card_numbers(payment)
        return data

    @model_validator(mode="after")
    def _whole(self) -> CustomerCreate:
        if not (self.last_name or "").split() and not (self.company or "").split():
            raise InvalidInput("Please enter a last name (or a company).", field="last_name")
        customers.check_postcode_of_country(self.zip, addresses.country_code(self.country))
        given = set(self.given())
        groups = [group for group in (SEPA_FIELDS, CARD_FIELDS) if given & set(group)]
        if len(groups) > 1:
            raise InvalidInput("Give either a bank account (iban and bic) or a card, not both.", field="payment")  # fmt: skip
        for group in groups:
            missing = [name for name in group if name not in given]
            if missing:
                raise InvalidInput(f"Give {', '.join(group)} together.", field=missing[0])
        return self


class CustomerCreated(Answer):
    """The new customer's number"""

    customer_number: str


class PackageCreate(Body):
    product: fields.Product
    domains: Domains
    package_password: fields.NewPassword = omitted()
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
    amount: fields.AmountCents
    currency: fields.Currency = omitted()
    status: fields.choice("open", "paid") = omitted()
    date: fields.text(max_len=10, format="date") = omitted()
    EXAMPLE: ClassVar = {"amount": 12.5, "currency": "EUR", "status": "open", "date": "2026-01-31"}
