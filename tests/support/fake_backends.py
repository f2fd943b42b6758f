"""An in-memory `Backends` for merge-service tests: the same idempotent semantics as the real
services (transfers keyed by merge id and direction), no network."""

from __future__ import annotations

from cc_common.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    TooManyAttempts,
    Unauthenticated,
)


class FakeBackends:
    def __init__(self) -> None:
        self.customers: dict[str, dict[str, str]] = {}
        self.passwords: dict[str, str] = {}
        self.packages: dict[str, str] = {}  # package id -> owner
        self.domains: dict[str, tuple[str, str]] = {}  # domain -> (package id, password)
        self.invoices: dict[str, str] = {}  # invoice number -> owner
        self.transfers: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.retired: dict[str, str] = {}
        self.unavailable_calls = 0  # the next N calls fail with ServiceUnavailable
        self.fail_step: str | None = None  # a method that fails for good
        self.calls: list[str] = []
        self.failed_logins: dict[str, int] = {}

    def add_customer(self, number: str, password: str = "secret-password", **fields: str) -> None:
        base = {
            "customer_number": number,
            "market": "de",
            "status": "active",
            "company": "",
            "first_name": "Max",
            "last_name": "Mustermann",
            "street": "Hauptstraße 1",
            "zip": "10115",
            "city": "Berlin",
            "country": "DE",
            "phone": "+49301234567",
            "mobile": "",
            "fax": "",
            "email": f"{number}@example.com",
            "iban": "",
            "bic": "",
            "card_last4": "",
            "card_expiry": "",
        }
        base.update(fields)
        self.customers[number] = base
        self.passwords[number] = password

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if self.unavailable_calls > 0:
            self.unavailable_calls -= 1
            raise ServiceUnavailable("down for a moment")
        if self.fail_step == name:
            raise Conflict("refused for good", code="step_refused")

    # Backends -----------------------------------------------------------------------------
    def verify_customer_password(self, *, customer_number, password, client_address, second_factor_code=""):
        if self.failed_logins.get(customer_number, 0) >= 5:
            raise TooManyAttempts("too many", retry_after=60)
        if self.passwords.get(customer_number) != password:
            self.failed_logins[customer_number] = self.failed_logins.get(customer_number, 0) + 1
            raise Unauthenticated("wrong", code="invalid_credentials")
        if customer_number in self.retired:
            raise Forbidden(
                "merged", code="customer_number_merged", extra={"merged_into": self.retired[customer_number]}
            )

    def verify_domain_password(self, *, customer_number, domain, password, client_address):
        package_id, pw = self.domains.get(domain, ("", ""))
        if not package_id or self.packages.get(package_id) != customer_number or pw != password:
            raise Unauthenticated("wrong", code="invalid_credentials")

    def customer_snapshot(self, customer_number):
        if customer_number not in self.customers:
            raise NotFound("no such customer")
        return dict(self.customers[customer_number])

    def set_customer_status(self, *, merge_id, customer_numbers, status, merged_into=""):
        self._enter("set_customer_status")
        for n in customer_numbers:
            self.customers[n]["status"] = status
            self.customers[n]["merged_into"] = merged_into if status == "retired" else ""

    def _transfer(
        self, store: dict[str, str], kind: str, merge_id: str, source: str, target: str, reverse: bool
    ):
        key = (merge_id, kind + (":reverse" if reverse else ""))
        if key in self.transfers:
            return self.transfers[key]
        if not reverse:
            ids = sorted(i for i, owner in store.items() if owner == source)
            for i in ids:
                store[i] = target
        else:
            forward = self.transfers.get((merge_id, kind), {}).get(kind, [])
            ids = [i for i in forward if store.get(i) == target]
            for i in ids:
                store[i] = source
        self.transfers[key] = {kind: ids}
        return self.transfers[key]

    def transfer_packages(self, *, merge_id, source, target, reverse):
        self._enter("transfer_packages")
        return self._transfer(self.packages, "packages", merge_id, source, target, reverse)

    def transfer_contracts(self, *, merge_id, source, target, reverse):
        self._enter("transfer_contracts")
        return self._transfer(self.invoices, "invoices", merge_id, source, target, reverse)

    def retire_credentials(self, *, merge_id, source, target):
        self._enter("retire_credentials")
        self.retired[source] = target

    def restore_credentials(self, *, merge_id, source):
        self._enter("restore_credentials")
        self.retired.pop(source, None)


def check_invariants(fake: FakeBackends, expected_packages: int, expected_invoices: int) -> None:
    """Every record has exactly one owner, an active number; nothing lost or duplicated."""
    assert len(fake.packages) == expected_packages
    assert len(fake.invoices) == expected_invoices
    for store in (fake.packages, fake.invoices):
        for owner in store.values():
            assert fake.customers[owner]["status"] == "active", owner
            assert owner not in fake.retired
    _ = InvalidInput  # re-exported for tests
