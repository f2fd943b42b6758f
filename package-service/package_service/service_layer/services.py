"""Use cases of package-service: one function each, keyword-only arguments.

Ownership is decided here from the verified caller, never from a plain request field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from cc_common.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NotFound
from cc_common.faults import crash_point
from cc_common.rules.domains import normalise_domain
from cc_common.tokens import Principal
from sqlalchemy.exc import IntegrityError

from package_service.adapters.repository import packages_of
from package_service.domain import catalogue, model
from package_service.service_layer.unit_of_work import UnitOfWork

_NOT_FOUND = "No such package."


def create_package(
    *, uow: UnitOfWork, customer_number: str, product: str, domains: list[str]
) -> model.Package:
    if not customer_number.isdigit():
        raise InvalidInput("A customer number consists of digits.", field="customer_number")
    product = model.check_product(product).code
    if not domains:
        raise InvalidInput("A package needs at least one domain.", field="domains")
    if len(domains) > model.MAX_DOMAINS_PER_REQUEST:
        raise InvalidInput("Too many domains in one request.", field="domains")
    names = [normalise_domain(d, field_name="domains") for d in domains]
    if len(set(names)) != len(names):
        raise InvalidInput("A domain is listed twice.", field="domains")
    package = model.Package(
        id=model.new_package_id(), customer_number=customer_number, product=product, domains=names
    )
    with uow:
        taken = uow.packages.taken_domains(names)
        if taken:
            raise AlreadyExists(
                f"The domain {taken[0]} already belongs to a package.", code="domain_taken", field="domains"
            )
        uow.packages.add(package)
        uow.commit()
    return package


def list_packages(*, uow: UnitOfWork, caller: Principal, customer_number: str = "") -> list[model.Package]:
    if caller.kind == "customer":  # the hot path: a read on a plain connection, no session
        with uow.reading() as connection:
            return packages_of(connection, caller.customer_number or "")
    with uow:
        if caller.kind == "package":
            package = uow.packages.get(caller.package_id or "")
            return [package] if package else []
        if not customer_number:
            raise InvalidInput("Name the customer number.", field="customer_number")
        return uow.packages.list_for_customer(customer_number)


def get_package(*, uow: UnitOfWork, caller: Principal, package_id: str) -> model.Package:
    with uow:
        package = uow.packages.get(package_id)
    if package is None or not may_see(caller, package):
        raise NotFound(_NOT_FOUND)
    return package


def may_see(caller: Principal, package: model.Package) -> bool:
    if caller.kind in ("staff", "service"):
        return True
    if caller.kind == "package":
        return caller.package_id == package.id
    if caller.kind == "customer":
        return caller.customer_number == package.customer_number
    return False


def resolve_domain(*, uow: UnitOfWork, caller: Principal, domain: str) -> model.Package:
    if caller.kind != "service":
        raise Forbidden("Only the gateway may resolve domains.")
    name = normalise_domain(domain)
    with uow:
        package = uow.packages.by_domain(name)
    if package is None or package.terminated:
        raise NotFound("No package has this domain.")
    return package


def end_package(*, uow: UnitOfWork, package_id: str, domain: str = "") -> model.Package:
    """A termination took effect: the domain leaves the package, or (no domain) the package
    ends. Idempotent: an ended package or a domain already gone changes nothing."""
    name = normalise_domain(domain) if (domain or "").strip() else ""
    with uow:
        package = uow.packages.get_for_update(package_id)
        if package is None:
            raise NotFound("There is no such package.")
        if name and name in package.domains:
            package.domains = [d for d in package.domains if d != name]
        elif not name:
            package.status = "terminated"
            model.end_all_addons(package, datetime.now(UTC).date())
        uow.packages.save(package)
        uow.commit()
    return package


def transfer_packages(
    *, uow: UnitOfWork, merge_id: str, source: str, target: str, reverse: bool
) -> list[str]:
    """A merge step: idempotent per merge and direction, one transaction, set-based."""
    if not merge_id or not source.isdigit() or not target.isdigit() or source == target:
        raise InvalidInput("A transfer needs a merge id and two different customer numbers.")
    direction = "reverse" if reverse else "forward"
    try:
        with uow:
            done = uow.packages.applied_transfer(merge_id, direction)
            if done is not None:
                return done
            if not reverse and uow.packages.applied_transfer(merge_id, "reverse") is not None:
                # A late forward call after the merge was undone must not move anything.
                raise Conflict("This merge's transfer was reversed already.", code="transfer_reversed")
            if reverse:
                ids = uow.packages.transfer_reverse(merge_id, source, target)
            else:
                ids = uow.packages.transfer_forward(merge_id, source, target)
            uow.packages.record_applied(merge_id, direction, ids)
            crash_point("package:before_commit:TransferPackages")
            uow.commit()
    except IntegrityError:
        # The same step ran at the same moment (a retry racing the first call): its record wins.
        with uow:
            done = uow.packages.applied_transfer(merge_id, direction)
        if done is None:
            raise
        return done
    crash_point("package:after_commit:TransferPackages")
    return ids


def count_packages(*, uow: UnitOfWork, customer_numbers: list[str]) -> dict[str, int]:
    with uow:
        return uow.packages.count_by_owner(customer_numbers)


# --- catalogue, usage, settings ------------------------------------------------------------


def list_products() -> list[catalogue.Product]:
    return catalogue.products_in_order()


def _owned(uow: UnitOfWork, caller: Principal, package_id: str, *, lock: bool = False) -> model.Package:
    package = uow.packages.get_for_update(package_id) if lock else uow.packages.get(package_id)
    if package is None or not may_see(caller, package):
        raise NotFound(_NOT_FOUND)
    return package


def set_usage(
    *, uow: UnitOfWork, package_id: str, storage_used_gb: int, mailboxes_used: int, databases_used: int
) -> model.Package:
    """Staff (tests, demo): the usage figures the hosting platform would report."""
    model.check_usage(
        storage_used_gb=storage_used_gb, mailboxes_used=mailboxes_used, databases_used=databases_used
    )
    with uow:
        package = uow.packages.get_for_update(package_id)
        if package is None:
            raise NotFound(_NOT_FOUND)
        package.storage_used_gb = storage_used_gb
        package.mailboxes_used = mailboxes_used
        package.databases_used = databases_used
        uow.packages.save(package)
        uow.commit()
    return package


def get_settings(*, uow: UnitOfWork, caller: Principal, package_id: str) -> dict[str, str]:
    with uow:
        package = _owned(uow, caller, package_id)
    return model.effective_settings(package)


def update_settings(
    *, uow: UnitOfWork, caller: Principal, package_id: str, changes: dict[str, str]
) -> dict[str, str]:
    """The technical administration: the owner's customer login, the package's own login, staff."""
    with uow:
        package = _owned(uow, caller, package_id, lock=True)
        settings = model.update_settings(package, changes)
        uow.packages.save(package)
        uow.commit()
    return settings


# --- product change ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductChange:
    package: model.Package
    direction: str  # upgrade, downgrade
    from_product: str


def change_product(
    *, uow: UnitOfWork, caller: Principal, package_id: str, product: str, expected_direction: str = ""
) -> ProductChange:
    """Upgrade or downgrade (refused when the domains or the usage do not fit the smaller
    product). Both change the contract and the price, so only the customer login may: a
    package login administrates its package technically and makes no contractual change."""
    if caller.kind != "customer":
        raise Forbidden(
            "Changing the product is a contractual change: the contract holder orders it with the customer login."
        )
    model.check_product(product)
    with uow:
        package = _owned(uow, caller, package_id, lock=True)
        direction = model.change_direction(package, product)
        if (
            expected_direction
            and direction != expected_direction
            and model.check_product(product).code != package.product
        ):
            code = "not_a_downgrade" if expected_direction == "downgrade" else "not_an_upgrade"
            raise Conflict(
                f"{model.check_product(product).name} is {'larger' if direction == 'upgrade' else 'smaller'} "
                f"than the package's product: this is not a{'n' if expected_direction == 'upgrade' else ''} "
                f"{expected_direction}.",
                code=code,
                field="product",
            )
        before = package.product
        direction = model.change_product(package, product)
        uow.packages.save(package)
        uow.packages.record_product_change(
            package_id=package.id,
            from_product=before,
            to_product=package.product,
            direction=direction,
            changed_by=caller.subject,
        )
        uow.commit()
    return ProductChange(package=package, direction=direction, from_product=before)


# --- package splitting ---------------------------------------------------------------------


@dataclass(frozen=True)
class DomainMove:
    source: model.Package
    target: model.Package
    created: bool  # the target is a new package


def move_domain(
    *,
    uow: UnitOfWork,
    caller: Principal,
    package_id: str,
    domain: str,
    target_package_id: str = "",
    product: str = "",
) -> DomainMove:
    """Package splitting: a domain leaves its package, either as an additional domain of another
    package of the same customer number or as a new independent package (default product: the
    smallest). Customer login only; one transaction."""
    if caller.kind != "customer":
        raise Forbidden("Only the customer login may split packages.")
    name = normalise_domain(domain)
    if target_package_id and product:
        raise InvalidInput("Name either a target package or a product for a new package.", field="product")
    if product:
        model.check_product(product)
    with uow:
        # Lock both rows in id order, so that two crossing moves cannot deadlock.
        ids = sorted({package_id, target_package_id} - {""})
        locked = {i: _owned(uow, caller, i, lock=True) for i in ids}
        source = locked[package_id]
        if target_package_id:
            target = locked[target_package_id]
            model.move_domain(source, name, target)
            uow.packages.save(target)
            uow.packages.save(source)
            created = False
        else:
            target = model.split_off(source, name, product)
            uow.packages.add(target)
            uow.packages.save(source)
            created = True
        uow.commit()
    return DomainMove(source=source, target=target, created=created)


# --- additional services (add-ons) ---------------------------------------------------------


def list_addons(*, uow: UnitOfWork, caller: Principal, package_id: str) -> model.Package:
    """The package with its add-ons (ended ones included): the owner's customer login, the
    package's own login, staff."""
    with uow:
        return _owned(uow, caller, package_id)


def list_addon_kinds() -> list[catalogue.AddonKind]:
    return catalogue.addons_in_order()


def order_addon(
    *,
    uow: UnitOfWork,
    caller: Principal,
    package_id: str,
    kind: str,
    market: str,
    now: datetime | None = None,
) -> model.Addon:
    """Orders an add-on at the monthly price of the owner's market (the gateway names it from
    the customer record at contract-service). A contractual change: the customer login only."""
    if caller.kind != "customer":
        raise Forbidden(
            "Ordering an add-on is a contractual change: the contract holder orders it with the customer login."
        )
    model.check_addon_kind(kind)
    with uow:
        package = _owned(uow, caller, package_id, lock=True)
        addon = model.order_addon(package, kind, market=market, now=now or datetime.now(UTC))
        uow.packages.save(package)
        uow.commit()
    return addon


def set_addon_end(
    *, uow: UnitOfWork, caller: Principal, package_id: str, addon_id: str, ends_on: str
) -> model.Addon:
    """A termination of the add-on was placed at contract-service (it ends on `ends_on`) or
    retracted (`ends_on` empty): the owner's customer login, after contract-service took it."""
    if caller.kind != "customer":
        raise Forbidden("Only the contract holder's customer login terminates add-ons.")
    day = _iso_day(ends_on) if ends_on else None
    with uow:
        package = _owned(uow, caller, package_id, lock=True)
        addon = model.set_addon_end(package, addon_id, day)
        uow.packages.save(package)
        uow.commit()
    return addon


def end_addon(*, uow: UnitOfWork, package_id: str, addon_id: str, ends_on: str) -> model.Addon:
    """The add-on's termination took effect on `ends_on` (contract-service carries them out on
    their date). Idempotent."""
    day = _iso_day(ends_on) if ends_on else datetime.now(UTC).date()
    with uow:
        package = uow.packages.get_for_update(package_id)
        if package is None:
            raise NotFound(_NOT_FOUND)
        addon = model.end_addon(package, addon_id, day)
        uow.packages.save(package)
        uow.commit()
    return addon


def _iso_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("A day is written YYYY-MM-DD.", field="ends_on") from None
