"""Use cases of contract-service: one function each, keyword-only arguments.

Ownership is decided here from the verified caller, never from a plain request field: a
customer token reaches only its own customer number.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from cc_common.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NotFound
from cc_common.tokens import Principal

from contract_service.domain import model
from contract_service.service_layer.unit_of_work import UnitOfWork

_NOT_FOUND = "No customer has this customer number."
_ALLOCATION_ATTEMPTS = 20


def _today() -> date:
    return datetime.now(UTC).date()


def owned_customer_number(caller: Principal, requested: str) -> str:
    """The customer number a call is about: a customer's own (the request field is ignored),
    or for staff and service the one named in the request."""
    if caller.kind == "customer":
        if not caller.customer_number:
            raise Forbidden("This login is not bound to a customer number.")
        return caller.customer_number
    if caller.kind in ("staff", "service"):
        return model.check_customer_number(requested)
    raise Forbidden("This kind of login may not do this.")


def _require_active(customer: model.Customer) -> None:
    if customer.status != "active":
        raise Conflict(
            f"Customer number {customer.customer_number} is {customer.status}; it cannot be changed now.",
            code="customer_not_active",
        )


def create_customer(
    *,
    uow: UnitOfWork,
    market: str,
    master_data: dict[str, str],
    payment: model.PaymentInput | None = None,
    customer_number: str = "",
    today: date | None = None,
) -> model.Customer:
    """Checks and stores a new customer. A customer number chosen by staff must be free
    (ALREADY_EXISTS customer_number_taken); otherwise a random one is allocated."""
    chosen = model.check_customer_number(customer_number) if customer_number.strip() else ""
    m = model.check_market(market)
    data = model.normalise_master_data(m, master_data)
    checked_payment = model.check_payment(payment, today=today or _today()) if payment else None
    for _ in range(_ALLOCATION_ATTEMPTS):
        number = chosen or model.new_customer_number()
        customer = model.Customer(customer_number=number, market=m.code, payment=checked_payment, **data)
        with uow:
            if uow.customers.exists(number):
                if chosen:
                    raise _taken(number)
                continue
            try:
                uow.customers.add(customer)
            except model.CustomerTaken:
                if chosen:
                    raise _taken(number) from None
                continue
            uow.commit()
        return customer
    raise RuntimeError("could not allocate a free customer number")  # pragma: no cover


def _taken(number: str) -> AlreadyExists:
    return AlreadyExists(
        f"Customer number {number} is already taken.", code="customer_number_taken", field="customer_number"
    )


def get_customer(*, uow: UnitOfWork, caller: Principal, customer_number: str = "") -> model.Customer:
    number = owned_customer_number(caller, customer_number)
    with uow:
        customer = uow.customers.get(number)
    if customer is None:
        raise NotFound(_NOT_FOUND)
    return customer


def set_payment(
    *,
    uow: UnitOfWork,
    caller: Principal,
    customer_number: str = "",
    payment: model.PaymentInput,
    today: date | None = None,
) -> model.Customer:
    """Replaces the payment data of a customer (PUT /customer/payment; staff on its behalf)."""
    number = owned_customer_number(caller, customer_number)
    checked = model.check_payment(payment, today=today or _today())
    if checked is None:
        raise InvalidInput("Give a bank account (IBAN and BIC) or a card.", field="payment")
    with uow:
        customer = uow.customers.get(number)
        if customer is None:
            raise NotFound(_NOT_FOUND)
        _require_active(customer)
        customer.updated_at = uow.customers.set_payment(number, checked)
        uow.commit()
    customer.payment = checked
    return customer


def create_invoice(
    *,
    uow: UnitOfWork,
    customer_number: str,
    amount_cents: int,
    currency: str = "",
    status: str = "",
    invoice_date: str = "",
    today: date | None = None,
) -> model.Invoice:
    number = model.check_customer_number(customer_number)
    amount = model.check_amount(amount_cents)
    checked_status = model.check_invoice_status(status)
    day = model.check_invoice_date(invoice_date, today=today or _today())
    with uow:
        customer = uow.customers.get(number)
        if customer is None:
            raise NotFound(_NOT_FOUND)
        _require_active(customer)
        checked_currency = model.check_currency(currency, market=model.MARKETS[customer.market])
        seq = uow.invoices.next_seq()
        invoice = model.Invoice(
            number=model.invoice_number(seq),
            customer_number=number,
            date=day,
            amount_cents=amount,
            currency=checked_currency,
            status=checked_status,
            seq=seq,
        )
        uow.invoices.add(invoice)
        uow.commit()
    return invoice


def list_invoices(*, uow: UnitOfWork, caller: Principal, customer_number: str = "") -> list[model.Invoice]:
    """Newest first. A customer lists its own; staff and service name an existing number."""
    number = owned_customer_number(caller, customer_number)
    with uow:
        if caller.kind != "customer" and not uow.customers.exists(number):
            raise NotFound(_NOT_FOUND)
        return uow.invoices.list_for_customer(number)
