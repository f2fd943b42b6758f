"""contract-service use cases with a fake unit of work (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from cc_common.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NotFound
from cc_common.tokens import Principal
from contract_service.domain import model
from contract_service.service_layer import services

from tests.support.fake_notices import FakeEmailRestores, FakeMails

TODAY = date(2026, 5, 15)


class FakeCustomers:
    def __init__(self) -> None:
        self.rows: dict[str, model.Customer] = {}
        self.clash_once: set[str] = set()  # numbers a concurrent call inserts first

    def add(self, customer: model.Customer) -> None:
        if customer.customer_number in self.clash_once:
            self.clash_once.discard(customer.customer_number)
            raise model.CustomerTaken(customer.customer_number)
        customer.created_at = customer.updated_at = datetime.now(UTC)
        self.rows[customer.customer_number] = replace(customer)

    def get(self, customer_number: str) -> model.Customer | None:
        row = self.rows.get(customer_number)
        return replace(row) if row else None

    def exists(self, customer_number: str) -> bool:
        return customer_number in self.rows

    def set_master_data(self, customer_number: str, data: dict[str, str]) -> datetime:
        now = datetime.now(UTC)
        self.rows[customer_number] = self.rows[customer_number].with_master_data(data)
        self.rows[customer_number].updated_at = now
        return now

    def set_payment(self, customer_number: str, payment: model.Payment | None) -> datetime:
        now = datetime.now(UTC)
        self.rows[customer_number].payment = payment
        self.rows[customer_number].updated_at = now
        return now


class FakeInvoices:
    def __init__(self) -> None:
        self.rows: list[model.Invoice] = []
        self.counter = 0

    def next_seq(self) -> int:
        self.counter += 1
        return self.counter

    def add(self, invoice: model.Invoice) -> None:
        invoice.created_at = datetime.now(UTC)
        self.rows.append(invoice)

    def list_for_customer(self, customer_number: str) -> list[model.Invoice]:
        mine = [i for i in self.rows if i.customer_number == customer_number]
        return sorted(mine, key=lambda i: (i.date, i.seq), reverse=True)


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.customers = FakeCustomers()
        self.invoices = FakeInvoices()
        self.mails = FakeMails()
        self.email_restores = FakeEmailRestores()
        self.committed = 0

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        self.committed += 1


def principal(kind: str, number: str | None = None) -> Principal:
    return Principal(
        kind=kind, subject=f"{kind}:{number or 'x'}", jti="j", generation=0, expires_at=0, issued_at=0,
        customer_number=number, package_id="pkg_1" if kind == "package" else None,
    )  # fmt: skip


STAFF = principal("staff")
SERVICE = principal("service")

MASTER = {
    "first_name": "Erika",
    "last_name": "Mustermann",
    "street": "Hauptstraße 1",
    "zip": "10115",
    "city": "Berlin",
    "email": "erika@example.com",
    "phone": "030 1234567",
}


def create(uow: FakeUnitOfWork, **kwargs) -> model.Customer:
    args = {"market": "de", "master_data": MASTER, "today": TODAY, **kwargs}
    return services.create_customer(uow=uow, **args)


def test_a_new_customer_gets_a_random_eight_digit_number_and_is_stored_normalised():
    uow = FakeUnitOfWork()
    customer = create(uow)
    assert len(customer.customer_number) == 8 and customer.customer_number[0] != "0"
    stored = uow.customers.rows[customer.customer_number]
    assert (stored.phone, stored.country, stored.status) == ("+49301234567", "DE", "active")
    assert uow.committed == 1


def test_staff_may_choose_a_free_customer_number_but_not_a_taken_one():
    uow = FakeUnitOfWork()
    assert create(uow, customer_number="4711").customer_number == "4711"
    with pytest.raises(AlreadyExists) as exc:
        create(uow, customer_number="4711")
    assert (exc.value.code, exc.value.field) == ("customer_number_taken", "customer_number")


def test_a_chosen_number_taken_concurrently_is_reported_as_taken():
    uow = FakeUnitOfWork()
    uow.customers.clash_once.add("4711")
    with pytest.raises(AlreadyExists) as exc:
        create(uow, customer_number="4711")
    assert exc.value.code == "customer_number_taken"


def test_a_random_number_taken_concurrently_is_drawn_again(monkeypatch):
    uow = FakeUnitOfWork()
    draws = iter(["11111111", "22222222"])
    monkeypatch.setattr(model, "new_customer_number", lambda: next(draws))
    uow.customers.clash_once.add("11111111")
    assert create(uow).customer_number == "22222222"


def test_a_chosen_number_must_be_digits():
    with pytest.raises(InvalidInput) as exc:
        create(FakeUnitOfWork(), customer_number="12-34")
    assert exc.value.field == "customer_number"


def test_create_with_payment_stores_the_checked_payment():
    uow = FakeUnitOfWork()
    customer = create(uow, payment=model.PaymentInput(iban="DE89 3704 0044 0532 0130 00"))
    assert uow.customers.rows[customer.customer_number].payment == model.Payment(
        method="sepa", iban="DE89370400440532013000", bic="COBADEFFXXX"
    )


def test_invalid_master_data_stores_nothing():
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidInput) as exc:
        create(uow, master_data={**MASTER, "zip": "1234"})
    assert exc.value.field == "zip"
    assert uow.customers.rows == {}


def test_a_customer_reads_its_own_record_whatever_number_it_asks_for():
    uow = FakeUnitOfWork()
    mine = create(uow, customer_number="100")
    create(uow, customer_number="200")
    got = services.get_customer(uow=uow, caller=principal("customer", "100"), customer_number="200")
    assert got.customer_number == mine.customer_number


def test_staff_and_service_name_the_customer_number():
    uow = FakeUnitOfWork()
    create(uow, customer_number="100")
    for caller in (STAFF, SERVICE):
        assert services.get_customer(uow=uow, caller=caller, customer_number="100").customer_number == "100"
        with pytest.raises(NotFound):
            services.get_customer(uow=uow, caller=caller, customer_number="999")
        with pytest.raises(InvalidInput) as exc:
            services.get_customer(uow=uow, caller=caller, customer_number="")
        assert exc.value.field == "customer_number"


def test_a_package_token_reaches_no_customer():
    uow = FakeUnitOfWork()
    create(uow, customer_number="100")
    with pytest.raises(Forbidden):
        services.get_customer(uow=uow, caller=principal("package", "100"), customer_number="100")


def test_a_customer_sets_its_own_payment_data():
    uow = FakeUnitOfWork()
    create(uow, customer_number="100")
    data = model.PaymentInput(card_token="tok_visa_abc123", card_last4="4242", card_expiry="12/27")
    customer = services.set_payment(
        uow=uow, caller=principal("customer", "100"), customer_number="200", payment=data, today=TODAY
    )
    assert customer.customer_number == "100"
    assert uow.customers.rows["100"].payment == model.Payment(
        method="card", card_token="tok_visa_abc123", card_last4="4242", card_expiry="12/27"
    )


def test_setting_empty_payment_data_is_refused():
    uow = FakeUnitOfWork()
    create(uow, customer_number="100")
    with pytest.raises(InvalidInput) as exc:
        services.set_payment(
            uow=uow, caller=STAFF, customer_number="100", payment=model.PaymentInput(), today=TODAY
        )
    assert exc.value.field == "payment"


def test_a_frozen_customer_cannot_change_payment_data_or_get_invoices():
    uow = FakeUnitOfWork()
    create(uow, customer_number="100")
    uow.customers.rows["100"].status = "frozen"
    with pytest.raises(Conflict) as exc:
        services.set_payment(
            uow=uow, caller=STAFF, customer_number="100",
            payment=model.PaymentInput(iban="DE89370400440532013000"), today=TODAY,
        )  # fmt: skip
    assert exc.value.code == "customer_not_active"
    with pytest.raises(Conflict):
        services.create_invoice(uow=uow, customer_number="100", amount_cents=100, today=TODAY)


def test_invoices_are_numbered_in_sequence_and_listed_newest_first():
    uow = FakeUnitOfWork()
    create(
        uow,
        customer_number="100",
        market="uk",
        master_data={**MASTER, "zip": "SW1A 1AA", "phone": "020 7946 0958"},
    )
    first = services.create_invoice(
        uow=uow, customer_number="100", amount_cents=1999, invoice_date="2026-01-01", today=TODAY
    )
    second = services.create_invoice(
        uow=uow, customer_number="100", amount_cents=500, status="paid", today=TODAY
    )
    assert (first.number, second.number) == ("RE00000001", "RE00000002")
    assert (first.currency, first.status, second.date) == ("GBP", "open", TODAY)
    listed = services.list_invoices(uow=uow, caller=principal("customer", "100"))
    assert [i.number for i in listed] == ["RE00000002", "RE00000001"]


def test_an_invoice_for_an_unknown_customer_is_not_found():
    with pytest.raises(NotFound):
        services.create_invoice(uow=FakeUnitOfWork(), customer_number="999", amount_cents=100, today=TODAY)


def test_a_customer_lists_only_its_own_invoices():
    uow = FakeUnitOfWork()
    create(uow, customer_number="100")
    create(uow, customer_number="200")
    services.create_invoice(uow=uow, customer_number="200", amount_cents=100, today=TODAY)
    assert services.list_invoices(uow=uow, caller=principal("customer", "100"), customer_number="200") == []
    assert len(services.list_invoices(uow=uow, caller=STAFF, customer_number="200")) == 1
    with pytest.raises(NotFound):
        services.list_invoices(uow=uow, caller=SERVICE, customer_number="999")
