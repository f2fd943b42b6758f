"""What contract-service stores of a customer number that has no list of its own elsewhere:
repeat-debit requests, offer orders, contact requests (for the customer's data export)."""

from __future__ import annotations

from dataclasses import dataclass

from cc_common.tokens import Principal

from contract_service.domain.contact import ContactRequest
from contract_service.domain.model import DebitRequest
from contract_service.domain.offers import OfferOrder
from contract_service.service_layer import services
from contract_service.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CustomerRecords:
    debit_requests: list[DebitRequest]
    offer_orders: list[OfferOrder]
    contact_requests: list[ContactRequest]


def customer_records(*, uow: UnitOfWork, caller: Principal) -> CustomerRecords:
    """The caller's own records (customer token only), each list newest first. Contact
    requests are those of the number and of the logins of its packages (by its contracts)."""
    number = services._customer_only(caller)
    with uow:
        packages = sorted({c.package_id for c in uow.contracts.list_for_customer(number)})
        return CustomerRecords(
            debit_requests=uow.invoices.debit_requests_of(number),
            offer_orders=uow.offers.orders_of(number),
            contact_requests=uow.contact_requests.of_writers(number, packages),
        )
