"""Reading and writing customers and invoices; hides the session from the service layer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract_service.adapters.orm import CustomerRow, InvoiceRow, SequenceRow, utcnow
from contract_service.domain.model import MASTER_DATA_FIELDS, Customer, CustomerTaken, Invoice, Payment


def _customer(row: CustomerRow) -> Customer:
    payment = None
    if row.payment_method:
        payment = Payment(
            method=row.payment_method,
            iban=row.iban,
            bic=row.bic,
            card_token=row.card_token,
            card_last4=row.card_last4,
            card_expiry=row.card_expiry,
        )
    return Customer(
        customer_number=row.customer_number,
        market=row.market,
        status=row.status,
        payment=payment,
        created_at=row.created_at,
        updated_at=row.updated_at,
        **{name: getattr(row, name) for name in MASTER_DATA_FIELDS},
    )


def _payment_columns(payment: Payment | None) -> dict[str, str]:
    p = payment or Payment(method="")
    return {
        "payment_method": p.method,
        "iban": p.iban,
        "bic": p.bic,
        "card_token": p.card_token,
        "card_last4": p.card_last4,
        "card_expiry": p.card_expiry,
    }


def _invoice(row: InvoiceRow) -> Invoice:
    return Invoice(
        number=row.number,
        customer_number=row.customer_number,
        date=row.date,
        amount_cents=row.amount_cents,
        currency=row.currency,
        status=row.status,
        seq=row.seq,
        created_at=row.created_at,
    )


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, customer: Customer) -> None:
        now = utcnow()
        row = CustomerRow(
            customer_number=customer.customer_number,
            market=customer.market,
            status=customer.status,
            created_at=now,
            updated_at=now,
            **customer.master_data(),
            **_payment_columns(customer.payment),
        )
        self.session.add(row)
        try:
            self.session.flush()
        except IntegrityError:
            # Inserted by a concurrent call; the transaction is over, the caller may retry.
            self.session.rollback()
            raise CustomerTaken(customer.customer_number) from None
        customer.created_at = customer.updated_at = now

    def get(self, customer_number: str) -> Customer | None:
        row = self.session.get(CustomerRow, customer_number)
        return _customer(row) if row else None

    def exists(self, customer_number: str) -> bool:
        return bool(
            self.session.scalar(select(exists().where(CustomerRow.customer_number == customer_number)))
        )

    def set_payment(self, customer_number: str, payment: Payment | None) -> datetime:
        now = utcnow()
        self.session.execute(
            update(CustomerRow)
            .where(CustomerRow.customer_number == customer_number)
            .values(updated_at=now, **_payment_columns(payment))
        )
        return now


class InvoiceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_seq(self) -> int:
        """Takes the next invoice sequence value; the row lock serialises concurrent takers."""
        taken = self.session.scalar(
            update(SequenceRow)
            .where(SequenceRow.name == "invoice")
            .values(next_value=SequenceRow.next_value + 1)
            .returning(SequenceRow.next_value - 1)
        )
        if taken is None:  # first invoice ever (the migration seeds the row; this is a fallback)
            self.session.execute(insert(SequenceRow).values(name="invoice", next_value=2))
            return 1
        return int(taken)

    def add(self, invoice: Invoice) -> None:
        row = InvoiceRow(
            number=invoice.number,
            seq=invoice.seq,
            customer_number=invoice.customer_number,
            date=invoice.date,
            amount_cents=invoice.amount_cents,
            currency=invoice.currency,
            status=invoice.status,
        )
        self.session.add(row)
        self.session.flush()
        invoice.created_at = row.created_at

    def list_for_customer(self, customer_number: str) -> list[Invoice]:
        rows = self.session.scalars(
            select(InvoiceRow)
            .where(InvoiceRow.customer_number == customer_number)
            .order_by(InvoiceRow.date.desc(), InvoiceRow.seq.desc())
        )
        return [_invoice(r) for r in rows]
