"""The product catalogue as data: hosting products ordered by size (`rank`), each with its
limits and a monthly price per market. Limits decide whether a package fits a product
(downgrade, package splitting)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Price:
    market: str  # de, nl, uk (the markets of contract-service)
    monthly_price_cents: int
    currency: str


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    rank: int  # 1 = the smallest
    max_domains: int
    storage_gb: int
    mailboxes: int
    databases: int
    prices: tuple[Price, ...]


def _prices(de: int, nl: int, uk: int) -> tuple[Price, ...]:
    return (Price("de", de, "EUR"), Price("nl", nl, "EUR"), Price("uk", uk, "GBP"))


# code, name, rank, max_domains, storage_gb, mailboxes, databases, prices (de, nl, uk)
_CATALOGUE: tuple[Product, ...] = (
    Product("hosting-basic", "Hosting Basic", 1, 1, 10, 5, 1, _prices(499, 599, 799)),
    Product("hosting-plus", "Hosting Plus", 2, 5, 50, 25, 5, _prices(1199, 1299, 1399)),
    Product("hosting-pro", "Hosting Pro", 3, 25, 250, 250, 25, _prices(1999, 2099, 2199)),
    Product("server-dedicated", "Dedicated Server", 4, 100, 1000, 1000, 100, _prices(4999, 5199, 5499)),
)

# By code, in rank order (smallest first).
PRODUCTS: Mapping[str, Product] = MappingProxyType(
    {p.code: p for p in sorted(_CATALOGUE, key=lambda p: p.rank)}
)


def products_in_order() -> list[Product]:
    return list(PRODUCTS.values())


def smallest_product() -> Product:
    return next(iter(PRODUCTS.values()))
