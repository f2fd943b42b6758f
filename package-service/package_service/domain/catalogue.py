"""The product catalogue as data: hosting products ordered by size (`rank`), each with its
limits and a monthly price per market. Limits decide whether a package fits a product
(downgrade, package splitting)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cc_common.rules import products


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
    # Other names people use for the same size (case and a "hosting-"/"webhosting-" prefix do
    # not matter): "basic", "s", "m", "premium", ...
    aliases: tuple[str, ...] = ()


def _prices(de: int, nl: int, uk: int) -> tuple[Price, ...]:
    return (Price("de", de, "EUR"), Price("nl", nl, "EUR"), Price("uk", uk, "GBP"))


# code, name, rank, max_domains, storage_gb, mailboxes, databases, prices (de, nl, uk)
_CATALOGUE: tuple[Product, ...] = (
    Product(
        "hosting-basic",
        "Hosting Basic",
        1,
        1,
        10,
        5,
        1,
        _prices(499, 599, 799),
        ("basic", "starter", "small", "s"),
    ),
    Product(
        "hosting-plus",
        "Hosting Plus",
        2,
        5,
        50,
        25,
        5,
        _prices(1199, 1299, 1399),
        ("plus", "medium", "m", "standard"),
    ),
    Product(
        "hosting-pro",
        "Hosting Pro",
        3,
        25,
        250,
        250,
        25,
        _prices(1999, 2099, 2199),
        ("pro", "premium", "large", "l", "business"),
    ),
    Product(
        "server-dedicated",
        "Dedicated Server",
        4,
        100,
        1000,
        1000,
        100,
        _prices(4999, 5199, 5499),
        ("dedicated", "server", "xl"),
    ),
)

# By code, in rank order (smallest first).
PRODUCTS: Mapping[str, Product] = MappingProxyType(
    {p.code: p for p in sorted(_CATALOGUE, key=lambda p: p.rank)}
)
# The gateway documents and accepts the codes of cc_common/rules/products.py: one list.
if tuple(PRODUCTS) != products.CODES:
    raise RuntimeError("The catalogue's codes differ from cc_common/rules/products.py.")


_PREFIXES = ("webhosting-", "webhosting ", "hosting-", "hosting ", "web-")
_BY_NAME: Mapping[str, Product] = MappingProxyType(
    {name: p for p in _CATALOGUE for name in (p.code, p.name.lower(), *p.aliases)}
)


def find(raw: str) -> Product | None:
    """The product a customer or a client names: its code, its name or an alias."""
    name = " ".join((raw or "").strip().lower().replace("_", "-").split())
    for prefix in _PREFIXES:
        if name.startswith(prefix) and name[len(prefix) :] in _BY_NAME:
            return _BY_NAME[name[len(prefix) :]]
    return _BY_NAME.get(name)


def products_in_order() -> list[Product]:
    return list(PRODUCTS.values())


def smallest_product() -> Product:
    return next(iter(PRODUCTS.values()))


# --- additional services (add-ons) -----------------------------------------------------------


@dataclass(frozen=True)
class AddonKind:
    """An additional service a package can have any number of, each ordered and terminated on
    its own; it raises the package's limits by what it names."""

    kind: str
    name: str
    domains: int
    mailboxes: int
    databases: int
    prices: tuple[Price, ...]

    def price_in(self, market: str) -> Price | None:
        return next((p for p in self.prices if p.market == market), None)


# kind, name, extra domains, mailboxes, databases, monthly prices (de, nl, uk)
_ADDONS: tuple[AddonKind, ...] = (
    AddonKind("extra_domain_slot", "Extra domain slot", 1, 0, 0, _prices(199, 199, 179)),
    AddonKind("mailbox_pack", "Mailbox pack (10 mailboxes)", 0, 10, 0, _prices(299, 299, 249)),
    AddonKind("database", "Additional database", 0, 0, 1, _prices(149, 149, 129)),
)

# By kind, in the catalogue's order.
ADDONS: Mapping[str, AddonKind] = MappingProxyType({a.kind: a for a in _ADDONS})


def addons_in_order() -> list[AddonKind]:
    return list(ADDONS.values())
