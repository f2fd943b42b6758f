"""Packages, products, product changes, settings and splitting (/api/v1/packages/..., /api/v1/products)."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from cc_common.errors import InvalidInput
from cc_common.protoconv import enum_name
from cc_common.rules import package_settings
from customercenter.v2 import package_pb2
from pydantic import ConfigDict, StrictBool, model_validator

from gateway_app.schemas import MAX_OPAQUE_ID, Answer, Body, fields, money, omitted

PACKAGE_ID = {"type": "string", "minLength": 1, "maxLength": MAX_OPAQUE_ID, "description": "e.g. pkg_3f2a9c"}
# Each setting with its own values (cc_common/rules/package_settings.py); a value may also come
# as the text package-service stores (true/false, digits), in any case and with surrounding space.
_LOWEST, _HIGHEST = package_settings.PHP_MEMORY_LIMIT_MB
MEMORY_PATTERN = "\\s*0*(?:6[4-9]|[7-9][0-9]|[1-9][0-9]{2}|10[01][0-9]|102[0-4])\\s*"
if not re.fullmatch(MEMORY_PATTERN, str(_LOWEST)) or not re.fullmatch(MEMORY_PATTERN, str(_HIGHEST)):
    raise RuntimeError("MEMORY_PATTERN does not match cc_common/rules/package_settings.py")
AddonKindName = Literal["extra_domain_slot", "mailbox_pack", "database"]


class Usage(Answer):
    storage_used_gb: int
    mailboxes_used: int
    databases_used: int
    EXAMPLE: ClassVar = {"storage_used_gb": 2, "databases_used": 0}


class Package(Answer):
    """A package; customer_number only where package-service gave it (never to a package login)"""

    id: str
    customer_number: str = omitted()
    product: str
    product_name: str | None
    max_domains: int | None
    max_mailboxes: int = omitted()
    max_databases: int = omitted()
    domains: list[str]
    status: fields.ActiveOrTerminated
    created_at: str | None
    usage: Usage
    EXAMPLE: ClassVar = {
        "id": "pkg_3f2a9c", "customer_number": "10001", "product_name": "Hosting Basic", "max_domains": 1,
        "max_mailboxes": 5, "max_databases": 1, "domains": ["example.com"], "created_at": "2026-01-01T09:00:00+00:00",
    }  # fmt: skip


class PackageList(Answer):
    """The packages the token may see"""

    packages: list[Package]


class Price(Answer):
    market: fields.MarketName
    monthly_price: fields.Money
    currency: str


class ProductInfo(Answer):
    """A product of the catalogue; rank 1 is the smallest"""

    code: str
    name: str
    rank: int
    max_domains: int
    storage_gb: int
    mailboxes: int
    databases: int
    prices: list[Price]
    EXAMPLE: ClassVar = {"code": "hosting-basic", "name": "Hosting Basic", "storage_gb": 10, "mailboxes": 5}


class ProductList(Answer):
    """The product catalogue, smallest first, with limits and monthly prices per market"""

    products: list[ProductInfo]


class ProductChange(Package):
    """The changed package, with the direction of the change and the product before it"""

    direction: Literal["upgrade", "downgrade"]
    from_product: str
    EXAMPLE: ClassVar = {"product": "hosting-pro", "from_product": "hosting-basic"}

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> ProductChange:
        direction = enum_name(package_pb2.ChangeDirection, message.direction)
        return super().from_proto(message.package, direction=direction, from_product=message.from_product)


class DomainMove(Answer):
    """Both packages after a split; created is true when the target is a new package"""

    source: Package
    target: Package
    created: bool
    EXAMPLE: ClassVar = {"target": {**Package.EXAMPLE, "id": "pkg_4b1d", "domains": ["example.org"]}, "created": True}  # fmt: skip


class PackageSettings(Answer):
    """The technical settings: php_version (8.1, 8.2, 8.3), https_redirect (true, false),
    www_redirect (none, to_www, from_www), php_memory_limit_mb (64..1024)"""

    package_id: str
    settings: dict[str, str]
    EXAMPLE: ClassVar = {"settings": {"https_redirect": "true", "php_version": "8.3"}}


class ProductChoice(Body):
    product: fields.Product
    EXAMPLE: ClassVar = {"product": "hosting-pro"}


class PackagePassword(Body):
    new_password: fields.NewPassword


class Settings(Body):
    """At least one setting, each with its own values; no other name"""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})
    php_version: fields.choice(*package_settings.PHP_VERSIONS) = omitted()
    https_redirect: StrictBool | fields.choice(*package_settings.SWITCH) = omitted()
    www_redirect: fields.choice(*package_settings.WWW_REDIRECTS) = omitted()
    php_memory_limit_mb: fields.whole(_LOWEST, _HIGHEST) | fields.matching(
        MEMORY_PATTERN, f"{{field}} is a whole number from {_LOWEST} to {_HIGHEST}.", max_len=64
    ) = omitted()

    @model_validator(mode="after")
    def _at_least_one(self) -> Settings:
        if not self.given():
            raise InvalidInput("Name at least one setting to change.", field="settings")
        return self


class SettingsUpdate(Body):
    """Settings to change (all are checked by package-service before any is stored)."""

    settings: Settings
    EXAMPLE: ClassVar = {"settings": {"php_version": "8.3", "https_redirect": True}}

    def as_strings(self) -> dict[str, str]:
        """The values as package-service takes them: true/false, numbers as digits."""
        given = self.settings.given().items()
        return {key: str(value).lower() if isinstance(value, bool) else str(value).strip() for key, value in given}  # fmt: skip


class Split(Body):
    """Move a domain into target_package_id, or into a new package of product (default the smallest)."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["target_package_id", "product"]}})
    domain: fields.Domain
    target_package_id: fields.OpaqueId = omitted()
    product: fields.Product = omitted()
    EXAMPLE: ClassVar = {"domain": "example.org"}

    @model_validator(mode="after")
    def _product_only_for_a_new_package(self) -> Split:
        if self.target_package_id is not None and self.product is not None:
            raise InvalidInput(
                "product is only for a new package; leave it out when the domain moves into target_package_id.",
                field="product",
            )
        return self


class Addon(Answer):
    """An additional service of a package. price and currency: the monthly price it was ordered
    at (the owner's market). status: active; terminated (a termination is in place, it ends on
    ends_at); ended (since ends_at). ends_at: a day, null while active"""

    id: str
    package_id: str
    kind: AddonKindName
    price: fields.Money
    currency: str
    status: Literal["active", "terminated", "ended"]
    ordered_at: fields.DateTime
    ends_at: fields.Date
    EXAMPLE: ClassVar = {"id": "add_3f2a9c", "price": 1.99, "ends_at": None}

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> Addon:
        return super().from_proto(message, price=money(message.monthly_price_cents))


class AddonOffer(Answer):
    """An add-on of the catalogue: what it adds to the package's limits (domains, mailboxes,
    databases) and its monthly prices per market"""

    kind: AddonKindName
    name: str
    domains: int
    mailboxes: int
    databases: int
    prices: list[Price]
    EXAMPLE: ClassVar = {"name": "Extra domain slot", "mailboxes": 0, "databases": 0}


class AddonList(Answer):
    """The package's add-ons, ended ones included, oldest first (addons), and the catalogue of
    add-ons that can be ordered, with monthly prices per market (available)"""

    addons: list[Addon]
    available: list[AddonOffer]


class AddonOrder(Body):
    """The kind of add-on to order for the package."""

    kind: AddonKindName
    EXAMPLE: ClassVar = {"kind": "mailbox_pack"}


class PackageStart(Answer):
    """A single sign-on link into the package's administration: valid 60 seconds, single use"""

    url: str
    EXAMPLE: ClassVar = {"url": "https://customer-center.example/packages/sso?token=eyJhbGciOiJFZERTQSIs..."}
