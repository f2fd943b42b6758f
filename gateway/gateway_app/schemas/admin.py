"""The service team's request bodies (/api/v1/admin/...): customers, packages, usage, invoices."""

from __future__ import annotations

from typing import Annotated, ClassVar

from cc_common.errors import InvalidInput
from cc_common.rules.markets import CURRENCIES
from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from gateway_app.schemas import (
    MAX_DOMAINS,
    AmountCents,
    Answer,
    Body,
    CustomerNumber,
    Domain,
    NewPassword,
    Product,
    choice,
    omitted,
    text,
    whole,
)

MAX_FIGURE = 10_000_000  # package-service's limit of a usage figure (check_usage)

Line = text()
PaymentLine = text(max_len=64)
Figure = whole(0, MAX_FIGURE)
# An invoice's currency in any case (contract-service takes it in capitals).
Currency = choice(*(code.lower() for code in CURRENCIES))


def _distinct(domains: list[str]) -> list[str]:
    if len(set(domains)) != len(domains):
        raise PydanticCustomError("duplicate", "{field} names a domain twice.")
    return domains


Domains = Annotated[
    list[Domain],
    Field(min_length=1, max_length=MAX_DOMAINS, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct),
]


class CustomerCreate(Body):
    """A customer with its customer password; payment fields as in PUT /api/v1/customer/payment."""

    market: choice("de", "nl", "uk", aliases={"gb": "uk"})
    password: NewPassword
    customer_number: CustomerNumber = omitted()
    company: Line = omitted()
    first_name: Line = omitted()
    last_name: Line = omitted()
    street: Line = omitted()
    zip: Line = omitted()
    city: Line = omitted()
    country: Line = omitted()
    phone: Line = omitted()
    mobile: Line = omitted()
    fax: Line = omitted()
    email: Line = omitted()
    iban: PaymentLine = omitted()
    bic: PaymentLine = omitted()
    card_token: PaymentLine = omitted()
    card_last4: PaymentLine = omitted()
    card_expiry: PaymentLine = omitted()
    EXAMPLE: ClassVar = {
        "market": "de", "password": "a long first password", "first_name": "Max", "last_name": "Mustermann",
        "street": "Hauptstraße 1", "zip": "10115", "city": "Berlin", "country": "DE", "email": "max@example.com",
    }  # fmt: skip


class CustomerCreated(Answer):
    """The new customer's number"""

    customer_number: str
    EXAMPLE: ClassVar = {"customer_number": "10001"}


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
