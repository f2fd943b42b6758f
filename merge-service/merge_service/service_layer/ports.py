"""What the merge needs from the other services. The gRPC adapter implements it
(adapters/clients.py); unit tests use an in-memory fake."""

from __future__ import annotations

from typing import Protocol


class Backends(Protocol):
    def verify_customer_password(
        self, *, customer_number: str, password: str, client_address: str, second_factor_code: str = ""
    ) -> None:
        """Raises Unauthenticated(invalid_credentials), TooManyAttempts, or
        Conflict(customer_number_merged) for a retired number. When the number has a second
        factor, `second_factor_code` completes the login (a wrong one:
        Unauthenticated(invalid_credentials)); none: Unauthenticated(second_factor_required)."""

    def verify_domain_password(
        self, *, customer_number: str, domain: str, password: str, client_address: str
    ) -> None:
        """The domain must belong to a package of customer_number and the password must be that
        package's password; otherwise Unauthenticated(invalid_credentials)."""

    def customer_snapshot(self, customer_number: str) -> dict[str, str]:
        """Master data with raw payment values: market, status, email, names, address,
        phone, mobile, iban, bic, card_last4, card_expiry. NotFound when unknown."""

    def set_customer_status(
        self, *, merge_id: str, customer_numbers: list[str], status: str, merged_into: str = ""
    ) -> None:
        """frozen / active / retired in contract-service (idempotent)."""

    def transfer_packages(
        self, *, merge_id: str, source: str, target: str, reverse: bool
    ) -> dict[str, list[str]]:
        """Moves packages (idempotent per merge and direction); returns the moved ids by kind."""

    def transfer_contracts(
        self, *, merge_id: str, source: str, target: str, reverse: bool
    ) -> dict[str, list[str]]:
        """Moves invoices, contracts and terminations; returns the moved ids by kind."""

    def retire_credentials(self, *, merge_id: str, source: str, target: str) -> None:
        """identity-service: the source number answers customer_number_merged and every token
        of it dies."""

    def restore_credentials(self, *, merge_id: str, source: str) -> None:
        """identity-service: the source number can sign in again (reversal)."""
