"""Packages and their domains: plain classes and rules, no SQLAlchemy, no gRPC."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from cc_common.errors import InvalidInput

# The product catalogue, smallest first. Limits are checked on downgrade (issue 3).
PRODUCTS: dict[str, dict[str, int]] = {
    "hosting-basic": {"max_domains": 1, "monthly_price_cents": 199},
    "hosting-plus": {"max_domains": 5, "monthly_price_cents": 599},
    "hosting-pro": {"max_domains": 25, "monthly_price_cents": 1299},
    "server-dedicated": {"max_domains": 100, "monthly_price_cents": 4999},
}

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAINS_PER_REQUEST = 100


def new_package_id() -> str:
    return "pkg_" + secrets.token_hex(8)


def normalise_domain(raw: str, *, field_name: str = "domain") -> str:
    """A domain as stored and compared: IDNA (punycode), lower case, no trailing dot."""
    name = (raw or "").strip().rstrip(".").lower()
    if not name:
        raise InvalidInput("Please enter a domain name, e.g. example.com.", field=field_name)
    if len(name) > 253:
        raise InvalidInput("A domain name has at most 253 characters.", field=field_name)
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(f"{raw!r} is not a valid domain name.", field=field_name) from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidInput(f"{raw!r} is not a valid domain name.", field=field_name)
    return ascii_name


def check_product(product: str) -> str:
    if product not in PRODUCTS:
        raise InvalidInput(
            f"Unknown product {product!r}; choose one of {', '.join(PRODUCTS)}.", field="product"
        )
    return product


@dataclass
class Package:
    id: str
    customer_number: str
    product: str
    status: str = "active"
    created_at: datetime | None = None
    domains: list[str] = field(default_factory=list)
