"""The service team's request bodies (/api/v1/admin/...): customers, packages, usage, invoices."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from cc_common.errors import InvalidInput
from pydantic import AfterValidator, Field, WithJsonSchema, model_validator
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
    text,
)

Line = text()
PaymentLine = text(max_len=64)
Figure = Annotated[int, Field(ge=0, le=10_000_000)]


def _distinct(domains: list[str]) -> list[str]:
    if len(set(domains)) != len(domains):
        raise PydanticCustomError("duplicate", "{field} names a domain twice.")
    return domains


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise PydanticCustomError("currency", "{field} must be an ISO 4217 code such as EUR.")
    return value.upper()


Domains = Annotated[
    list[Domain], Field(min_length=1, max_length=MAX_DOMAINS, json_schema_extra={"uniqueItems": True}), AfterValidator(_distinct)
]
Currency = Annotated[str, AfterValidator(_currency), WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{3}$"})]


class CustomerCreate(Body):
    """A customer with its customer password; payment fields as in PUT /api/v1/customer/payment."""

    market: choice("de", "nl", "uk", aliases={"gb": "uk"})  # type: ignore[valid-type]
    password: NewPassword
    customer_number: CustomerNumber | None = None
    company: Line | None = None
    first_name: Line | None = None
    last_name: Line | None = None
    street: Line | None = None
    zip: Line | None = None
    city: Line | None = None
    country: Line | None = None
    phone: Line | None = None
    mobile: Line | None = None
    fax: Line | None = None
    email: Line | None = None
    iban: PaymentLine | None = None
    bic: PaymentLine | None = None
    card_token: PaymentLine | None = None
    card_last4: PaymentLine | None = None
    card_expiry: PaymentLine | None = None
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
    package_password: NewPassword | None = None
    EXAMPLE: ClassVar = {"product": "hosting-basic", "domains": ["example.com"]}


class UsageUpdate(Body):
    """The usage figures the hosting platform would report; a figure left out keeps its value."""

    model_config = {"json_schema_extra": {"minProperties": 1}}
    storage_used_gb: Figure | None = None
    mailboxes_used: Figure | None = None
    databases_used: Figure | None = None
    EXAMPLE: ClassVar = {"storage_used_gb": 3}

    @model_validator(mode="after")
    def _at_least_one(self) -> UsageUpdate:
        if not self.given():
            raise InvalidInput("Give at least one of: storage_used_gb, mailboxes_used, databases_used.")
        return self


class InvoiceCreate(Body):
    amount: AmountCents
    currency: Currency | None = None
    status: choice("open", "paid") | None = None  # type: ignore[valid-type]
    date: text(max_len=10, format="date") | None = None  # type: ignore[valid-type]
    EXAMPLE: ClassVar = {"amount": 12.5, "currency": "EUR", "status": "open", "date": "2026-01-31"}
