"""Protobuf messages -> the JSON shapes of API.md. An unset optional string is `null`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _opt(value: str) -> str | None:
    return value or None


CUSTOMER_FIELDS = (
    "company",
    "first_name",
    "last_name",
    "street",
    "zip",
    "city",
    "country",
    "phone",
    "mobile",
    "fax",
    "email",
)


def customer(message: Any) -> dict[str, Any]:
    payment = message.payment
    return {
        "customer_number": message.customer_number,
        "market": message.market,
        **{name: _opt(getattr(message, name)) for name in CUSTOMER_FIELDS},
        "payment": {
            "method": _opt(payment.method),
            "iban_masked": _opt(payment.iban_masked),
            "bic": _opt(payment.bic),
            "card_last4": _opt(payment.card_last4),
            "card_expiry": _opt(payment.card_expiry),
        },
    }


def package(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "customer_number": message.customer_number,
        "product": message.product,
        "domains": list(message.domains),
        "status": message.status,
        "created_at": _opt(message.created_at),
    }


def amount(cents: int) -> str:
    """Money as a decimal string with two places ("12.50"): no binary floats for money."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def invoice(message: Any) -> dict[str, Any]:
    return {
        "number": message.number,
        "date": _opt(message.date),
        "amount": amount(message.amount_cents),
        "currency": message.currency,
        "status": message.status,
    }
