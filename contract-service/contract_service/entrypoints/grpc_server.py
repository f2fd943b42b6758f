"""The gRPC servicer of contract-service: proto in, one service call, proto out.

Enums and Timestamps of the protos are mapped to the domain's names and datetimes here
(cc_common.protoconv); the domain does not know the protos."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from cc_common import notices
from cc_common.grpc_server import rpc
from cc_common.grpc_types import Context
from cc_common.protoconv import enum_name, enum_value, timestamp
from cc_common.tokens import Principal
from customercenter.v2 import common_pb2, contract_pb2, contract_pb2_grpc

from contract_service.domain.contact import ContactRequest
from contract_service.domain.direct_debit import DEMO_CREDITOR, CardPayments, Collection, Creditor
from contract_service.domain.forms import Form
from contract_service.domain.model import (
    MASTER_DATA_FIELDS,
    Contract,
    Customer,
    DebitRequest,
    Invoice,
    PaymentInput,
    Termination,
    current_term_end,
    mask_iban,
)
from contract_service.domain.offers import Offer
from contract_service.service_layer import contact, offers, payments, records, services
from contract_service.service_layer.unit_of_work import UnitOfWork


def _today() -> date:
    return datetime.now(UTC).date()


def payment_to_proto(customer: Customer) -> contract_pb2.Payment:
    p = customer.payment
    if p is None:
        return contract_pb2.Payment()
    # Never the full IBAN or the card token.
    return contract_pb2.Payment(
        method=enum_value(contract_pb2.PaymentMethod, p.method),
        iban_masked=p.iban_masked,
        bic=p.bic,
        card_last4=p.card_last4,
        card_expiry=p.card_expiry,
    )


def customer_to_proto(customer: Customer) -> contract_pb2.Customer:
    return contract_pb2.Customer(
        customer_number=customer.customer_number,
        market=enum_value(common_pb2.Market, customer.market),
        payment=payment_to_proto(customer),
        status=enum_value(common_pb2.CustomerStatus, customer.status),
        created_at=timestamp(customer.created_at),
        updated_at=timestamp(customer.updated_at),
        merged_into=customer.merged_into,
        language=customer.effective_language,
        language_preference=customer.language,
        **customer.master_data(),
    )


def invoice_to_proto(invoice: Invoice) -> contract_pb2.Invoice:
    return contract_pb2.Invoice(
        number=invoice.number,
        customer_number=invoice.customer_number,
        date=invoice.date.isoformat(),
        amount_cents=invoice.amount_cents,
        currency=invoice.currency,
        status=enum_value(contract_pb2.InvoiceStatus, invoice.status),
        created_at=timestamp(invoice.created_at),
        repeat_debit_requested=invoice.debit_requested_at is not None,
        repeat_debit_requested_at=timestamp(invoice.debit_requested_at),
        return_reason=invoice.return_reason,
    )


def contract_to_proto(contract: Contract, *, today: date) -> contract_pb2.Contract:
    return contract_pb2.Contract(
        id=contract.id,
        package_id=contract.package_id,
        customer_number=contract.customer_number,
        product=contract.product,
        start_date=contract.start_date.isoformat(),
        term_months=contract.term_months,
        status=enum_value(contract_pb2.ContractStatus, contract.status),
        created_at=timestamp(contract.created_at),
        current_term_end=current_term_end(contract.start_date, contract.term_months, today=today).isoformat(),
    )


def termination_to_proto(t: Termination, *, today: date) -> contract_pb2.Termination:
    return contract_pb2.Termination(
        id=t.id,
        customer_number=t.customer_number,
        package_id=t.package_id,
        domain=t.domain,
        addon_id=t.addon_id,
        contract_id=t.contract_id,
        product=t.product,
        effective_date=t.effective_date.isoformat(),
        status=enum_value(contract_pb2.TerminationStatus, t.shown_status(today=today)),
        created_at=timestamp(t.created_at),
        retracted_at=timestamp(t.retracted_at),
    )


def debit_to_proto(request: DebitRequest) -> contract_pb2.RepeatDebitResponse:
    return contract_pb2.RepeatDebitResponse(
        invoice_number=request.invoice_number,
        requested_at=timestamp(request.requested_at),
        status=enum_value(contract_pb2.DebitRequestStatus, request.status),
    )


def collection_to_proto(collection: Collection) -> contract_pb2.DirectDebitCollection:
    return contract_pb2.DirectDebitCollection(
        id=collection.id,
        created_at=timestamp(collection.created_at),
        collection_date=collection.collection_date.isoformat(),
        items=[
            contract_pb2.DirectDebitItem(
                invoice_number=i.invoice_number,
                customer_number=i.customer_number,
                amount_cents=i.amount_cents,
                currency=i.currency,
                iban_masked=mask_iban(i.iban),
                mandate_id=i.mandate_id,
            )  # fmt: skip
            for i in collection.items
        ],
    )


def offer_to_proto(offer: Offer) -> contract_pb2.Offer:
    return contract_pb2.Offer(
        id=offer.id, product=offer.product, price_cents=offer.price_cents, currency=offer.currency,
        markets=[enum_value(common_pb2.Market, m) for m in offer.markets], valid_from=offer.valid_from.isoformat(),
        valid_until=offer.valid_until.isoformat(),
    )  # fmt: skip


def contact_to_proto(request: ContactRequest) -> contract_pb2.ContactRequest:
    return contract_pb2.ContactRequest(
        id=request.id, customer_number=request.customer_number, package_id=request.package_id,
        subject=request.subject, message=request.message, filename=request.filename,
        created_at=timestamp(request.created_at),
        status=enum_value(contract_pb2.ContactRequestStatus, request.status), answer=request.answer,
        answered_at=timestamp(request.answered_at),
    )  # fmt: skip


def form_to_proto(form: Form) -> contract_pb2.Form:
    return contract_pb2.Form(
        id=form.id,
        title=form.title,
        description=form.description,
        mode=enum_value(contract_pb2.FormMode, form.mode),
        endpoint=form.endpoint,
        has_pdf=form.has_pdf,
    )


_UPDATABLE = (*MASTER_DATA_FIELDS, "language")


def payment_from_proto(message: contract_pb2.PaymentInput) -> PaymentInput:
    return PaymentInput(
        iban=message.iban,
        bic=message.bic,
        card_token=message.card_token,
        card_last4=message.card_last4,
        card_expiry=message.card_expiry,
    )


class ContractServicer(contract_pb2_grpc.ContractServiceServicer):
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        public_base_url: str = notices.DEFAULT_BASE_URL,
        on_mail: Callable[[], None] = lambda: None,
        cards: CardPayments | None = None,
        creditor: Creditor | None = None,
    ) -> None:
        self._uow = uow_factory
        self._cards = cards  # the card payment provider; None: none is configured
        self._creditor = creditor or DEMO_CREDITOR  # the SEPA creditor of the direct debit files
        self._public_base_url = public_base_url  # the base of the links in notices
        self._on_mail = on_mail  # wakes the outbox dispatcher after a change that queued a notice

    @rpc("staff")
    def CreateCustomer(
        self, request: contract_pb2.CreateCustomerRequest, context: Context, caller: Principal
    ) -> contract_pb2.CreateCustomerResponse:
        customer = services.create_customer(
            uow=self._uow(),
            market=enum_name(common_pb2.Market, request.market),
            master_data={name: getattr(request, name) for name in MASTER_DATA_FIELDS},
            payment=payment_from_proto(request.payment) if request.HasField("payment") else None,
            customer_number=request.customer_number,
        )
        return contract_pb2.CreateCustomerResponse(customer=customer_to_proto(customer))

    @rpc("customer", "staff", "service:gateway")
    def GetCustomer(
        self, request: contract_pb2.GetCustomerRequest, context: Context, caller: Principal
    ) -> contract_pb2.GetCustomerResponse:
        customer = services.get_customer(
            uow=self._uow(), caller=caller, customer_number=request.customer_number
        )
        return contract_pb2.GetCustomerResponse(customer=customer_to_proto(customer))

    @rpc("customer", "staff")
    def SetPayment(
        self, request: contract_pb2.SetPaymentRequest, context: Context, caller: Principal
    ) -> contract_pb2.SetPaymentResponse:
        customer = services.set_payment(
            uow=self._uow(),
            caller=caller,
            customer_number=request.customer_number,
            payment=payment_from_proto(request.payment),
        )
        self._on_mail()
        return contract_pb2.SetPaymentResponse(customer=customer_to_proto(customer))

    @rpc("staff")
    def CreateInvoice(
        self, request: contract_pb2.CreateInvoiceRequest, context: Context, caller: Principal
    ) -> contract_pb2.CreateInvoiceResponse:
        invoice = services.create_invoice(
            uow=self._uow(),
            customer_number=request.customer_number,
            amount_cents=request.amount_cents,
            currency=request.currency,
            status=enum_name(contract_pb2.InvoiceStatus, request.status),
            invoice_date=request.date,
        )
        return contract_pb2.CreateInvoiceResponse(invoice=invoice_to_proto(invoice))

    @rpc("customer", "staff")
    def ListInvoices(
        self, request: contract_pb2.ListInvoicesRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListInvoicesResponse:
        invoices = services.list_invoices(
            uow=self._uow(), caller=caller, customer_number=request.customer_number
        )
        return contract_pb2.ListInvoicesResponse(invoices=[invoice_to_proto(i) for i in invoices])

    @rpc("customer", "staff")
    def UpdateCustomer(
        self, request: contract_pb2.UpdateCustomerRequest, context: Context, caller: Principal
    ) -> contract_pb2.UpdateCustomerResponse:
        changes = {
            name: getattr(request, name)
            for name in _UPDATABLE
            if request.HasField(name)  # type: ignore[arg-type]  # each an optional field of the message
        }
        customer = services.update_customer(
            uow=self._uow(),
            caller=caller,
            customer_number=request.customer_number,
            changes=changes,
            base_url=self._public_base_url,
        )
        if "email" in changes:
            self._on_mail()
        return contract_pb2.UpdateCustomerResponse(customer=customer_to_proto(customer))

    @rpc("service:gateway")
    def RestoreCustomerEmail(
        self, request: contract_pb2.RestoreCustomerEmailRequest, context: Context, caller: Principal
    ) -> contract_pb2.RestoreCustomerEmailResponse:
        customer = services.restore_email(uow=self._uow(), token=request.token)
        return contract_pb2.RestoreCustomerEmailResponse(customer=customer_to_proto(customer))

    @rpc("service:merge")
    def GetCustomerSnapshot(
        self, request: contract_pb2.GetCustomerSnapshotRequest, context: Context, caller: Principal
    ) -> contract_pb2.GetCustomerSnapshotResponse:
        customer = services.customer_snapshot(uow=self._uow(), customer_number=request.customer_number)
        iban = customer.payment.iban if customer.payment else ""
        return contract_pb2.GetCustomerSnapshotResponse(customer=customer_to_proto(customer), iban=iban)

    @rpc("service:merge")
    def SetCustomerStatus(
        self,
        request: contract_pb2.ContractServiceSetCustomerStatusRequest,
        context: Context,
        caller: Principal,
    ) -> contract_pb2.ContractServiceSetCustomerStatusResponse:
        changed = services.set_customer_status(
            uow=self._uow(),
            merge_id=request.merge_id,
            customer_numbers=list(request.customer_numbers),
            status=enum_name(common_pb2.CustomerStatus, request.status),
            merged_into=request.merged_into,
        )
        return contract_pb2.ContractServiceSetCustomerStatusResponse(changed=changed)

    @rpc("service:merge")
    def TransferContracts(
        self, request: contract_pb2.TransferContractsRequest, context: Context, caller: Principal
    ) -> contract_pb2.TransferContractsResponse:
        moved = services.transfer_contracts(
            uow=self._uow(),
            merge_id=request.merge_id,
            source=request.source_customer_number,
            target=request.target_customer_number,
            reverse=request.reverse,
        )
        return contract_pb2.TransferContractsResponse(
            moved=[
                common_pb2.TransferredRecords(kind=enum_value(common_pb2.RecordKind, kind), ids=ids)
                for kind, ids in moved.items()
            ]
        )

    @rpc("staff", "service:gateway")
    def CreateContract(
        self, request: contract_pb2.CreateContractRequest, context: Context, caller: Principal
    ) -> contract_pb2.CreateContractResponse:
        contract = services.create_contract(
            uow=self._uow(),
            package_id=request.package_id,
            customer_number=request.customer_number,
            product=request.product,
            start_date=request.start_date,
            term_months=request.term_months,
        )
        return contract_pb2.CreateContractResponse(contract=contract_to_proto(contract, today=_today()))

    @rpc("staff", "service:gateway")
    def ChangeContractProduct(
        self, request: contract_pb2.ChangeContractProductRequest, context: Context, caller: Principal
    ) -> contract_pb2.ChangeContractProductResponse:
        contract, before, changed = services.change_contract_product(
            uow=self._uow(),
            caller=caller,
            package_id=request.package_id,
            product=request.product,
            customer_number=request.customer_number,
        )
        return contract_pb2.ChangeContractProductResponse(
            contract=contract_to_proto(contract, today=_today()), from_product=before, changed=changed
        )

    @rpc("customer", "staff")
    def ListContracts(
        self, request: contract_pb2.ListContractsRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListContractsResponse:
        contracts = services.list_contracts(
            uow=self._uow(), caller=caller, customer_number=request.customer_number
        )
        today = _today()
        return contract_pb2.ListContractsResponse(
            contracts=[contract_to_proto(c, today=today) for c in contracts]
        )

    @rpc("customer", "staff")
    def GetInvoicePdf(
        self, request: contract_pb2.GetInvoicePdfRequest, context: Context, caller: Principal
    ) -> contract_pb2.GetInvoicePdfResponse:
        filename, content = services.invoice_pdf(uow=self._uow(), caller=caller, number=request.number)
        document = contract_pb2.Document(filename=filename, content_type="application/pdf", content=content)
        return contract_pb2.GetInvoicePdfResponse(document=document)

    @rpc("customer")
    def RepeatDebit(
        self, request: contract_pb2.RepeatDebitRequest, context: Context, caller: Principal
    ) -> contract_pb2.RepeatDebitResponse:
        debit = payments.repeat_debit(
            uow=self._uow(), caller=caller, number=request.number, cards=self._cards
        )
        return debit_to_proto(debit)

    @rpc("customer")
    def CreateTermination(
        self, request: contract_pb2.CreateTerminationRequest, context: Context, caller: Principal
    ) -> contract_pb2.CreateTerminationResponse:
        termination = services.create_termination(
            uow=self._uow(),
            caller=caller,
            package_id=request.package_id,
            domain=request.domain,
            addon_id=request.addon_id,
        )
        return contract_pb2.CreateTerminationResponse(
            termination=termination_to_proto(termination, today=_today())
        )

    @rpc("customer", "staff")
    def ListTerminations(
        self, request: contract_pb2.ListTerminationsRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListTerminationsResponse:
        items = services.list_terminations(
            uow=self._uow(), caller=caller, customer_number=request.customer_number
        )
        today = _today()
        return contract_pb2.ListTerminationsResponse(
            terminations=[termination_to_proto(t, today=today) for t in items]
        )

    @rpc("customer")
    def RetractTermination(
        self, request: contract_pb2.RetractTerminationRequest, context: Context, caller: Principal
    ) -> contract_pb2.RetractTerminationResponse:
        termination = services.retract_termination(uow=self._uow(), caller=caller, termination_id=request.id)
        return contract_pb2.RetractTerminationResponse(
            termination=termination_to_proto(termination, today=_today())
        )

    @rpc("customer", "staff")
    def ListForms(
        self, request: contract_pb2.ListFormsRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListFormsResponse:
        return contract_pb2.ListFormsResponse(forms=[form_to_proto(f) for f in services.list_forms()])

    @rpc("customer", "staff")
    def GetFormPdf(
        self, request: contract_pb2.GetFormPdfRequest, context: Context, caller: Principal
    ) -> contract_pb2.GetFormPdfResponse:
        filename, content = services.form_pdf(uow=self._uow(), caller=caller, form_id=request.form_id)
        document = contract_pb2.Document(filename=filename, content_type="application/pdf", content=content)
        return contract_pb2.GetFormPdfResponse(document=document)

    # --- direct debit (contract_service/domain/direct_debit.py) ---

    @rpc("staff")
    def CreateDirectDebitCollection(
        self, request: contract_pb2.CreateDirectDebitCollectionRequest, context: Context, caller: Principal
    ) -> contract_pb2.CreateDirectDebitCollectionResponse:
        collection = payments.make_collection(uow=self._uow())
        return contract_pb2.CreateDirectDebitCollectionResponse(collection=collection_to_proto(collection))

    @rpc("staff")
    def ListDirectDebitCollections(
        self, request: contract_pb2.ListDirectDebitCollectionsRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListDirectDebitCollectionsResponse:
        collections = payments.list_collections(uow=self._uow())
        return contract_pb2.ListDirectDebitCollectionsResponse(
            collections=[collection_to_proto(c) for c in collections]
        )

    @rpc("staff")
    def GetDirectDebitFile(
        self, request: contract_pb2.GetDirectDebitFileRequest, context: Context, caller: Principal
    ) -> contract_pb2.GetDirectDebitFileResponse:
        filename, content = payments.collection_file(
            uow=self._uow(), collection_id=request.collection_id, creditor=self._creditor
        )
        document = contract_pb2.Document(filename=filename, content_type="application/xml", content=content)
        return contract_pb2.GetDirectDebitFileResponse(document=document)

    @rpc("staff")
    def MarkInvoicePaid(
        self, request: contract_pb2.MarkInvoicePaidRequest, context: Context, caller: Principal
    ) -> contract_pb2.MarkInvoicePaidResponse:
        invoice = payments.mark_paid(uow=self._uow(), caller=caller, number=request.number)
        return contract_pb2.MarkInvoicePaidResponse(invoice=invoice_to_proto(invoice))

    @rpc("staff")
    def MarkInvoiceReturned(
        self, request: contract_pb2.MarkInvoiceReturnedRequest, context: Context, caller: Principal
    ) -> contract_pb2.MarkInvoiceReturnedResponse:
        invoice = payments.mark_returned(
            uow=self._uow(), caller=caller, number=request.number, reason=request.reason
        )
        return contract_pb2.MarkInvoiceReturnedResponse(invoice=invoice_to_proto(invoice))

    # --- offers of the month (contract_service/domain/offers.py) ---

    @rpc("staff")
    def CreateOffer(
        self, request: contract_pb2.CreateOfferRequest, context: Context, caller: Principal
    ) -> contract_pb2.CreateOfferResponse:
        offer = offers.create_offer(
            uow=self._uow(), caller=caller, product=request.product, price_cents=request.price_cents,
            currency=request.currency, markets=[enum_name(common_pb2.Market, m) for m in request.markets],
            valid_from=request.valid_from, valid_until=request.valid_until,
        )  # fmt: skip
        return contract_pb2.CreateOfferResponse(offer=offer_to_proto(offer))

    @rpc("staff")
    def ListOffers(
        self, request: contract_pb2.ListOffersRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListOffersResponse:
        return contract_pb2.ListOffersResponse(
            offers=[offer_to_proto(o) for o in offers.list_offers(uow=self._uow())]
        )

    @rpc("customer")
    def ListCurrentOffers(
        self, request: contract_pb2.ListCurrentOffersRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListCurrentOffersResponse:
        current = offers.current_offers(uow=self._uow(), caller=caller)
        return contract_pb2.ListCurrentOffersResponse(offers=[offer_to_proto(o) for o in current])

    @rpc("customer")
    def OrderOffer(
        self, request: contract_pb2.OrderOfferRequest, context: Context, caller: Principal
    ) -> contract_pb2.OrderOfferResponse:
        order, _contract = offers.order_offer(
            uow=self._uow(), caller=caller, offer_id=request.offer_id, package_id=request.package_id
        )
        return contract_pb2.OrderOfferResponse(
            offer_id=order.offer_id, package_id=order.package_id, product=order.product,
            price_cents=order.price_cents, currency=order.currency, ordered_at=timestamp(order.ordered_at),
        )  # fmt: skip

    # --- contact requests (contract_service/domain/contact.py) ---

    @rpc("customer", "package")
    def CreateContactRequest(
        self, request: contract_pb2.CreateContactRequestRequest, context: Context, caller: Principal
    ) -> contract_pb2.CreateContactRequestResponse:
        created = contact.create_request(
            uow=self._uow(), caller=caller, subject=request.subject, message=request.message,
            filename=request.filename, attachment=request.attachment,
        )  # fmt: skip
        return contract_pb2.CreateContactRequestResponse(request=contact_to_proto(created))

    @rpc("staff")
    def ListContactRequests(
        self, request: contract_pb2.ListContactRequestsRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListContactRequestsResponse:
        listed = contact.list_requests(uow=self._uow())
        return contract_pb2.ListContactRequestsResponse(requests=[contact_to_proto(r) for r in listed])

    @rpc("customer")
    def ListCustomerRecords(
        self, request: contract_pb2.ListCustomerRecordsRequest, context: Context, caller: Principal
    ) -> contract_pb2.ListCustomerRecordsResponse:
        found = records.customer_records(uow=self._uow(), caller=caller)
        return contract_pb2.ListCustomerRecordsResponse(
            debit_requests=[
                contract_pb2.DebitRequest(
                    invoice_number=d.invoice_number,
                    requested_at=timestamp(d.requested_at),
                    status=enum_value(contract_pb2.DebitRequestStatus, d.status),
                )
                for d in found.debit_requests
            ],
            offer_orders=[
                contract_pb2.OfferOrder(
                    offer_id=o.offer_id,
                    package_id=o.package_id,
                    product=o.product,
                    price_cents=o.price_cents,
                    currency=o.currency,
                    ordered_at=timestamp(o.ordered_at),
                )  # fmt: skip
                for o in found.offer_orders
            ],
            contact_requests=[contact_to_proto(c) for c in found.contact_requests],
        )

    @rpc("staff")
    def GetContactAttachment(
        self, request: contract_pb2.GetContactAttachmentRequest, context: Context, caller: Principal
    ) -> contract_pb2.GetContactAttachmentResponse:
        filename, content = contact.attachment(uow=self._uow(), request_id=request.request_id)
        document = contract_pb2.Document(filename=filename, content_type="application/pdf", content=content)
        return contract_pb2.GetContactAttachmentResponse(document=document)

    @rpc("staff")
    def AnswerContactRequest(
        self, request: contract_pb2.AnswerContactRequestRequest, context: Context, caller: Principal
    ) -> contract_pb2.AnswerContactRequestResponse:
        answered = contact.answer_request(
            uow=self._uow(), request_id=request.request_id, message=request.message
        )
        self._on_mail()
        return contract_pb2.AnswerContactRequestResponse(request=contact_to_proto(answered))
