"""Packages and their domains: plain classes and rules, no SQLAlchemy, no gRPC."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from cc_common.errors import Conflict, InvalidInput, NotFound
from cc_common.rules import package_settings

from package_service.domain import catalogue
from package_service.domain.catalogue import ADDONS, PRODUCTS, AddonKind, Product, smallest_product

MAX_DOMAINS_PER_REQUEST = 100


def new_package_id() -> str:
    return "pkg_" + secrets.token_hex(8)


def check_product(product: str) -> Product:
    """The catalogue entry of a product code, or InvalidInput on the field `product`."""
    found = catalogue.find(product)
    if found is None:
        raise InvalidInput(
            f"Unknown product {product!r}; choose one of {', '.join(PRODUCTS)}.", field="product"
        )
    return found


ADDON_STATUSES = ("active", "terminated", "ended")
MARKETS = ("de", "nl", "uk")


def new_addon_id() -> str:
    return "add_" + secrets.token_hex(8)


@dataclass
class Addon:
    """An additional service of a package: active; terminated (a termination is in place, it
    ends on `ends_at`); ended (from that day on, or with its package). The price and currency
    are the catalogue's for the owner's market when it was ordered."""

    id: str
    package_id: str
    kind: str
    price_cents: int
    currency: str
    status: str = "active"
    ordered_at: datetime | None = None
    ends_at: date | None = None

    @property
    def counts(self) -> bool:
        """Whether it still raises the package's limits (until it has ended)."""
        return self.status != "ended"

    @property
    def catalogue_entry(self) -> AddonKind | None:
        return ADDONS.get(self.kind)


@dataclass
class Package:
    id: str
    customer_number: str
    product: str
    status: str = "active"
    created_at: datetime | None = None
    domains: list[str] = field(default_factory=list)
    storage_used_gb: int = 0
    mailboxes_used: int = 0
    databases_used: int = 0
    # The technical settings set so far (the others have their defaults).
    settings: dict[str, str] = field(default_factory=dict)
    # Its add-ons, ended ones included (oldest first).
    addons: list[Addon] = field(default_factory=list)

    @property
    def catalogue_entry(self) -> Product | None:
        return PRODUCTS.get(self.product)

    @property
    def max_domains(self) -> int:
        """The product's domains plus those of the add-ons that have not ended."""
        return limits(self, self.catalogue_entry)[0]

    @property
    def terminated(self) -> bool:
        return self.status == "terminated"


# --- usage ---------------------------------------------------------------------------------


def check_usage(*, storage_used_gb: int, mailboxes_used: int, databases_used: int) -> None:
    for name, value in (
        ("storage_used_gb", storage_used_gb),
        ("mailboxes_used", mailboxes_used),
        ("databases_used", databases_used),
    ):
        if value < 0 or value > 10_000_000:
            raise InvalidInput("Usage figures are whole numbers from 0.", field=name)


def limits(package: Package, product: Product | None) -> tuple[int, int, int]:
    """(domains, mailboxes, databases) the package may have with `product`: the product's
    limits raised by each add-on that has not ended."""
    domains = product.max_domains if product else 0
    mailboxes = product.mailboxes if product else 0
    databases = product.databases if product else 0
    for addon in package.addons:
        entry = addon.catalogue_entry
        if addon.counts and entry is not None:
            domains, mailboxes, databases = (
                domains + entry.domains,
                mailboxes + entry.mailboxes,
                databases + entry.databases,
            )
    return domains, mailboxes, databases


def misfits(package: Package, product: Product) -> list[str]:
    """Why the package's domains and usage do not fit into `product` with the package's add-ons
    (empty: it fits)."""

    def counted(n: int, singular: str, plural: str) -> str:
        return f"{n} {singular if n == 1 else plural}"

    reasons = []
    max_domains, mailboxes, databases = limits(package, product)
    checks = (
        (len(package.domains), max_domains, product.max_domains, "domain", "domains"),
        (package.mailboxes_used, mailboxes, product.mailboxes, "mailbox", "mailboxes"),
        (package.databases_used, databases, product.databases, "database", "databases"),
    )
    for used, limit, product_limit, singular, plural in checks:
        if used > limit:
            extra = " with the package's add-ons" if limit != product_limit else ""
            reasons.append(
                f"The package has {counted(used, singular, plural)}; "
                f"{product.name} allows {counted(limit, singular, plural)}{extra}."
            )
    if package.storage_used_gb > product.storage_gb:
        reasons.append(
            f"The package has {package.storage_used_gb} GB of storage in use; "
            f"{product.name} allows {product.storage_gb} GB."
        )
    return reasons


# --- product change (upgrade in the package administration, downgrade online) ---------------


def _ensure_active(package: Package) -> None:
    if package.terminated:
        raise Conflict(
            f"The package {package.id} is terminated and can no longer be changed.", code="package_terminated"
        )


def change_product(package: Package, product_code: str) -> str:
    """Moves the package to another product; returns the direction, "upgrade" or "downgrade".

    A downgrade is only possible when the domains and the usage fit the smaller product's limits.
    """
    target = check_product(product_code)
    _ensure_active(package)
    if target.code == package.product:
        raise Conflict(f"The package already is {target.name}.", code="same_product")
    direction = change_direction(package, target.code)
    reasons = misfits(package, target)
    if reasons:
        raise Conflict(" ".join(reasons), code="package_does_not_fit")
    package.product = target.code
    return direction


def change_direction(package: Package, product_code: str) -> str:
    """The direction a change to `product_code` would have, without changing anything."""
    target = check_product(product_code)
    current = package.catalogue_entry
    if current is None or target.rank >= current.rank:
        return "upgrade"
    return "downgrade"


# --- package splitting ------------------------------------------------------------------------


def move_domain(source: Package, domain: str, target: Package) -> None:
    """Moves a domain of `source` to `target` as an additional domain.

    Never the last domain of a package; the target must have room by its product's max_domains.
    """
    _ensure_active(source)
    _ensure_active(target)
    if target.id == source.id:
        raise InvalidInput("The domain already belongs to this package.", field="target_package_id")
    if domain not in source.domains:
        # Well-formed, but not one of this package's domains now: 404, like an unknown package.
        raise NotFound(f"The package has no domain {domain}.", code="domain_not_found", field="domain")
    if len(source.domains) == 1:
        raise Conflict(
            f"{domain} is the only domain of the package; a package keeps at least one domain.",
            code="last_domain",
        )
    limit = target.max_domains
    if len(target.domains) >= limit:
        name = target.catalogue_entry.name if target.catalogue_entry else target.product
        raise Conflict(
            f"The target package has {len(target.domains)} of {limit} domains {name} and its add-ons allow.",
            code="package_full",
        )
    source.domains.remove(domain)
    target.domains.append(domain)


def split_off(source: Package, domain: str, product_code: str = "") -> Package:
    """Moves a domain of `source` into a new independent package of the same customer number
    (with `product_code`, default the smallest product)."""
    product = check_product(product_code) if product_code else smallest_product()
    new = Package(id=new_package_id(), customer_number=source.customer_number, product=product.code)
    move_domain(source, domain, new)
    return new


# --- technical settings (what a package login may change) ------------------------------------


@dataclass(frozen=True)
class Setting:
    default: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def normalise(self, key: str, raw: str) -> str:
        value = (raw or "").strip().lower()
        if self.choices:
            if value not in self.choices:
                raise InvalidInput(f"{key} is one of {', '.join(self.choices)}.", field=f"settings.{key}")
            return value
        if not value.isdigit() or not (self.minimum or 0) <= int(value) <= (self.maximum or 0):
            raise InvalidInput(
                f"{key} is a whole number from {self.minimum} to {self.maximum}.", field=f"settings.{key}"
            )
        return str(int(value))


# The names and values are shared with the gateway, which documents them (cc_common/rules/package_settings.py).
SETTINGS: dict[str, Setting] = {
    "php_version": Setting(package_settings.DEFAULTS["php_version"], choices=package_settings.PHP_VERSIONS),
    "https_redirect": Setting(package_settings.DEFAULTS["https_redirect"], choices=package_settings.SWITCH),
    "www_redirect": Setting(
        package_settings.DEFAULTS["www_redirect"], choices=package_settings.WWW_REDIRECTS
    ),
    "php_memory_limit_mb": Setting(
        package_settings.DEFAULTS["php_memory_limit_mb"],
        minimum=package_settings.PHP_MEMORY_LIMIT_MB[0],
        maximum=package_settings.PHP_MEMORY_LIMIT_MB[1],
    ),
}


def effective_settings(package: Package) -> dict[str, str]:
    """Every setting with its value: the stored one or the default."""
    return {key: package.settings.get(key, s.default) for key, s in SETTINGS.items()}


def update_settings(package: Package, changes: dict[str, str]) -> dict[str, str]:
    """Validates all changes first, then applies them; returns the effective settings."""
    if not changes:
        raise InvalidInput("Name at least one setting to change.", field="settings")
    _ensure_active(package)
    checked = {}
    for key, raw in changes.items():
        setting = SETTINGS.get(key)
        if setting is None:
            raise InvalidInput(
                f"Unknown setting {key!r}; the settings are {', '.join(SETTINGS)}.", field=f"settings.{key}"
            )
        checked[key] = setting.normalise(key, raw)
    package.settings.update(checked)
    return effective_settings(package)


# --- additional services (add-ons) -----------------------------------------------------------


def check_addon_kind(kind: str) -> AddonKind:
    found = ADDONS.get((kind or "").strip().lower())
    if found is None:
        raise InvalidInput(f"Unknown add-on {kind!r}; choose one of {', '.join(ADDONS)}.", field="kind")
    return found


def order_addon(package: Package, kind: str, *, market: str, now: datetime) -> Addon:
    """A new active add-on of `kind` at the catalogue's monthly price in the owner's `market`;
    a terminated package orders nothing (package_terminated)."""
    entry = check_addon_kind(kind)
    price = entry.price_in(market)
    if price is None:
        raise InvalidInput(f"Unknown market {market!r}; one of {', '.join(MARKETS)}.", field="market")
    _ensure_active(package)
    addon = Addon(
        id=new_addon_id(),
        package_id=package.id,
        kind=entry.kind,
        price_cents=price.monthly_price_cents,
        currency=price.currency,
        ordered_at=now,
    )
    package.addons.append(addon)
    return addon


def addon_of(package: Package, addon_id: str) -> Addon:
    for addon in package.addons:
        if addon.id == addon_id:
            return addon
    raise NotFound("The package has no such add-on.")


def set_addon_end(package: Package, addon_id: str, ends_on: date | None) -> Addon:
    """A termination of the add-on was placed (it ends on `ends_on`) or retracted (None: active
    again). An ended add-on stays ended (addon_ended)."""
    addon = addon_of(package, addon_id)
    if addon.status == "ended":
        raise Conflict("This add-on has already ended.", code="addon_ended")
    addon.status, addon.ends_at = ("terminated", ends_on) if ends_on else ("active", None)
    return addon


def end_addon(package: Package, addon_id: str, day: date) -> Addon:
    """The add-on's termination took effect on `day`. Idempotent: an ended add-on stays as it is."""
    addon = addon_of(package, addon_id)
    if addon.status != "ended":
        addon.status, addon.ends_at = "ended", day
    return addon


def end_all_addons(package: Package, day: date) -> None:
    """The package ended: so did every add-on of it."""
    for addon in package.addons:
        if addon.status != "ended":
            addon.status, addon.ends_at = "ended", day
