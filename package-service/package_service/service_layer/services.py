"""Use cases of package-service: one function each, keyword-only arguments.

Ownership is decided here from the verified caller, never from a plain request field.
"""

from __future__ import annotations

from cc_common.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from cc_common.faults import crash_point
from cc_common.tokens import Principal
from package_service.domain import model
from package_service.service_layer.unit_of_work import UnitOfWork

_NOT_FOUND = "No such package."


def create_package(
    *, uow: UnitOfWork, customer_number: str, product: str, domains: list[str]
) -> model.Package:
    if not customer_number.isdigit():
        raise InvalidInput("A customer number consists of digits.", field="customer_number")
    model.check_product(product)
    if not domains:
        raise InvalidInput("A package needs at least one domain.", field="domains")
    if len(domains) > model.MAX_DOMAINS_PER_REQUEST:
        raise InvalidInput("Too many domains in one request.", field="domains")
    names = [model.normalise_domain(d, field_name="domains") for d in domains]
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
    with uow:
        if caller.kind == "package":
            package = uow.packages.get(caller.package_id or "")
            return [package] if package else []
        if caller.kind == "customer":
            return uow.packages.list_for_customer(caller.customer_number or "")
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
    name = model.normalise_domain(domain)
    with uow:
        package = uow.packages.by_domain(name)
    if package is None:
        raise NotFound("No package has this domain.")
    return package


def transfer_packages(*, uow: UnitOfWork, merge_id: str, source: str, target: str, reverse: bool) -> list[str]:
    """A merge step: idempotent per merge and direction, one transaction, set-based."""
    if not merge_id or not source.isdigit() or not target.isdigit() or source == target:
        raise InvalidInput("A transfer needs a merge id and two different customer numbers.")
    direction = "reverse" if reverse else "forward"
    with uow:
        done = uow.packages.applied_transfer(merge_id, direction)
        if done is not None:
            return done
        if reverse:
            ids = uow.packages.transfer_reverse(merge_id, source, target)
        else:
            ids = uow.packages.transfer_forward(merge_id, source, target)
        uow.packages.record_applied(merge_id, direction, ids)
        uow.commit()
    crash_point("package:after_commit:TransferPackages")
    return ids


def count_packages(*, uow: UnitOfWork, customer_numbers: list[str]) -> dict[str, int]:
    with uow:
        return uow.packages.count_by_owner(customer_numbers)
