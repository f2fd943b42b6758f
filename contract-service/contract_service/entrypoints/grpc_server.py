"""The gRPC servicer of contract-service: proto in, one service call, proto out."""

from __future__ import annotations

from cc_common.grpc_server import rpc
from cc_common.tokens import Principal
from customercenter.v1 import contract_pb2, contract_pb2_grpc

from contract_service.domain.model import MASTER_DATA_FIELDS, Customer, Invoice, PaymentInput
from contract_service.service_layer import services


def payment_to_proto(customer: Customer) -> contract_pb2.Payment:
    p = customer.payment
    if p is None:
        return contract_pb2.Payment()
    # Never the full IBAN or the card token.
    return contract_pb2.Payment(
        method=p.method,
        iban_masked=p.iban_masked,
        bic=p.bic,
        card_last4=p.card_last4,
        card_expiry=p.card_expiry,
    )


def customer_to_proto(customer: Customer) -> contract_pb2.Customer:
    return contract_pb2.Customer(
        customer_number=customer.customer_number,
        market=customer.market,
        payment=payment_to_proto(customer),
        status=customer.status,
        created_at=customer.created_at.isoformat() if customer.created_at else "",
        updated_at=customer.updated_at.isoformat() if customer.updated_at else "",
        **customer.master_data(),
    )


def invoice_to_proto(invoice: Invoice) -> contract_pb2.Invoice:
    return contract_pb2.Invoice(
        number=invoice.number,
        customer_number=invoice.customer_number,
        date=invoice.date.isoformat(),
        amount_cents=invoice.amount_cents,
        currency=invoice.currency,
        status=invoice.status,
        created_at=invoice.created_at.isoformat() if invoice.created_at else "",
    )


def payment_from_proto(message: contract_pb2.PaymentInput) -> PaymentInput:
    return PaymentInput(
        iban=message.iban,
        bic=message.bic,
        card_token=message.card_token,
        card_last4=message.card_last4,
        card_expiry=message.card_expiry,
    )


class ContractServicer(contract_pb2_grpc.ContractServiceServicer):
    def __init__(self, uow_factory) -> None:
        self._uow = uow_factory

    @rpc("staff")
    def CreateCustomer(self, request, context, caller: Principal):
        customer = services.create_customer(
            uow=self._uow(),
            market=request.market,
            master_data={name: getattr(request, name) for name in MASTER_DATA_FIELDS},
            payment=payment_from_proto(request.payment) if request.HasField("payment") else None,
            customer_number=request.customer_number,
        )
        return customer_to_proto(customer)

    @rpc("customer", "staff", "service")
    def GetCustomer(self, request, context, caller: Principal):
        customer = services.get_customer(
            uow=self._uow(), caller=caller, customer_number=request.customer_number
        )
        return customer_to_proto(customer)

    @rpc("customer", "staff")
    def SetPayment(self, request, context, caller: Principal):
        customer = services.set_payment(
            uow=self._uow(),
            caller=caller,
            customer_number=request.customer_number,
            payment=payment_from_proto(request.payment),
        )
        return customer_to_proto(customer)

    @rpc("staff")
    def CreateInvoice(self, request, context, caller: Principal):
        invoice = services.create_invoice(
            uow=self._uow(),
            customer_number=request.customer_number,
            amount_cents=request.amount_cents,
            currency=request.currency,
            status=request.status,
            invoice_date=request.date,
        )
        return invoice_to_proto(invoice)

    @rpc("customer", "staff", "service")
    def ListInvoices(self, request, context, caller: Principal):
        invoices = services.list_invoices(
            uow=self._uow(), caller=caller, customer_number=request.customer_number
        )
        return contract_pb2.InvoiceList(invoices=[invoice_to_proto(i) for i in invoices])
